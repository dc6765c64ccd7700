// End to end: the release runs as its own unprivileged user in a hardened slot jail. The real
// CLI (with its embedded worker), Temporal dev server, OpenSSH, Caddy and fixture release,
// against a simulated FreeBSD host whose pw(8), daemon(8) -u and jexec(8) -U follow FreeBSD's.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { asHostUser, sshRun, type SimHost } from '../simhost/index';
import { cliEnv, type CliResult } from '../helpers/cli';
import { CLI } from '../helpers/paths';
import { within } from '../helpers/within';
import { E2eProject, ok } from '../helpers/e2eProject';
import { sh } from '../../src/freebsd/sh';

const JAIL = 'hello_blue';
const ROOT = `/usr/local/jails/${JAIL}`;

let p: E2eProject;
let host: SimHost;
let uid = '';

const cli = (args: string[]): Promise<CliResult> => p.cli(args);
/** A command in the slot jail as the app user, as FreeBSD's jexec -U runs it. */
const asUser = (command: string) => sshRun(host, sh`jexec -U hello ${JAIL} /bin/sh -c ${command}`);

before(async () => {
  p = await E2eProject.start({
    prefix: 'alcaide-appuser-',
    queue: 'appuser',
    config: { env: { clear: { DATA_DIR: '/var/db/hello' } }, release: { migrate: 'Hello.Release.migrate()' } },
  });
  host = p.host;
});

after(async () => {
  await p?.stop();
});

describe('the app as its own user in a hardened jail', () => {
  test('setup and deploy: the app serves through Caddy; pw(8) made its user in the slot jail', async () => {
    ok(await cli(['setup']));
    const r = await cli(['deploy']);
    ok(r);
    assert.match(r.stdout, /✓ hello [0-9a-f]{12} live on blue/);
    const res = await fetch(`http://${host.host}/`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(await res.text(), 'hello v1.0.0 slot=blue');
    const user = await sshRun(host, `pw -R ${ROOT} usershow hello`);
    assert.equal(user.code, 0, user.stderr);
    assert.match(user.stdout, /^hello:\*:(\d+):\1::0:0:alcaide app:\/var\/db\/hello:\/usr\/sbin\/nologin\n$/);
    uid = user.stdout.split(':')[2]!;
    assert.notEqual(uid, '0');
  });

  test("the release's processes run as the app user; only daemon(8)'s supervisor is root", async () => {
    // every process of this host (its mount namespace: other simulated hosts may have the same
    // jail path) whose root is the jail: uid, pid, command
    const ps = await sshRun(
      host,
      `ns=$(readlink /proc/$$/ns/mnt); for p in /proc/[0-9]*; do [ "$(readlink $p/ns/mnt 2>/dev/null)" = "$ns" ] && [ "$(readlink $p/root 2>/dev/null)" = ${ROOT} ] && echo "$(awk '/^Uid:/ { print $2 }' $p/status) \${p#/proc/} $(tr '\\0' ' ' < $p/cmdline)"; done; true`,
    );
    const procs = ps.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(' '))
      .map(([u, pid, ...cmd]) => ({ uid: u!, pid: pid!, cmd: cmd.join(' ').trim() }));
    const supervisor = (await sshRun(host, `cat ${ROOT}/var/run/hello_supervisor.pid`)).stdout.trim();
    const release = procs.filter((p) => p.pid !== supervisor && !/^(\/usr\/sbin\/cron|\/usr\/sbin\/syslogd)/.test(p.cmd));
    assert.ok(
      release.some((p) => /beam\.smp/.test(p.cmd)),
      `the VM is among them:\n${ps.stdout}`,
    );
    for (const p of release) assert.equal(p.uid, uid, `${p.pid} ${p.cmd} runs as uid ${p.uid}, not the app user's ${uid}:\n${ps.stdout}`);
    assert.equal(procs.find((p) => p.pid === supervisor)?.uid, '0', `the supervisor holds the pid files and the log:\n${ps.stdout}`);
  });

  test('the release directory is not writable by the app user; its data and tmp dirs are', async () => {
    for (const write of [
      'touch /usr/local/hello/new',
      'echo x >> /usr/local/hello/bin/hello',
      'mkdir /usr/local/hello/releases/new',
      'touch /usr/local/etc/hello.env',
    ]) {
      const r = await asUser(write);
      assert.notEqual(r.code, 0, `${write} succeeded as the app user`);
      assert.match(r.stderr, /Permission denied/, write);
    }
    for (const dir of ['/var/db/hello', '/var/tmp/hello']) {
      const r = await asUser(`touch ${dir}/probe && rm ${dir}/probe`);
      assert.equal(r.code, 0, `${dir}: ${r.stderr}`);
      assert.equal((await sshRun(host, `stat -f %u:%Lp ${ROOT}${dir}`)).stdout.trim(), `${uid}:750`, dir);
    }
    // it reads its environment, which root alone may change
    assert.equal((await sshRun(host, `stat -f %u:%g:%Lp ${ROOT}/usr/local/etc/hello.env`)).stdout.trim(), `0:${uid}:640`);
  });

  test('migrations ran as the app user (it owns the file they wrote in DATA_DIR)', async () => {
    const log = await sshRun(host, `stat -f %u ${ROOT}/var/db/hello/migrations.log && cat ${ROOT}/var/db/hello/migrations.log`);
    assert.equal(log.code, 0, log.stderr);
    const [owner, ...applied] = log.stdout.trim().split('\n');
    assert.equal(owner, uid, 'migrations.log was written by the app user');
    assert.ok(applied.length > 0, log.stdout);
  });

  test('`alcaide run` runs as the app user, with RELEASE_TMP its own tmp dir and its exit status the CLI’s', async () => {
    const id = await cli(['run', '--', 'id', '-u']);
    ok(id);
    assert.equal(id.stdout.trim(), uid);
    const tmp = await cli(['run', 'bin/hello', 'eval', 'IO.puts(System.get_env("RELEASE_TMP"))']);
    ok(tmp);
    assert.equal(tmp.stdout.trim(), '/var/tmp/hello');
    // the remote command's exit status is the CLI's, as with ssh
    const failed = await cli(['run', '--', 'sh', '-c', 'echo no >&2; exit 3']);
    assert.equal(failed.code, 3, failed.stderr);
    assert.match(failed.stderr, /no/);
  });

  test('the slot jail has the hardening parameters (jls -n)', async () => {
    const r = await sshRun(host, `jls -j ${JAIL} -n securelevel enforce_statfs children.max allow.raw_sockets allow.set_hostname devfs_ruleset`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'securelevel=3 enforce_statfs=2 children.max=0 allow.noraw_sockets allow.noset_hostname devfs_ruleset=4');
  });
});

