// The app's own unprivileged user in its slot jail and the jail's hardening parameters. The
// scripts run under the real /bin/sh on a jail root in a temp dir, with the simulated host's
// pw(8) (test/simhost/lib/cmd_pw.py, FreeBSD's usr.sbin/pw) as the `pw` on PATH; chown needs root.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { appCommand, asAppUser, ensureAppUser, installReleaseArchive, releaseEval, renderRcScript, renderRunner, shareEnvFile } from '../../src/freebsd/app';
import { putFunction, putStdin } from '../../src/freebsd/files';
import { renderJailConf } from '../../src/freebsd/jail';
import { changesOf, script } from '../../src/freebsd/sh';
import { SLOT_JAIL_PARAMS } from '../../src/freebsd/slot';
import { REPO_ROOT } from '../helpers/paths';

const skip = process.getuid?.() !== 0 ? 'needs root (chown)' : false;
const dir = mkdtempSync(path.join(os.tmpdir(), 'alcaide-appuser-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// only pw comes from the simulated host; install, cut, chgrp, tar are this machine's
const bin = path.join(dir, 'bin');
mkdirSync(bin);
writeFileSync(path.join(bin, 'pw'), `#!/bin/sh\nexec ${path.join(REPO_ROOT, 'test', 'simhost', 'bin', 'pw')} "$@"\n`);
chmodSync(path.join(bin, 'pw'), 0o755);

function run(cmd: string, stdin = ''): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('/bin/sh', ['-c', cmd], { input: stdin, encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin` } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A jail root as base.txz leaves it: system accounts below 1000, no app user. */
function jailRoot(name: string): string {
  const root = path.join(dir, name);
  for (const d of ['etc', 'var/db', 'var/tmp', 'usr/local/etc']) mkdirSync(path.join(root, d), { recursive: true });
  writeFileSync(
    path.join(root, 'etc/master.passwd'),
    'root:*:0:0::0:0:Charlie &:/root:/bin/sh\ndaemon:*:1:1::0:0:Owner of many system processes:/root:/usr/sbin/nologin\nnobody:*:65534:65534::0:0:Unprivileged user:/nonexistent:/usr/sbin/nologin\n',
    { mode: 0o600 },
  );
  writeFileSync(
    path.join(root, 'etc/passwd'),
    'root:*:0:0:Charlie &:/root:/bin/sh\ndaemon:*:1:1:Owner of many system processes:/root:/usr/sbin/nologin\nnobody:*:65534:65534:Unprivileged user:/nonexistent:/usr/sbin/nologin\n',
  );
  writeFileSync(path.join(root, 'etc/group'), 'wheel:*:0:root\ndaemon:*:1:\nnogroup:*:65533:\nnobody:*:65534:\n');
  return root;
}

const owner = (p: string) => {
  const s = statSync(p);
  return { uid: s.uid, gid: s.gid, mode: s.mode & 0o7777 };
};

describe('the app user in a slot jail', { skip }, () => {
  test('pw(8) makes it once; its data and tmp dirs are its own, 0750; a second run changes nothing', () => {
    const root = jailRoot('slot');
    const first = run(script(ensureAppUser('my_app', root)));
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(changesOf(first.stdout), [`user my_app in ${root}`]);
    // uid 1000 (pw's first), its own group with the same id, home = its data dir, no login shell
    assert.match(readFileSync(path.join(root, 'etc/master.passwd'), 'utf8'), /^my_app:\*:1000:1000::0:0:alcaide app:\/var\/db\/my_app:\/usr\/sbin\/nologin$/m);
    assert.match(readFileSync(path.join(root, 'etc/group'), 'utf8'), /^my_app:\*:1000:$/m);
    for (const d of ['var/db/my_app', 'var/tmp/my_app']) assert.deepEqual(owner(path.join(root, d)), { uid: 1000, gid: 1000, mode: 0o750 }, d);
    // a directory made root's again (a restored backup) is given back
    chownSync(path.join(root, 'var/db/my_app'), 0, 0);
    const second = run(script(ensureAppUser('my_app', root)));
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(changesOf(second.stdout), []);
    assert.equal((readFileSync(path.join(root, 'etc/master.passwd'), 'utf8').match(/^my_app:/gm) ?? []).length, 1);
    assert.deepEqual(owner(path.join(root, 'var/db/my_app')), { uid: 1000, gid: 1000, mode: 0o750 });
  });

  test('an app named like an account alcaide did not make (daemon, root) is refused, nothing is created', () => {
    const root = jailRoot('taken');
    for (const app of ['daemon', 'root']) {
      const r = run(script(ensureAppUser(app, root)));
      assert.equal(r.code, 1, `the jail's own ${app} was taken as the app user (exit ${r.code})`);
      assert.match(r.stderr, new RegExp(`${root}: the jail has a user ${app} that alcaide did not create`));
      assert.throws(() => statSync(path.join(root, 'var/db', app)), /ENOENT/);
    }
  });

  test('the env file: written 0640, then its group is the app user’s (it reads it), root alone writes it', () => {
    const root = jailRoot('env');
    assert.equal(run(script(ensureAppUser('my_app', root))).code, 0);
    const r = run(script(putFunction(), putStdin(path.join(root, 'usr/local/etc/my_app.env'), '0640', 'wrote'), shareEnvFile('my_app', root)), "A='1'\n");
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(owner(path.join(root, 'usr/local/etc/my_app.env')), { uid: 0, gid: 1000, mode: 0o640 });
  });

  test('the release unpacked from an archive of another owner, group- and world-writable, is root’s and writable by root alone', () => {
    const src = path.join(dir, 'rel');
    mkdirSync(path.join(src, 'bin'), { recursive: true });
    writeFileSync(path.join(src, 'bin', 'my_app'), '#!/bin/sh\n', { mode: 0o777 });
    chmodSync(path.join(src, 'bin'), 0o777);
    chmodSync(path.join(src, 'bin', 'my_app'), 0o777);
    chownSync(path.join(src, 'bin', 'my_app'), 1000, 1000);
    chownSync(path.join(src, 'bin'), 1000, 1000);
    const archive = path.join(dir, 'rel.tar.gz');
    assert.equal(spawnSync('tar', ['-czf', archive, '-C', src, '.']).status, 0);
    const dest = path.join(dir, 'installed', 'my_app');
    const r = run(installReleaseArchive(archive, dest, 'a'.repeat(40)));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(owner(path.join(dest, 'bin')), { uid: 0, gid: 0, mode: 0o755 });
    assert.deepEqual(owner(path.join(dest, 'bin', 'my_app')), { uid: 0, gid: 0, mode: 0o755 });
  });
});

