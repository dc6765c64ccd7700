// Host command builders are pure: their exact output is the contract with the server.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { appendStdin, readFile, sizeAndSha256, writeFileAtomic } from '../../src/freebsd/files';
import {
  cloneTemplate,
  copyResolvConf,
  destroyJailTree,
  jailEnableAtBoot,
  jailEnabledAtBoot,
  jailRunning,
  jailStart,
  jailStop,
  jexec,
  renderJailConf,
} from '../../src/freebsd/jail';
import { layout, otherSlot } from '../../src/freebsd/layout';
import { defaultInterface, PF_BEGIN, PF_END, renderPfBlock, withPfBlock } from '../../src/freebsd/network';
import { pkgAllInstalled, pkgInstall } from '../../src/freebsd/pkg';
import { q, raw, sh, unless } from '../../src/freebsd/sh';
import { parseHostFacts, sysrcAdd, sysrcHas, sysrcIs, sysrcSet } from '../../src/freebsd/system';
import { extractBase, fetchBase, templateReady } from '../../src/freebsd/template';
import { HOSTILE } from '../helpers/hostile';

const L = layout({ app: 'my_app', basePath: '/usr/local/jails', freebsdVersion: '14.3-RELEASE' });

describe('quoting', () => {
  test('q passes plainly safe values bare and single-quotes everything else', () => {
    assert.equal(q('my_app_blue'), 'my_app_blue');
    assert.equal(q('/usr/local/jails/x-1.2'), '/usr/local/jails/x-1.2');
    assert.equal(q(4000), '4000');
    assert.equal(q(''), "''");
    assert.equal(q("it's"), "'it'\\''s'");
    assert.equal(q('a b'), "'a b'");
    assert.equal(q('$(x)'), "'$(x)'");
  });

  test('every hostile value survives /bin/sh as exactly itself', () => {
    for (const v of HOSTILE) {
      const r = spawnSync('/bin/sh', ['-c', sh`printf %s ${v}`], { encoding: 'utf8' });
      assert.equal(r.status, 0, v);
      assert.equal(r.stdout, v, `round trip of ${JSON.stringify(v)}`);
    }
    const r = spawnSync('/bin/sh', ['-c', sh`printf '%s|' ${HOSTILE}`], { encoding: 'utf8' });
    assert.equal(r.stdout, HOSTILE.map((v) => `${v}|`).join(''), 'a list quotes each item');
  });

  test('jexec nests quoting correctly: the inner command is one argument', () => {
    const inner = sh`printf %s ${"it's $(x)"}`;
    const cmd = jexec('j', inner);
    assert.equal(cmd, `jexec -l j /bin/sh -c 'printf %s '\\''it'\\''\\'\\'''\\''s $(x)'\\'''`);
    // stand-in jexec that just runs its command: proves the nesting round-trips through two shells
    const r = spawnSync('/bin/sh', ['-c', `jexec() { shift 2; "$@"; }; ${cmd}`], { encoding: 'utf8' });
    assert.equal(r.stdout, "it's $(x)");
  });

  test('raw fragments and unless', () => {
    assert.equal(sh`a ${raw('$(date)')} ${'$(date)'}`, "a $(date) '$(date)'");
    assert.equal(unless('test -f x', 'touch x'), 'test -f x || { touch x; }');
  });
});

