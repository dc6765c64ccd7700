// End-to-end tests of the simulated FreeBSD 14 host itself (one host, shared by the tests below).
// Run: cd /work/main && npx tsc -p . && node --test dist/test/simhost/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { asHostUser, canRunSimHosts, readCommandLog, sshRun, startSimHosts, SimHost, SimHosts, SshResult } from './index';
import { destroyJailTree } from '../../src/freebsd/jail';
import { hideJailsFromHostUsers } from '../../src/freebsd/jailPrivacy';
import { script } from '../../src/freebsd/sh';

// Each test sets up the host state it asserts on (the host itself is shared).
const skip = canRunSimHosts() ? false : 'needs root on Linux (network + mount namespaces)';
let sim: SimHosts;
let h: SimHost;

const BASE = 'https://download.freebsd.org/releases/amd64/14.3-RELEASE';

async function sh(cmd: string, opts: { input?: string; timeoutMs?: number } = {}): Promise<SshResult> {
  return sshRun(h, cmd, opts);
}

async function ok(cmd: string): Promise<string> {
  const r = await sh(cmd);
  assert.equal(r.code, 0, `command failed (${r.code}): ${cmd}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/** Extract base.txz into a new jail root (checksum verified against MANIFEST like bsdinstall). */
async function makeJailRoot(name: string): Promise<string> {
  const path = `/usr/local/jails/${name}`;
  await ok(
    `mkdir -p ${path} && cd /tmp && ` +
      `{ [ -f /tmp/base.txz ] || fetch -q -o /tmp/base.txz ${BASE}/base.txz; } && ` +
      `fetch -q -o /tmp/MANIFEST ${BASE}/MANIFEST && ` +
      `[ "$(sha256 -q /tmp/base.txz)" = "$(awk '$1 == "base.txz" {print $2}' /tmp/MANIFEST)" ] && ` +
      `tar -xf /tmp/base.txz -C ${path} && cp /etc/resolv.conf ${path}/etc/resolv.conf`,
  );
  return path;
}

before(async () => {
  if (skip) return;
  sim = await startSimHosts({ hosts: 1 });
  h = sim.hosts[0];
});

after(async () => {
  if (sim) await sim.down();
});

test('ssh login: FreeBSD identity, /bin/sh with a clean root environment, latency', { skip }, async (t) => {
  const out = await ok(
    'uname -a; uname -s; uname -r; uname -m; freebsd-version; sysctl -n kern.osrelease; ' + 'echo "shell=$0"; env | sort; readlink /proc/$$/exe',
  );
  assert.match(out, /^FreeBSD fbsd1 14\.3-RELEASE .* amd64$/m);
  assert.match(out, /^FreeBSD\n14\.3-RELEASE\namd64\n14\.3-RELEASE\n14\.3-RELEASE\n/m);
  assert.match(out, /^shell=sh$/m); // sshd runs the shell as argv[0]=basename
  assert.match(out, /^PATH=\/sbin:\/bin:\/usr\/sbin:\/usr\/bin:\/usr\/local\/sbin:\/usr\/local\/bin:\/root\/bin$/m);
  assert.match(out, /^SHELL=\/bin\/sh$/m);
  assert.match(out, /^HOME=\/root$/m);
  assert.doesNotMatch(out, /BASH|PYENV|NODE_|npm_/);
  assert.doesNotMatch(out, /bash$/m);
  // latency of a full OpenSSH connection + `true`
  const times: number[] = [];
  for (let i = 0; i < 8; i++) {
    const r = await sh('true');
    assert.equal(r.code, 0);
    times.push(r.ms);
  }
  times.sort((a, b) => a - b);
  t.diagnostic(`ssh ... true: median ${times[4]} ms, min ${times[0]} ms, max ${times[7]} ms (new connection each)`);
  t.diagnostic(`host up in ${h.upSeconds}s (controller total ${sim.upSeconds}s)`);
  assert.ok(times[4] < 2000);
});

test('jail lifecycle: create, start, jexec, stop, destroy (jail.conf.d + rc.d/jail)', { skip }, async () => {
  const path = await makeJailRoot('life');
  await ok(`sysrc cloned_interfaces+=lo1 && { ifconfig lo1 >/dev/null 2>&1 || ifconfig lo1 create; } && sysrc jail_enable=YES && sysrc jail_list+=life`);
  await ok(`cat > /etc/jail.conf.d/life.conf <<'EOF'
life {
    path = "/usr/local/jails/$name";
    host.hostname = "$name.example";
    ip4.addr = "lo1|10.0.1.10/32";
    mount.devfs;
    exec.clean;
    exec.start = "/bin/sh /etc/rc";
    exec.stop = "/bin/sh /etc/rc.shutdown";
    exec.poststart = "touch /tmp/life.poststart";
    exec.poststop = "touch /tmp/life.poststop";
    persist;
}
EOF`);
  assert.equal(await ok('service jail start life'), 'Starting jails: life.\n');
  assert.equal((await ok('jls -j life name host.hostname ip4.addr path')).trim(), `life life.example 10.0.1.10 ${path}`);
  assert.match(await ok('cat /var/run/jail_life.id'), /^\d+\n$/);
  assert.match(await ok('ls /tmp/life.poststart && ifconfig lo1'), /inet 10\.0\.1\.10 netmask 0xffffffff/);
  // jexec: chroot + own hostname + own network; host userland is read-only inside
  assert.equal((await ok('jexec life hostname')).trim(), 'life.example');
  assert.match(await ok('jexec -l life env'), /^PATH=\/sbin:\/bin:\/usr\/sbin:\/usr\/bin:\/usr\/local\/sbin:\/usr\/local\/bin:\/root\/bin$/m);
  assert.match(await ok('jexec life ls /dev'), /^null$/m);
  assert.equal((await ok('jexec life sh -c "echo jailed > /root/note; cat /root/note; sysctl -n security.jail.jailed"')).trim(), 'jailed\n1');
  assert.equal((await ok(`cat ${path}/root/note`)).trim(), 'jailed');
  const ro = await sh('jexec life touch /usr/bin/x');
  assert.notEqual(ro.code, 0);
  assert.match(ro.stderr, /Read-only file system/);
  // a long-running process inside the jail must be killed by the stop
  await ok('jexec life daemon -f -p /var/run/sleeper.pid sleep 600');
  const pid = (await ok(`cat ${path}/var/run/sleeper.pid`)).trim();
  assert.match(pid, /^\d+$/);
  assert.equal((await ok('service jail stop life')).trim(), 'Stopping jails: life.');
  const gone = await sh('jls -j life');
  assert.equal(gone.code, 1);
  assert.equal(gone.stderr, 'jls: jail "life" not found\n');
  assert.equal((await sh(`kill -0 ${pid}`)).code, 1, 'jail process survived jail removal');
  await ok('ls /tmp/life.poststop');
  const leftovers = await ok('mount; ifconfig lo1');
  assert.doesNotMatch(leftovers, /life|10\.0\.1\.10/);
  // destroy (base.txz holds schg files: rm -rf alone is refused)
  await ok(`chflags -R noschg ${path} && rm -rf ${path} && rm /etc/jail.conf.d/life.conf && sysrc jail_list-=life`);
  assert.equal((await sh(`test -e ${path}`)).code, 1, 'jail root removed');
  assert.doesNotMatch(await ok('sysrc -n jail_list'), /\blife\b/);
});

test('two jails listen on the same port on different IPs; host reaches both; 127.0.0.1 in a jail', { skip }, async () => {
  await makeJailRoot('blue');
  await makeJailRoot('green');
  await ok('ifconfig lo1 >/dev/null 2>&1 || ifconfig lo1 create');
  for (const [name, ip] of [
    ['blue', '10.0.1.2'],
    ['green', '10.0.1.3'],
  ] as const) {
    await ok(
      `jail -c name=${name} path=/usr/local/jails/${name} host.hostname=${name} ip4.addr="lo1|${ip}/32" ` + `mount.devfs persist allow.raw_sockets exec.clean`,
    );
    await ok(
      `jexec ${name} sh -c 'mkdir -p /srv && echo ${name} > /srv/index.html' && ` +
        `jexec ${name} daemon -f -P /var/run/web.pid -r /usr/bin/python3 -m http.server -b 0.0.0.0 -d /srv 4000`,
    );
  }
  const out = await ok(
    'for i in 1 2 3 4 5 6 7 8 9 10; do ' +
      'curl -sf http://10.0.1.2:4000/ >/dev/null && curl -sf http://10.0.1.3:4000/ >/dev/null && break; sleep 0.2; done; ' +
      'curl -s http://10.0.1.2:4000/; curl -s http://10.0.1.3:4000/; ' +
      'jexec blue curl -s http://127.0.0.1:4000/; jexec green curl -s http://127.0.0.1:4000/; ' +
      'jexec blue curl -s http://10.0.1.3:4000/',
  );
  assert.equal(out, 'blue\ngreen\nblue\ngreen\ngreen\n');
  // IPv4-only jails have no IPv6 (FreeBSD: socket(AF_INET6) -> EPROTONOSUPPORT)
  const v6 = await sh('jexec blue python3 -c "import socket; socket.socket(socket.AF_INET6)"');
  assert.equal(v6.code, 1);
  assert.match(v6.stderr, /\[Errno 93\] Protocol not supported/);
  // the jail addresses are not configured in the host's own namespace
  const hostIps = await ok('ip -4 -o addr show');
  assert.doesNotMatch(hostIps, /10\.0\.1\.[23]/);
  assert.equal((await ok('jls name ip4.addr')).trim(), 'blue 10.0.1.2\ngreen 10.0.1.3');
  await ok('jail -r blue && jail -r green');
  assert.doesNotMatch(await ok('jls name'), /^(blue|green)$/m);
});

test('Erlang VM runs in a jail: own hostname, IPv4 listen works, IPv6 listen fails like FreeBSD', { skip }, async () => {
  await makeJailRoot('beam');
  await ok('ifconfig lo1 >/dev/null 2>&1 || ifconfig lo1 create');
  await ok('jail -c name=beam path=/usr/local/jails/beam host.hostname=beam ip4.addr="lo1|10.0.1.40/32" mount.devfs persist');
  const out = await ok(
    "jexec -l beam erl -noshell -eval '{ok, H} = inet:gethostname(), " +
      'io:format("~s ~p ~p~n", [H, element(1, gen_tcp:listen(4100, [inet])), gen_tcp:listen(4101, [inet6])]), halt().\' </dev/null',
  );
  assert.equal(out, 'beam ok {error,eprotonosupport}\n');
  await ok('jail -r beam && umount /usr/local/jails/beam/dev');
});

test('Caddy from pkg + sysrc + service proxies to a jail', { skip }, async () => {
  await makeJailRoot('app');
  await ok('ifconfig lo1 >/dev/null 2>&1 || ifconfig lo1 create');
  await ok('jail -c name=app path=/usr/local/jails/app host.hostname=app ip4.addr="lo1|10.0.1.20/32" mount.devfs persist');
  await ok(
    `jexec app sh -c 'mkdir -p /srv && echo hello-from-app > /srv/index.html' && ` +
      `jexec app daemon -f -p /var/run/app.pid /usr/bin/python3 -m http.server -b 0.0.0.0 -d /srv 4000`,
  );
  // from a host without Caddy
  await ok('if pkg info -e caddy; then service caddy onestop >/dev/null 2>&1; pkg delete -qy caddy >/dev/null; fi; sysrc -q -x caddy_enable 2>/dev/null; true');
  assert.equal((await sh('pkg info -e caddy')).code, 1);
  assert.notEqual((await sh('command -v caddy')).code, 0, "no caddy before pkg install (Debian's is hidden)");
  const inst = await ok('pkg install -y caddy');
  assert.match(inst, /Installing caddy-/);
  assert.equal((await sh('pkg info -e caddy')).code, 0);
  assert.match(await ok('pkg install -y caddy'), /The most recent versions of packages are already installed/);
  // not enabled yet: FreeBSD's exact message and exit 0
  const notEnabled = await sh('service caddy start');
  assert.equal(notEnabled.code, 0);
  assert.equal(notEnabled.stdout, "Cannot 'start' caddy. Set caddy_enable to YES in /etc/rc.conf or use 'onestart' instead of 'start'.\n");
  assert.equal(await ok('sysrc caddy_enable=YES'), 'caddy_enable:  -> YES\n');
  await ok(`cat > /usr/local/etc/caddy/Caddyfile <<'EOF'
:80 {
	reverse_proxy 10.0.1.20:4000 {
		lb_try_duration 5s
	}
}
EOF`);
  assert.match(await ok('service caddy start'), /Starting caddy\.\.\. done/);
  assert.match(await ok('service caddy status'), /^caddy is running as pid \d+\.$/m);
  assert.equal(await ok('curl -s --retry 5 --retry-connrefused http://127.0.0.1/'), 'hello-from-app\n');
  // the package's version is the binary's own (the pinned build: scripts/build-caddy.sh)
  const v = (await ok('caddy version')).split(/\s/)[0].replace(/^v/, '');
  assert.match(await ok('pkg info caddy'), new RegExp(`^Version +: ${v.replace(/\./g, '\\.')}$`, 'm'));
  // the admin API is the port's unix socket (rc.d exports CADDY_ADMIN, which Caddy >= 2.7 reads),
  // not localhost:2019; Debian's 2.6.2 (the fallback when the pinned build is missing) ignores it
  const [maj, min] = v.split('.').map(Number);
  if (maj > 2 || min >= 7) {
    assert.match(await ok('curl -s --unix-socket /var/run/caddy/caddy.sock http://localhost/config/'), /reverse_proxy/);
    assert.notEqual((await sh('curl -s http://localhost:2019/config/')).code, 0);
  } else {
    assert.match(await ok('curl -s http://localhost:2019/config/'), /reverse_proxy/);
  }
  const again = await sh('service caddy start');
  assert.equal(again.code, 1);
  assert.match(again.stderr, /caddy already running\?/);
  // reachable from outside the host too (root namespace -> host veth -> Caddy -> jail)
  const r = await httpGet(`http://${h.host}/`);
  assert.equal(r.status, 200);
  assert.equal(r.body, 'hello-from-app\n');
  await ok(
    `sed -i '' -e 's/10.0.1.20:4000/10.0.1.20:4001/' /usr/local/etc/caddy/Caddyfile && ` +
      'grep -q 4001 /usr/local/etc/caddy/Caddyfile && service caddy reload',
  );
  await ok('service caddy stop && jail -r app');
  assert.equal((await sh('service caddy status')).code, 1);
});