describe('what runs as the app user', () => {
  test('rc.d script: daemon(8) -u, among its options before the runner; the supervisor stays root', () => {
    const rc = renderRcScript({ app: 'my_app', releaseName: 'shop' });
    assert.ok(
      rc.includes('command_args="-f -r -H -u my_app -P ${pidfile} -p ${child_pidfile} -o /var/log/my_app.log -t my_app /usr/local/libexec/my_app-run"'),
      rc,
    );
    assert.doesNotMatch(rc, /_user=/, "rc.subr's ${name}_user would run daemon itself as the user");
  });

  test('migrations and `alcaide run`: jexec -l -U, the user looked up in the jail', () => {
    assert.equal(asAppUser('my_app_blue', 'my_app', 'id -u'), "jexec -l -U my_app my_app_blue /bin/sh -c 'id -u'");
  });

  test('RELEASE_TMP is the app user’s tmp dir (runner, eval, run) unless the environment names another', () => {
    const fake = path.join(dir, 'fake');
    mkdirSync(path.join(fake, 'my_app'), { recursive: true });
    const env = path.join(fake, 'my_app.env');
    const inFake = (cmd: string) => cmd.replace('. /usr/local/etc/my_app.env ', `. ${env} `).replace('cd /usr/local/my_app ', `cd ${fake}/my_app `);
    writeFileSync(env, "PORT='4000'\n");
    assert.equal(spawnSync('/bin/sh', ['-c', inFake(appCommand('my_app', ['printenv', 'RELEASE_TMP']))], { encoding: 'utf8' }).stdout, '/var/tmp/my_app\n');
    writeFileSync(env, "RELEASE_TMP='/srv/tmp'\n");
    assert.equal(spawnSync('/bin/sh', ['-c', inFake(appCommand('my_app', ['printenv', 'RELEASE_TMP']))], { encoding: 'utf8' }).stdout, '/srv/tmp\n');
    for (const cmd of [renderRunner({ app: 'my_app', releaseName: 'shop' }), releaseEval('my_app', 'shop', 'M.f()')])
      assert.ok(cmd.includes('set -a && RELEASE_TMP=/var/tmp/my_app && . /usr/local/etc/my_app.env && set +a'), cmd);
  });
});

describe('slot jail parameters', () => {
  test('jail.conf: statfs of its own mount only, no child jails, no raw sockets, no hostname changes, securelevel 3, devfs ruleset 4', () => {
    const conf = renderJailConf({
      name: 'my_app_blue',
      path: '/usr/local/jails/my_app_blue',
      hostname: 'my_app_blue',
      iface: 'lo1',
      ip: '10.0.0.2',
      params: SLOT_JAIL_PARAMS,
    });
    const lines = conf.split('\n').map((l) => l.trim());
    for (const l of [
      'enforce_statfs = "2";',
      'children.max = "0";',
      'allow.noraw_sockets;',
      'allow.noset_hostname;',
      'securelevel = "3";',
      'mount.devfs;',
      'devfs_ruleset = 4;',
    ])
      assert.ok(lines.includes(l), `${l} in\n${conf}`);
  });
});