describe('jails', () => {
  test('layout names and paths', () => {
    assert.equal(L.jailName('blue'), 'my_app_blue');
    assert.equal(L.jailPath('green'), '/usr/local/jails/my_app_green');
    assert.equal(L.jailConf('build'), '/etc/jail.conf.d/my_app_build.conf');
    assert.equal(L.baseUrl, 'https://download.freebsd.org/releases/amd64/14.3-RELEASE/base.txz');
    assert.equal(L.templateDir, '/usr/local/jails/templates/14.3-RELEASE');
    assert.equal(otherSlot('blue'), 'green');
  });

  test('jail.conf.d entry', () => {
    const conf = renderJailConf({
      name: 'my_app_db',
      path: '/usr/local/jails/my_app_db',
      hostname: 'my_app_db',
      iface: 'lo1',
      ip: '10.0.0.4',
      params: { sysvshm: 'new', 'allow.raw_sockets': true },
      mounts: ['/var/db/pg /usr/local/jails/my_app_db/var/db/postgres nullfs rw 0 0'],
    });
    assert.equal(
      conf,
      `# Managed by alcaide; rewritten on every deploy.
my_app_db {
  path = "/usr/local/jails/my_app_db";
  host.hostname = "my_app_db";
  ip4.addr = "lo1|10.0.0.4/32";
  mount.devfs;
  devfs_ruleset = 4;
  exec.clean;
  exec.start = "/bin/sh /etc/rc";
  exec.stop = "/bin/sh /etc/rc.shutdown jail";
  exec.consolelog = "/var/log/jail_console_my_app_db.log";
  sysvshm = "new";
  allow.raw_sockets;
  mount += "/var/db/pg /usr/local/jails/my_app_db/var/db/postgres nullfs rw 0 0";
  persist;
}
`,
    );
    assert.throws(() => renderJailConf({ name: 'x', path: '/a";b', hostname: 'x', iface: 'lo1', ip: '10.0.0.2' }), /unsafe value for jail\.conf/);
    assert.throws(() => renderJailConf({ name: 'x', path: '/$HOME', hostname: 'x', iface: 'lo1', ip: '10.0.0.2' }), /unsafe value/);
  });

  test('lifecycle commands', () => {
    assert.equal(jailRunning('my_app_blue'), 'jls -j my_app_blue jid >/dev/null 2>&1');
    assert.equal(jailStart('my_app_blue', L.jailConf('blue')), 'jail -f /etc/jail.conf.d/my_app_blue.conf -c my_app_blue');
    assert.equal(jailStop('my_app_blue', L.jailConf('blue')), 'jail -f /etc/jail.conf.d/my_app_blue.conf -r my_app_blue');
    assert.equal(jailEnableAtBoot('my_app_blue'), 'sysrc -q jail_enable=YES jail_list+=my_app_blue >/dev/null');
    assert.equal(jailEnabledAtBoot('my_app_blue'), 'sysrc -c jail_enable=YES jail_list+=my_app_blue');
    assert.equal(
      cloneTemplate(L.templateDir, L.jailPath('blue')),
      'mkdir -p /usr/local/jails/my_app_blue && tar -cf - -C /usr/local/jails/templates/14.3-RELEASE . | tar -xpf - -C /usr/local/jails/my_app_blue',
    );
    assert.equal(
      destroyJailTree(L.jailPath('blue'), L.jailConf('blue')),
      `for m in $(mount -p | awk -v p=/usr/local/jails/my_app_blue/ 'index($2, p) == 1 { print $2 }' | sort -r); do umount -f "$m"; done; ` +
        `if [ -n "$(mount -p | awk -v p=/usr/local/jails/my_app_blue/ 'index($2, p) == 1 { print $2 }')" ]; then echo '/usr/local/jails/my_app_blue: file systems still mounted below it; not removed' >&2; exit 1; fi; ` +
        `if [ -e /usr/local/jails/my_app_blue ]; then chflags -R noschg /usr/local/jails/my_app_blue && rm -rf /usr/local/jails/my_app_blue; fi && rm -f /etc/jail.conf.d/my_app_blue.conf`,
    );
    assert.equal(copyResolvConf(L.jailPath('build')), 'if [ -f /etc/resolv.conf ]; then cp /etc/resolv.conf /usr/local/jails/my_app_build/etc/resolv.conf; fi');
  });
});