test('wrong commands fail like FreeBSD (message + exit code)', { skip }, async () => {
  await makeJailRoot('strict');
  await ok('ifconfig lo1 >/dev/null 2>&1 || ifconfig lo1 create');
  await ok('jail -c name=strict path=/usr/local/jails/strict persist');
  await ok(
    `printf 'hello\\n' > /root/f && printf 'pass all\\nnat on vtnet0 from any to any -> (vtnet0)\\n' > /root/order.conf && ` +
      `printf 'ext_if = "vtnet0"\\npass in on $ext_if\\nfrobnicate all\\n' > /root/garbage.conf && kldload -n pf`,
  );
  const cases: Array<{ cmd: string; code: number; err?: string | RegExp; out?: string | RegExp }> = [
    { cmd: 'jail -c name=x path=/usr/local/jails/strict persist foo=bar', code: 1, err: 'jail: unknown parameter: foo\n' },
    { cmd: 'jail -c name=x path=/usr/local/jails/strict persist=maybe', code: 1, err: 'jail: persist: unknown boolean value "maybe"\n' },
    { cmd: 'jail -c name=strict path=/usr/local/jails/strict persist', code: 1, err: 'jail: "strict" already exists\n' },
    { cmd: 'jail -c name=y path=/nonexistent persist', code: 1, err: 'jail: path /nonexistent: No such file or directory\n' },
    { cmd: 'jail -c name=y path=/usr/local/jails/strict ip4.addr=10.0.0.300 persist', code: 1, err: 'jail: ip4.addr: not an IPv4 address: 10.0.0.300\n' },
    {
      cmd: 'jail -c name=y path=/usr/local/jails/strict ip4.addr="lo7|10.0.7.1/32" persist',
      code: 1,
      err: 'ifconfig: interface lo7 does not exist\njail: /sbin/ifconfig lo7 inet 10.0.7.1/32 alias: failed\n',
    },
    { cmd: 'jail -r nosuch', code: 1, err: 'jail: "nosuch" not found\n' },
    { cmd: 'jail -c nosuch', code: 1, err: 'jail: /etc/jail.conf: No such file or directory\n' },
    { cmd: 'jexec nosuch true', code: 1, err: 'jexec: jail "nosuch" not found\n' },
    { cmd: 'jexec strict /no/such/binary', code: 1, err: 'jexec: execvp: /no/such/binary: No such file or directory\n' },
    { cmd: 'jls -j nosuch', code: 1, err: 'jls: jail "nosuch" not found\n' },
    { cmd: 'jls -j strict exec.start', code: 1, err: 'jls: unknown parameter: exec.start\n' },
    { cmd: 'tar --transform s/a/b/ -cf /tmp/x.tar /etc/rc.conf', code: 1, err: /^tar: Option --transform is not supported\nUsage:/ },
    { cmd: "tar --wildcards -xf /tmp/base.txz '*.conf'", code: 1, err: /^tar: Option --wildcards is not supported\n/ },
    { cmd: "sed -i 's/hello/bye/' /root/f", code: 1, err: 'sed: 1: "/root/f": invalid command code f\n' },
    { cmd: "echo a | sed -i '' s/a/b/", code: 1, err: 'sed: -I or -i may not be used with stdin\n' },
    { cmd: 'stat -c %s /etc/rc.conf', code: 1, err: /^stat: illegal option -- c\nusage: stat / },
    { cmd: 'pkg install -y nosuchpkg', code: 1, err: "pkg: No packages available to install matching 'nosuchpkg' have been found in the repositories\n" },
    { cmd: 'fetch -o /tmp/x https://example.com/x.txz', code: 1, err: 'fetch: https://example.com/x.txz: No address record\n' },
    { cmd: `fetch -o /tmp/x ${BASE}/nosuch.txz`, code: 1, err: `fetch: ${BASE}/nosuch.txz: Not Found\n` },
    { cmd: 'sysrc nosuch_var', code: 1, err: "sysrc: unknown variable 'nosuch_var'\n" },
    { cmd: 'sysrc na-me=1', code: 1, err: 'sysrc: na-me: name contains characters not allowed in shell\n' },
    { cmd: 'ifconfig lo1 create', code: 1, err: 'ifconfig: interface lo1 already exists\n' },
    { cmd: 'ifconfig lo9 destroy', code: 1, err: 'ifconfig: interface lo9 does not exist\n' },
    { cmd: 'ifconfig lo1 -alias 10.9.9.9', code: 1, err: "ifconfig: ioctl (SIOCDIFADDR): Can't assign requested address\n" },
    { cmd: 'pfctl -e; pfctl -e', code: 1, err: 'pf enabled\npfctl: pf already enabled\n' },
    { cmd: 'pfctl -d; pfctl -d', code: 1, err: 'pf disabled\npfctl: pf not enabled\n' },
    {
      cmd: 'pfctl -nf /root/order.conf',
      code: 1,
      err: '/root/order.conf:2: Rules must be in order: options, normalization, queueing, translation, filtering\n',
    },
    { cmd: 'pfctl -nf /root/garbage.conf', code: 1, err: '/root/garbage.conf:3: syntax error\n' },
    { cmd: 'kldload pf', code: 1, err: "kldload: can't load pf: module already loaded or in kernel\n" },
    {
      cmd: 'service nosuch start',
      code: 1,
      out: 'nosuch does not exist in /etc/rc.d or the local startup\ndirectories (/usr/local/etc/rc.d), or is not executable\n',
    },
    {
      cmd: 'service pf frobnicate',
      code: 1,
      err: /^\/etc\/rc\.d\/pf: unknown directive 'frobnicate'\.\nUsage: \/etc\/rc\.d\/pf \[fast\|force\|one\|quiet\]\(start\|stop/,
    },
    { cmd: 'daemon -f -P /tmp/d.pid sleep 60; daemon -f -P /tmp/d.pid sleep 60', code: 3, err: /^daemon: process already running, pid: \d+\n$/ },
    { cmd: 'mktemp -t', code: 1, err: /^mktemp: option requires an argument -- t\nusage: mktemp / },
    { cmd: 'uname -z', code: 1, err: 'uname: illegal option -- z\nusage: uname [-abiKmnoprsUv]\n' },
    { cmd: 'sha256 -q /nonexistent', code: 1, err: 'sha256: /nonexistent: No such file or directory\n' },
    { cmd: 'pkg -j nosuch install -y git', code: 1, err: 'pkg: jail "nosuch" not found\n' },
    { cmd: 'sysrc -j nosuch foo=1', code: 1, err: 'jexec: jail "nosuch" not found\n' },
  ];
  assert.ok(cases.length >= 15);
  for (const c of cases) {
    const r = await sh(c.cmd);
    const where = `${c.cmd}\n  -> code ${r.code}\n  stdout: ${JSON.stringify(r.stdout)}\n  stderr: ${JSON.stringify(r.stderr)}`;
    assert.equal(r.code, c.code, where);
    if (typeof c.err === 'string') assert.equal(r.stderr, c.err, where);
    else if (c.err) assert.match(r.stderr, c.err, where);
    if (typeof c.out === 'string') assert.equal(r.stdout, c.out, where);
    else if (c.out) assert.match(r.stdout, c.out, where);
  }
  // the BSD forms of the same operations work
  await ok("sed -i '' -e 's/hello/bye/' /root/f && [ \"$(cat /root/f)\" = bye ] && [ ! -e /root/f-e ]");
  await ok("sed -i -e 's/bye/ciao/' /root/f && [ -e /root/f-e ]");
  assert.equal((await ok("stat -f '%z %Lp %Su' /root/f")).trim(), '5 644 root');
  await ok('tar -cf /tmp/x.tar -s /root/moved/ /root/f && tar -tf /tmp/x.tar | grep -q moved');
  await ok('tar --owner root:0 --group=wheel -cf /tmp/y.tar /root/f && tar -tvf /tmp/y.tar | grep -q "root *wheel"');
  assert.match(await ok('mktemp -t alcaide; mktemp -d /tmp/alcaide.XXXXXX'), /^\/tmp\/alcaide\.[A-Za-z0-9]{8}\n\/tmp\/alcaide\.[A-Za-z0-9]{6}\n$/);
  await ok('install -d -o root -g wheel -m 0755 /tmp/wheel-dir');
  await ok('jail -r strict');
  await ok('kill $(cat /tmp/d.pid)');
});

test('sysrc semantics: set, +=, -=, -x, -n, -c, -f, defaults', { skip }, async () => {
  assert.equal(await ok('sysrc sim_enable=YES'), 'sim_enable:  -> YES\n');
  assert.equal(await ok('sysrc -n sim_enable'), 'YES\n');
  assert.equal(await ok('sysrc foo_list=a'), 'foo_list:  -> a\n');
  assert.equal(await ok('sysrc foo_list+=b foo_list+=a'), 'foo_list: a -> a b\nfoo_list: a b -> a b\n');
  assert.equal(await ok('sysrc foo_list-=a'), 'foo_list: a b -> b\n');
  assert.equal((await sh('sysrc -c foo_list=b')).code, 0);
  assert.equal((await sh('sysrc -c foo_list=c')).code, 1);
  assert.equal((await sh('sysrc -c nosuch_x')).code, 1);
  await ok('sysrc -x foo_list');
  assert.equal((await sh('sysrc -x foo_list')).stderr, "sysrc: unknown variable 'foo_list'\n");
  assert.equal(await ok('sysrc -f /tmp/other.conf x_y=1 && cat /tmp/other.conf'), 'x_y:  -> 1\nx_y="1"\n');
  assert.equal(await ok('sysrc pf_rules'), 'pf_rules: /etc/pf.conf\n');
  assert.match(await ok('cat /etc/rc.conf'), /^sim_enable="YES"$/m);
  await ok('sysrc -x sim_enable');
});

test('fault injection: fail-nth fails the Nth call of a command once', { skip }, async () => {
  await sim.failNth(h.name, 'jls', 2);
  assert.equal((await sh('jls')).code, 0);
  const f = await sh('jls');
  assert.equal(f.code, 1);
  assert.match(f.stderr, /^jls: simulated failure/);
  assert.equal((await sh('jls')).code, 0);
});

test('fault injection: ssh-cut kills the sessions in flight, refuses new ones, and the link comes back', { skip, timeout: 300_000 }, async () => {
  // a session in flight: its command has started and would run for two minutes
  await ok('rm -f /tmp/inflight.started');
  const inflight = sshRun(h, 'touch /tmp/inflight.started; sleep 120; echo finished', { timeoutMs: 200_000 });
  const started = join(h.root, 'tmp', 'inflight.started');
  for (const deadline = Date.now() + 30_000; !existsSync(started);) {
    assert.ok(Date.now() < deadline, 'the in-flight command never started');
    await new Promise((r) => setTimeout(r, 100));
  }
  // cut until restored by hand: no timing between the cut and the probe
  try {
    const killed = await sim.sshCut(h.name, 0);
    assert.ok(killed >= 1, `ssh-cut killed ${killed} sessions, the in-flight one at least`);
    const during = await sshRun(h, 'true', { timeoutMs: 20_000 });
    assert.notEqual(during.code, 0, 'a new connection succeeded during the cut');
  } finally {
    await sim.sshRestore();
  }
  const r = await inflight;
  assert.equal(r.code, 255, `the in-flight session survived the cut: code ${r.code}, stdout ${JSON.stringify(r.stdout)}`);
  assert.doesNotMatch(r.stdout, /finished/);
  assert.match(r.stderr, /closed by remote host|Connection reset|Broken pipe/);
  assert.equal((await sshRun(h, 'true')).code, 0, 'ssh works again after the restore');
  // a timed cut restores the link by itself
  await sim.sshCut(h.name, 3);
  let back = false;
  for (let i = 0; i < 80 && !back; i++) {
    back = (await sshRun(h, 'true', { timeoutMs: 5000 })).code === 0;
    if (!back) await new Promise((res) => setTimeout(res, 250));
  }
  assert.ok(back, 'ssh did not come back after a 3 s ssh-cut');
});

test('reboot restores only what is persisted', { skip }, async () => {
  // persisted: rc.conf (cloned_interfaces=lo1, jail_enable, jail_list=keep, pf_enable, caddy_enable) + jail.conf.d/keep.conf
  await ok(
    'sysrc -q cloned_interfaces+=lo1 jail_enable=YES caddy_enable=YES && { ifconfig lo1 >/dev/null 2>&1 || ifconfig lo1 create; } && ' +
      'pkg install -qy caddy',
  );
  await makeJailRoot('keep');
  await makeJailRoot('temp');
  await ok(`cat > /etc/jail.conf.d/keep.conf <<'EOF'
keep {
    path = "/usr/local/jails/keep";
    host.hostname = "keep";
    ip4.addr = "lo1|10.0.1.30/32";
    mount.devfs;
    exec.clean;
    exec.start = "/bin/sh /etc/rc";
    exec.stop = "/bin/sh /etc/rc.shutdown";
    persist;
}
EOF`);
  await ok(`cat > /usr/local/jails/keep/usr/local/etc/rc.d/web <<'EOF'
#!/bin/sh
# PROVIDE: web
# KEYWORD: shutdown
. /etc/rc.subr
name=web
rcvar=web_enable
pidfile=/var/run/web.pid
procname=daemon
command=/usr/sbin/daemon
command_args="-f -P /var/run/web.pid -r /usr/bin/python3 -m http.server -b 0.0.0.0 -d /usr/local/www 4000"
load_rc_config $name
: \${web_enable:=NO}
run_rc_command "$1"
EOF
chmod +x /usr/local/jails/keep/usr/local/etc/rc.d/web && mkdir -p /usr/local/jails/keep/usr/local/www && echo kept > /usr/local/jails/keep/usr/local/www/index.html && sysrc -R /usr/local/jails/keep web_enable=YES`);
  await ok('sysrc jail_list="keep" pf_enable=YES && printf "set skip on lo0\\npass all\\n" > /etc/pf.conf');
  assert.equal(await ok('service jail start keep'), 'Starting jails: keep.\n');
  await ok(
    'jail -c name=temp path=/usr/local/jails/temp ip4.addr="lo1|10.0.1.31/32" persist && ifconfig lo2 create && ' +
      'daemon -f -p /var/run/loose.pid sleep 600 && touch /var/run/marker && touch /tmp/marker-tmp',
  );
  await ok(`cat > /usr/local/etc/caddy/Caddyfile <<'EOF'
:80 {
	reverse_proxy 10.0.1.30:4000 {
		lb_try_duration 5s
	}
}
EOF`);
  assert.equal((await ok('jls name')).trim(), 'keep\ntemp');
  const r = await sim.reboot(h.name);
  assert.ok(r.ok);
  const after = await ok('jls name; ifconfig -l; ls /var/run; pfctl -s info | head -1; service caddy status; ' + 'cat /var/run/jail_keep.id; ls /tmp');
  assert.match(after, /^keep\n/);
  assert.doesNotMatch(after, /temp/);
  assert.match(after, /^vtnet0 lo0 lo1$/m);
  assert.doesNotMatch(after, /marker\n|loose\.pid/);
  assert.match(after, /marker-tmp/); // /tmp is not cleared by default (clear_tmp_enable=NO)
  assert.match(after, /Status: Enabled/);
  assert.match(after, /caddy is running as pid \d+\./);
  assert.equal(await ok('curl -s --retry 5 --retry-connrefused http://127.0.0.1/'), 'kept\n');
  assert.equal(await ok('jexec keep service web status | sed -e "s/[0-9][0-9]*/N/"'), 'web is running as pid N.\n');
  assert.equal(await ok('service -j keep web status | sed -e "s/[0-9][0-9]*/N/"'), 'web is running as pid N.\n');
  // the jail from the command line is gone, but its root directory (persisted storage) stays
  assert.equal((await sh('jls -j temp')).code, 1);
  await ok('test -d /usr/local/jails/temp/etc');
});

test('the command log records every command sent, byte for byte and in order', { skip }, async () => {
  const from = readCommandLog(h).length;
  const mine = [
    'echo one',
    String.raw`printf '%s\n' "two 'quoted' \"args\"" "$HOME"`,
    'true; false; echo three',
    'echo four\necho five',
    `echo ${'x'.repeat(2000)}`,
  ];
  for (const c of mine) await ok(c);
  const log = readCommandLog(h).slice(from);
  assert.deepEqual(
    log.map((e) => e.cmd),
    mine,
  );
  for (const e of log) {
    assert.match(e.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(e.client, h.gateway);
  }
});

/** Bytes per millisecond of a transfer of `size` bytes each way over SSH, timed between the
 * remote command's first and last output (connection setup is not part of it). */
async function throughput(size: number): Promise<{ down: number; up: number }> {
  const timed = async (cmd: string, input: string | undefined, done: (out: string) => boolean) => {
    let first = 0;
    let last = 0;
    let out = '';
    const r = await sshRun(h, cmd, {
      input,
      timeoutMs: 120_000,
      onStdout: (b) => {
        out += b.toString();
        const now = performance.now();
        if (!first) first = now;
        if (done(out)) last = now;
      },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(last, `the transfer did not finish: ${JSON.stringify(out.slice(-100))}`);
    return size / Math.max(last - first, 1);
  };
  const down = await timed(`head -c ${size} /dev/zero`, undefined, (o) => o.length >= size);
  const up = await timed('echo ready; wc -c', 'x'.repeat(size), (o) => new RegExp(`^ready\\n *${size}\\n$`).test(o));
  return { down, up };
}

test('fault injection: a slow link throttles both directions (measured) and is removed again', { skip, timeout: 300_000 }, async (t) => {
  const size = 512 * 1024;
  const free = await throughput(size);
  await sim.slowLink(h.name, '2mbit');
  assert.match((await sshRun(h, 'tc qdisc show dev vtnet0')).stdout, /qdisc tbf .* rate 2Mbit/);
  const slow = await throughput(size);
  await sim.slowLink(h.name);
  assert.doesNotMatch((await sshRun(h, 'tc qdisc show dev vtnet0')).stdout, /tbf/);
  const kBps = (x: number) => `${Math.round(x)} kB/s`; // bytes per ms = kB/s
  t.diagnostic(`${size} bytes down/up: unthrottled ${kBps(free.down)}/${kBps(free.up)}, at 2 Mbit/s ${kBps(slow.down)}/${kBps(slow.up)}`);
  // 2 Mbit/s = 250 kB/s; unthrottled over a veth it is tens of MB/s: a wide margin both ways
  for (const dir of ['down', 'up'] as const) {
    assert.ok(slow[dir] * 10 < free[dir], `${dir}: ${kBps(slow[dir])} throttled is not far below ${kBps(free[dir])} unthrottled`);
    assert.ok(slow[dir] < 2 * 250, `${dir}: ${kBps(slow[dir])} is above the 2 Mbit/s limit`);
  }
});

test(
  "the product's destroyJailTree: what is mounted below a jail is unmounted (mount -p), the volume's data stays, nothing is removed while a mount stays",
  { skip },
  async () => {
    const path = await makeJailRoot('vol');
    const conf = '/etc/jail.conf.d/vol.conf';
    // jail -r of a command-line jail leaves its devfs and nullfs mounts mounted (jail(8)): what a
    // crash or an operator may leave below a jail
    await ok(
      `mkdir -p /var/db/vol_data ${path}/data && echo precious > /var/db/vol_data/keep && touch ${conf} && ` +
        `jail -c name=vol path=${path} mount.devfs persist && mount -t nullfs /var/db/vol_data ${path}/data && jail -r vol`,
    );
    assert.equal(await ok(`mount -p | grep ${path}/`), `devfs\t\t\t${path}/dev devfs\trw\t\t0 0\n/var/db/vol_data\t${path}/data nullfs\trw\t\t0 0\n`);
    // an unmount that fails (the volume's: deepest first, data after dev) stops it before rm -rf
    await sim.failNth(h.name, 'umount', 2);
    const refused = await sh(destroyJailTree(path, conf));
    assert.equal(refused.code, 1, `destroyJailTree with a mount left: ${refused.stdout}${refused.stderr}`);
    assert.match(refused.stderr, /^umount: simulated failure.*\n\/usr\/local\/jails\/vol: file systems still mounted below it; not removed\n$/);
    assert.equal(await ok(`cat ${path}/data/keep /var/db/vol_data/keep`), 'precious\nprecious\n', 'nothing removed');
    assert.equal((await sh(`test -f ${path}/etc/rc.conf && test -f ${conf}`)).code, 0, 'the jail root and conf stay');
    // then everything below is unmounted and the tree (schg files and all) and conf are removed
    const r = await sh(destroyJailTree(path, conf));
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await sh(`test -e ${path} || test -e ${conf}`)).code, 1, 'jail root and conf removed');
    assert.doesNotMatch(await ok('mount -p'), /\/usr\/local\/jails\/vol\//);
    assert.equal(await ok('cat /var/db/vol_data/keep'), 'precious\n', "the volume's data stays");
  },
);

test('service -R restarts the enabled local services: stopped in reverse order, then started', { skip }, async () => {
  const path = await makeJailRoot('svc');
  // svc_b is not enabled, svc_d is KEYWORD nostart, svc_e is KEYWORD nojail (this runs in a
  // jail), svc_f has no PROVIDE line: none of them is run
  const script = (n: string, keyword: string, provide = true) =>
    `#!/bin/sh\n${provide ? `# PROVIDE: ${n}\n` : ''}` +
    `${keyword ? `# KEYWORD: ${keyword}\n` : ''}. /etc/rc.subr\nname=${n}\nrcvar=${n}_enable\n` +
    `start_cmd="echo start ${n}"\nstop_cmd="echo stop ${n}"\nload_rc_config $name\n: \${${n}_enable:=NO}\nrun_rc_command "$1"\n`;
  const scripts: Array<[string, string, boolean]> = [
    ['svc_a', '', true],
    ['svc_b', '', true],
    ['svc_c', 'shutdown', true],
    ['svc_d', 'nostart', true],
    ['svc_e', 'nojail', true],
    ['svc_f', '', false],
  ];
  for (const [n, kw, provide] of scripts) {
    const f = `${path}/usr/local/etc/rc.d/${n}`;
    assert.equal((await sh(`cat > ${f} && chmod 555 ${f}`, { input: script(n, kw, provide) })).code, 0);
  }
  await ok(
    `sysrc -f ${path}/etc/rc.conf -q svc_a_enable=YES svc_c_enable=YES svc_d_enable=YES svc_e_enable=YES svc_f_enable=YES && ` +
      `jail -c name=svc path=${path} persist`,
  );
  const r = await sh('service -j svc -R');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'stop svc_c\nstop svc_a\nstart svc_a\nstart svc_c\n');
  await ok('jail -r svc');
});

test(
  "the product's hideJailsFromHostUsers: a jailed process's argv is hidden from host users now and after a reboot (see_jail_proc=0), the jails' files too (0700); a second run changes nothing",
  { skip, timeout: 180_000 },
  async () => {
    const hostUser = (cmd: string) => asHostUser(h, cmd);
    const argvs = 'for f in /proc/[0-9]*/cmdline; do tr "\\0" " " < $f 2>/dev/null; echo; done';
    const visible = () =>
      hostUser(argvs)
        .stdout.split('\n')
        .some((l) => l.startsWith('/bin/sleep 4747'));
    const path = await makeJailRoot('priv');
    const jailed = () => ok(`jail -c name=priv path=${path} mount.devfs persist && jexec priv /usr/sbin/daemon -f /bin/sleep 4747`);
    // an operator's earlier line that would turn it back on at boot
    await ok(`chmod 0755 /usr/local/jails && printf 'security.bsd.see_jail_proc=1\\n' >> /etc/sysctl.conf`);
    await jailed();
    assert.ok(visible(), "FreeBSD's default (see_jail_proc=1): a host user sees a jailed process's argv");
    assert.equal(hostUser(`ls ${path}/etc >/dev/null`).status, 0, 'and reads the jail root');
    const conf = await ok('cat /etc/sysctl.conf');
    try {
      const first = await ok(script(...hideJailsFromHostUsers('/usr/local/jails')));
      assert.equal(first, '+ /usr/local/jails mode 0700\n+ security.bsd.see_jail_proc=0\n+ security.bsd.see_jail_proc=0 in /etc/sysctl.conf\n');
      assert.ok(!visible(), 'hidden from the host user');
      assert.match(await ok(argvs), /^\/bin\/sleep 4747 /m, 'root still sees it');
      assert.match(hostUser(`ls ${path}/etc`).stderr, /Permission denied/);
      assert.equal(
        await ok('cat /etc/sysctl.conf'),
        conf.replace('security.bsd.see_jail_proc=1\n', '') + 'security.bsd.see_jail_proc=0\n',
        "FreeBSD's own lines kept; the earlier line replaced",
      );
      assert.equal(await ok(script(...hideJailsFromHostUsers('/usr/local/jails'))), '', 'a second run changes nothing');
      // rc.d/sysctl sets it again at boot
      assert.ok((await sim.reboot(h.name)).ok);
      assert.equal(await ok('sysctl -n security.bsd.see_jail_proc'), '0\n');
      await jailed();
      assert.ok(!visible(), 'hidden after the reboot');
    } finally {
      await ok(
        `jail -r priv; sysctl security.bsd.see_jail_proc=1 >/dev/null && chmod 0755 /usr/local/jails && grep -v see_jail_proc /etc/sysctl.conf > /tmp/c; mv /tmp/c /etc/sysctl.conf`,
      );
    }
  },
);