describe("the Erlang distribution cookie and the host's other users", () => {
  /** Every argv of this simulated host's processes (its mount namespace), one per line. */
  const argvs = `ns=$(readlink /proc/$$/ns/mnt); for p in /proc/[0-9]*; do [ "$(readlink $p/ns/mnt 2>/dev/null)" = "$ns" ] && tr '\\0' ' ' < $p/cmdline 2>/dev/null && echo; done; true`;

  test("while `alcaide run bin/hello remote` works, no argv a host user can read holds the cookie, nor can the user read the release's COOKIE file", async () => {
    const cookie = (await sshRun(host, `cat ${ROOT}/usr/local/hello/releases/COOKIE`)).stdout.trim();
    assert.match(cookie, /^\S{20,}$/);
    // as from a terminal (script(1) gives the CLI one): over a pipe IEx runs its limited shell,
    // which ignores --remsh
    const remote = spawn('script', ['-qfec', sh`${process.execPath} ${CLI} run bin/hello remote`, '/dev/null'], {
      cwd: p.app,
      env: cliEnv({ ...p.cliEnv(), TERM: 'xterm' }),
      detached: true,
    });
    let out = '';
    remote.stdout.on('data', (d) => (out += d));
    remote.stderr.on('data', (d) => (out += d));
    const closed = once(remote, 'close');
    const seen = async (re: RegExp, what: string) => {
      for (const end = Date.now() + 90_000; !re.test(out); await new Promise((r) => setTimeout(r, 200)))
        if (Date.now() > end) throw new Error(`${what}: not within 90 s; output: ${JSON.stringify(out.slice(-800))}`);
    };
    try {
      await seen(new RegExp(`iex\\(${JAIL}@[^)]*\\)\\d+>`), "the remote shell's prompt, on the app's node");
      remote.stdin.write('IO.puts("remote shell on " <> Atom.to_string(node()))\r');
      await seen(new RegExp(`remote shell on ${JAIL}@`), 'the expression evaluated on the app node');
      // root sees the cookie: the release's VM and the remote shell's carry it (erl -setcookie) ...
      const asRoot = (await sshRun(host, argvs)).stdout.split('\n').filter((l) => l.includes(cookie));
      assert.ok(
        asRoot.some((l) => /beam\.smp.*--?remsh/.test(l)),
        `the remote shell's VM, as root sees it:\n${asRoot.join('\n')}`,
      );
      // ... a host user does not (security.bsd.see_jail_proc=0, set by setup)
      // (every process it may see: /proc/PID/ns of another user's process is not readable)
      const user = asHostUser(host, 'for f in /proc/[0-9]*/cmdline; do tr "\\0" " " < $f 2>/dev/null; echo; done');
      assert.match(user.stdout, /-c for f in \/proc/, 'the host user reads argvs: its own');
      assert.equal(user.status, 0, user.stderr);
      assert.ok(!user.stdout.includes(cookie), `the cookie in an argv a host user reads:\n${user.stdout}`);
      assert.match(asHostUser(host, `cat ${ROOT}/usr/local/hello/releases/COOKIE`).stderr, /Permission denied/);
    } finally {
      process.kill(-remote.pid!, 'SIGKILL');
      await closed;
    }
    // the terminal gone, the remote shell's VM goes with its SSH session; the app stays
    await within(
      30_000,
      'the remote shell ends with its session',
      (async () => {
        while ((await sshRun(host, argvs)).stdout.includes('remsh')) await new Promise((r) => setTimeout(r, 500));
      })(),
    );
    assert.equal(await (await fetch(`http://${host.host}/`, { signal: AbortSignal.timeout(10_000) })).text(), 'hello v1.0.0 slot=blue');
    assert.equal(
      (await sshRun(host, 'sysctl -n security.bsd.see_jail_proc; grep -x security.bsd.see_jail_proc=0 /etc/sysctl.conf; stat -f %Lp /usr/local/jails')).stdout,
      '0\nsecurity.bsd.see_jail_proc=0\n700\n',
    );
  });
});