describe('files, template, packages, sysrc', () => {
  test('atomic writes take content on stdin', () => {
    assert.equal(
      writeFileAtomic('/usr/local/jails/my_app_blue/usr/local/etc/my_app.env', '0600'),
      `(t= && trap 'rm -f "$t"' EXIT && trap 'exit 1' HUP INT TERM PIPE && umask 077 && mkdir -p "$(dirname /usr/local/jails/my_app_blue/usr/local/etc/my_app.env)" && t=$(mktemp /usr/local/jails/my_app_blue/usr/local/etc/my_app.env.XXXXXX) && cat > "$t" && chmod 0600 "$t" && mv -f "$t" /usr/local/jails/my_app_blue/usr/local/etc/my_app.env)`,
    );
    assert.equal(readFile('/etc/pf.conf'), 'if [ -f /etc/pf.conf ]; then cat /etc/pf.conf; else exit 3; fi');
    assert.equal(sizeAndSha256('/tmp/a b'), `if [ -f '/tmp/a b' ]; then printf '%s %s\\n' "$(stat -f %z '/tmp/a b')" "$(sha256 -q '/tmp/a b')"; fi`);
    assert.equal(appendStdin('/tmp/x.part'), 'mkdir -p "$(dirname /tmp/x.part)" && cat >> /tmp/x.part');
  });

  test('the atomic write really is atomic and exact under /bin/sh', () => {
    const dir = spawnSync('mktemp', ['-d'], { encoding: 'utf8' }).stdout.trim();
    const file = `${dir}/sub/app.env`;
    const content = HOSTILE.join('\n');
    const r = spawnSync('/bin/sh', ['-c', writeFileAtomic(file, '0600')], { input: content, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(spawnSync('cat', [file], { encoding: 'utf8' }).stdout, content);
    assert.equal(spawnSync('stat', ['-c', '%a', file], { encoding: 'utf8' }).stdout.trim(), '600');
    assert.equal(spawnSync('sh', ['-c', `ls ${dir}/sub | wc -l`], { encoding: 'utf8' }).stdout.trim(), '1', 'no temp file left');
    spawnSync('rm', ['-rf', dir]);
  });

  test('base template: fetch verified against MANIFEST, extracted into place atomically', () => {
    assert.equal(templateReady(L), '[ -f /usr/local/jails/templates/14.3-RELEASE/.alcaide-template ]');
    const f = fetchBase(L);
    assert.ok(
      f.startsWith(
        'mkdir -p /usr/local/jails/media && fetch -q -o /usr/local/jails/media/14.3-RELEASE-amd64-base.txz.MANIFEST https://download.freebsd.org/releases/amd64/14.3-RELEASE/MANIFEST && ',
      ),
    );
    assert.ok(f.includes(`want=$(awk '$1 == "base.txz" { print $2 }' /usr/local/jails/media/14.3-RELEASE-amd64-base.txz.MANIFEST)`));
    assert.ok(f.endsWith('mv -f /usr/local/jails/media/14.3-RELEASE-amd64-base.txz.part /usr/local/jails/media/14.3-RELEASE-amd64-base.txz'));
    assert.equal(
      extractBase(L, '14.3-RELEASE'),
      'if [ -e /usr/local/jails/templates/14.3-RELEASE.tmp ]; then chflags -R noschg /usr/local/jails/templates/14.3-RELEASE.tmp && rm -rf /usr/local/jails/templates/14.3-RELEASE.tmp; fi && mkdir -p /usr/local/jails/templates/14.3-RELEASE.tmp && tar -xf /usr/local/jails/media/14.3-RELEASE-amd64-base.txz -C /usr/local/jails/templates/14.3-RELEASE.tmp && echo 14.3-RELEASE > /usr/local/jails/templates/14.3-RELEASE.tmp/.alcaide-template && mv /usr/local/jails/templates/14.3-RELEASE.tmp /usr/local/jails/templates/14.3-RELEASE',
    );
  });

  test('pkg and sysrc', () => {
    assert.equal(pkgAllInstalled(['elixir', 'git'], 'my_app_build'), 'pkg -j my_app_build info -e elixir && pkg -j my_app_build info -e git');
    assert.equal(pkgInstall(['caddy']), 'env ASSUME_ALWAYS_YES=yes pkg install -y caddy');
    assert.equal(pkgInstall(['elixir', 'npm-node22'], 'my_app_build'), 'env ASSUME_ALWAYS_YES=yes pkg -j my_app_build install -y elixir npm-node22');
    assert.equal(sysrcIs('caddy_enable', 'YES'), 'sysrc -c caddy_enable=YES');
    assert.equal(sysrcSet('cloned_interfaces', 'lo1'), 'sysrc cloned_interfaces=lo1');
    assert.equal(sysrcHas('cloned_interfaces', 'lo1'), 'sysrc -c cloned_interfaces+=lo1');
    assert.equal(sysrcAdd('jail_list', 'my_app_blue'), 'sysrc jail_list+=my_app_blue');
    assert.equal(sysrcSet('x', 'a b'), "sysrc 'x=a b'");
  });

  test('host facts', () => {
    assert.deepEqual(parseHostFacts('FreeBSD 14.3-RELEASE amd64\n'), { os: 'FreeBSD', release: '14.3-RELEASE', major: 14, arch: 'amd64' });
    assert.deepEqual(parseHostFacts('FreeBSD 14.2-RELEASE-p3 arm64'), { os: 'FreeBSD', release: '14.2-RELEASE-p3', major: 14, arch: 'arm64' });
    assert.equal(parseHostFacts('Linux'), undefined);
  });
});

describe('pf', () => {
  const block = renderPfBlock('vtnet0', ['10.0.0.0/24']);
  test('the NAT block', () => {
    assert.equal(block, `${PF_BEGIN}\nnat on vtnet0 from 10.0.0.0/24 to any -> (vtnet0)\n${PF_END}`);
    assert.equal(defaultInterface(), `route -n get default | awk '/interface:/ { print $2 }'`);
  });
  test('every app on the host has its subnet NATed', () => {
    assert.equal(
      renderPfBlock('vtnet0', ['10.0.0.0/24', '10.0.1.0/24']),
      `${PF_BEGIN}\nnat on vtnet0 from 10.0.0.0/24 to any -> (vtnet0)\nnat on vtnet0 from 10.0.1.0/24 to any -> (vtnet0)\n${PF_END}`,
    );
  });
  test('an empty pf.conf gets the block and pass all', () => {
    assert.equal(withPfBlock('', block), `${block}\npass all\n`);
  });
  test('inserted before the first filter rule (pf enforces translation before filtering)', () => {
    const existing = 'ext_if = "vtnet0"\nset skip on lo0\nscrub in all\nblock in all\npass out all\n';
    assert.equal(withPfBlock(existing, block), `ext_if = "vtnet0"\nset skip on lo0\nscrub in all\n${block}\nblock in all\npass out all\n`);
  });
  test('an existing block is replaced in place, once', () => {
    const once = withPfBlock('block in all\n', block);
    const other = renderPfBlock('em0', ['10.1.0.0/24']);
    const twice = withPfBlock(once, other);
    assert.equal(twice, `${other}\nblock in all\n`);
    assert.equal(withPfBlock(twice, other), twice, 'idempotent');
  });
});
