// The SSH layer against a real OpenSSH sshd on loopback (and, for the bastion, one in a network
// namespace of its own that only the bastion reaches).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SshConnection, type SshOptions } from '../../src/ssh/connection';
import { HostKeyError, RemoteCommandError, SshAuthError, SshConnectionError, SshTimeoutError } from '../../src/ssh/errors';
import { fingerprint, parseKnownHosts, verifyHostKey } from '../../src/ssh/knownHosts';
import { SshPool } from '../../src/ssh/pool';
import { downloadFile, fileSha256, uploadFile } from '../../src/ssh/upload';
import { linuxUpload } from '../helpers/linuxUpload';
import { keygen, startBastion, startSshd, type TestSshd } from '../helpers/sshd';

let sshd: TestSshd;
let known: string;
const conns: SshConnection[] = [];

function connect(extra: Partial<SshOptions> = {}, server = sshd): SshConnection {
  const c = new SshConnection(
    { host: server.host, port: server.port, user: 'root' },
    { knownHostsFile: known, keys: [sshd.clientKey], defaultKeyFiles: [], agentSocket: '', ...extra },
  );
  conns.push(c);
  return c;
}

before(async () => {
  sshd = await startSshd();
  known = path.join(sshd.dir, 'known_hosts');
  writeFileSync(known, `${sshd.knownHostsLine}\n`);
});
after(async () => {
  for (const c of conns) c.close();
  await sshd?.stop();
});

describe('host key verification', () => {
  test('an unknown host is refused with its fingerprint and how to trust it', async () => {
    const empty = path.join(sshd.dir, 'empty_known_hosts');
    const c = connect({ knownHostsFile: empty });
    await assert.rejects(c.exec('true'), (e: unknown) => {
      assert.ok(e instanceof HostKeyError);
      assert.equal(e.reason, 'unknown');
      assert.equal(e.fingerprint, sshd.hostFingerprint, 'same fingerprint as ssh-keygen -lf');
      assert.match(e.message, new RegExp(`the host key of \\[127\\.0\\.0\\.1\\]:${sshd.port} is not known \\(ssh-ed25519 SHA256:`));
      assert.match(e.message, /trust it with --trust-new-host/);
      return true;
    });
    assert.equal(existsSync(empty), false, 'nothing recorded without --trust-new-host');
  });

  test('--trust-new-host records the key, and later connections verify against it', async () => {
    const file = path.join(sshd.dir, 'tofu_known_hosts');
    const first = connect({ knownHostsFile: file, trustNewHost: true });
    assert.equal((await first.exec('echo hi')).stdout, 'hi\n');
    assert.equal(readFileSync(file, 'utf8'), `${sshd.knownHostsLine}\n`);
    const second = connect({ knownHostsFile: file });
    assert.equal((await second.exec('echo again')).code, 0);
    // OpenSSH itself accepts the recorded line
    const r = spawnSync(
      'ssh',
      [
        '-o',
        'BatchMode=yes',
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        `UserKnownHostsFile=${file}`,
        '-i',
        sshd.clientKey,
        '-p',
        String(sshd.port),
        'root@127.0.0.1',
        'echo ok',
      ],
      { encoding: 'utf8' },
    );
    assert.equal(r.stdout.trim(), 'ok', r.stderr);
  });

  test('a mismatched key is refused loudly, naming the known_hosts line', async () => {
    const otherKey = path.join(sshd.dir, 'other');
    keygen(otherKey);
    const other = readFileSync(`${otherKey}.pub`, 'utf8').split(' ');
    const file = path.join(sshd.dir, 'mismatch_known_hosts');
    writeFileSync(file, `# comment\n[127.0.0.1]:${sshd.port} ${other[0]} ${other[1]}\n`);
    const trusting = connect({ knownHostsFile: file, trustNewHost: true });
    await assert.rejects(trusting.exec('true'), (e: unknown) => {
      assert.ok(e instanceof HostKeyError);
      assert.equal(e.reason, 'mismatch');
      assert.match(e.message, /HOST KEY MISMATCH for \[127\.0\.0\.1\]:\d+: the server presented ssh-ed25519 SHA256:/);
      assert.match(e.message, new RegExp(`${file.replace(/[.]/g, '\\.')}:2`));
      assert.match(e.message, /ssh-keygen -R/);
      return true;
    });
    assert.equal(readFileSync(file, 'utf8').split('\n').length, 3, '--trust-new-host never overrides a mismatch');
  });

  test('hashed entries (ssh-keygen -H) are matched', async () => {
    const file = path.join(sshd.dir, 'hashed_known_hosts');
    writeFileSync(file, `${sshd.knownHostsLine}\n`);
    assert.equal(spawnSync('ssh-keygen', ['-H', '-f', file]).status, 0);
    const text = readFileSync(file, 'utf8');
    assert.match(text, /^\|1\|/);
    assert.ok(!text.includes('127.0.0.1'));
    assert.equal((await connect({ knownHostsFile: file }).exec('true')).code, 0);
  });

  test('patterns: wildcards, negation, ports, @revoked', () => {
    const key = sshd.hostPublicKey;
    const b64 = key.toString('base64');
    const v = (text: string, host = '10.0.0.7', port = 22) => verifyHostKey(parseKnownHosts(text), host, port, key).status;
    assert.equal(v(`10.0.0.* ssh-ed25519 ${b64}`), 'trusted');
    assert.equal(v(`10.0.0.*,!10.0.0.7 ssh-ed25519 ${b64}`), 'unknown');
    assert.equal(v(`10.0.0.7 ssh-ed25519 ${b64}`, '10.0.0.7', 2222), 'unknown', 'a non-22 port needs [host]:port');
    assert.equal(v(`[10.0.0.7]:2222 ssh-ed25519 ${b64}`, '10.0.0.7', 2222), 'trusted');
    assert.equal(v(`@revoked * ssh-ed25519 ${b64}\n10.0.0.7 ssh-ed25519 ${b64}`), 'revoked');
    assert.equal(v(`10.0.0.7 ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ==`), 'unknown', 'another key type is not a mismatch');
    assert.equal(fingerprint(key), sshd.hostFingerprint);
  });
});

describe('exec', () => {
  test('exit codes, stdout, stderr, stdin and streaming', async () => {
    const c = connect();
    const r = await c.exec('echo out; echo err >&2; exit 3');
    assert.deepEqual({ code: r.code, stdout: r.stdout, stderr: r.stderr }, { code: 3, stdout: 'out\n', stderr: 'err\n' });
    assert.equal((await c.exec('cat', { stdin: 'piped "data" $(x)\n' })).stdout, 'piped "data" $(x)\n');
    const chunks: string[] = [];
    await c.exec('for i in 1 2 3; do echo $i; sleep 0.05; done', { onStdout: (d) => chunks.push(d.toString()) });
    assert.equal(chunks.join(''), '1\n2\n3\n');
    assert.ok(chunks.length >= 2, 'output arrives while the command runs');
  });

  test("commands run in root's login environment: /bin/sh from passwd, its home, sshd's PATH with the sbin directories", async () => {
    const r = await connect().exec('echo "$0 $SHELL ${BASH_VERSION:-not-bash}"; echo "$USER $HOME $(pwd)"; echo "$SSH_CONNECTION"; echo "$PATH"');
    const [shell, home, via, dirs] = r.stdout.trimEnd().split('\n');
    assert.equal(shell, 'sh /bin/sh not-bash', "the login shell is the passwd entry's /bin/sh (this machine's root has bash)");
    assert.equal(home, 'root /root /root');
    assert.match(via!, new RegExp(`^127\\.0\\.0\\.1 \\d+ 127\\.0\\.0\\.1 ${sshd.port}$`));
    for (const d of ['/sbin', '/usr/sbin', '/bin', '/usr/bin']) assert.ok(dirs!.split(':').includes(d), `${d} in PATH=${dirs}`);
  });

  test('a command that can be stopped (timeout, signal) gives the same output and exit code as one that cannot', async () => {
    const c = connect();
    const stoppable = { timeoutMs: 60_000, signal: new AbortController().signal };
    const commands = [
      'echo out; echo err >&2; exit 3',
      'echo 42; echo "$$" | wc -l',
      'printf 123',
      'printf "a\\nb"',
      '',
      'true\nfi',
      'echo $((1+))',
      'seq 1 30000',
    ];
    for (const command of commands) {
      const plain = await c.exec(command);
      const chunks: Buffer[] = [];
      const stopped = await c.exec(command, { ...stoppable, onStdout: (d) => chunks.push(d) });
      assert.deepEqual(stopped, plain, JSON.stringify(command));
      assert.equal(Buffer.concat(chunks).toString(), plain.stdout, `streamed output of ${JSON.stringify(command)}`);
    }
    assert.match((await c.exec('true\nfi')).stderr, /^sh: 2: Syntax error/, 'line numbers as written');
  });

  test('run(): a non-zero exit is an error with label, host, exit code and stderr tail — never the command line', async () => {
    const c = connect();
    await assert.rejects(c.run('echo SECRET_VALUE_123 >/dev/null; echo "something broke" >&2; exit 7', { label: 'start app' }), (e: unknown) => {
      assert.ok(e instanceof RemoteCommandError);
      assert.equal(e.message, `start app failed on root@[127.0.0.1]:${sshd.port}: exit 7: something broke`);
      assert.ok(!e.message.includes('SECRET_VALUE_123'));
      return true;
    });
  });

  test('many parallel commands share one connection within the channel bound', async () => {
    const c = connect({ maxChannels: 4 });
    const start = Date.now();
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => c.exec(`sleep 0.2; echo ${i}`)));
    assert.deepEqual(
      results.map((r) => r.stdout.trim()),
      Array.from({ length: 16 }, (_, i) => String(i)),
    );
    assert.equal(c.connectCount, 1);
    assert.ok(Date.now() - start >= 700, '16 commands of 0.2 s through 4 channels take at least 4 rounds');
  });

  test('a dropped connection is re-established by the next call; the call in flight fails as a connection error', async () => {
    const c = connect();
    await c.exec('true');
    const inflight = c.exec('sleep 5');
    await new Promise((r) => setTimeout(r, 200));
    sshd.dropConnections();
    await assert.rejects(inflight, (e: unknown) => (e as Error).name === 'SshConnectionError');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await c.exec('echo back')).stdout, 'back\n');
    assert.equal(c.connectCount, 2);
  });

  test('the pool hands out one connection per host', async () => {
    const pool = new SshPool({ knownHostsFile: known, keys: [sshd.clientKey], defaultKeyFiles: [], agentSocket: '' });
    const a = pool.get({ host: sshd.host, port: sshd.port, user: 'root' });
    const b = pool.get({ host: sshd.host, port: sshd.port, user: 'root' });
    assert.equal(a, b);
    await Promise.all([a.exec('true'), b.exec('true')]);
    assert.deepEqual(Object.values(pool.connectCounts()), [1]);
    pool.closeAll();
  });
});

describe('a command given up on is stopped on the host, children included', () => {
  // root's login shell runs the command through a second sh, as the simulated hosts' does: Debian's
  // dash forks it, so the shell that runs the command does not lead its session
  let forking: TestSshd;
  // one that refuses the kill
  let noKill: TestSshd;
  before(async () => {
    forking = await startSshd({ clientKey: sshd.clientKey, forceCommand: 'sh -c "$SSH_ORIGINAL_COMMAND"' });
    noKill = await startSshd({
      clientKey: sshd.clientKey,
      forceCommand: 'case "$SSH_ORIGINAL_COMMAND" in *"pkill -KILL"*) echo "pkill: not permitted" >&2; exit 3;; *) eval "$SSH_ORIGINAL_COMMAND";; esac',
    });
    writeFileSync(known, `${forking.knownHostsLine}\n${noKill.knownHostsLine}\n`, { flag: 'a' });
  });
  after(async () => {
    await forking?.stop();
    await noKill?.stop();
  });

  /**
   * "pid pgid args" of each live process in session `sid` (the test sshd shares this machine's
   * process table); a zombie has ended, it only waits for init to reap it
   */
  const session = (sid: number) =>
    spawnSync('ps', ['-o', 'pid=,pgid=,stat=,args=', '--sid', String(sid)], { encoding: 'utf8' })
      .stdout.split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter(([pid, , stat]) => pid && !stat!.startsWith('Z'))
      .map(([pid, pgid, , ...args]) => [pid, pgid, ...args].join(' '));

  /** `check` returns what is still wrong, or nothing; polled until it says nothing, for 10 s at most */
  async function until(what: string, check: () => string | undefined): Promise<void> {
    let wrong: string | undefined;
    for (const end = Date.now() + 10_000; (wrong = check()) !== undefined && Date.now() < end;) await new Promise((r) => setTimeout(r, 50));
    if (wrong !== undefined) assert.fail(`${what}: ${wrong}`);
  }

  /** Under the command's shell: a foreground child, a background child and one in a process group of its own. */
  function family() {
    const sidFile = path.join(sshd.dir, `sid-${randomBytes(4).toString('hex')}`);
    const command = `sleep 300 & perl -e 'setpgrp(0, 0); exec @ARGV' sleep 301 & ps -o sid= -p $$ >${sidFile}; sleep 302; echo not stopped`;
    return {
      command,
      /** resolves with the command's session id once all three children run */
      async running(): Promise<number> {
        let sid = 0;
        await until('the command starts its children', () => {
          sid ||= existsSync(sidFile) ? Number(readFileSync(sidFile, 'utf8')) : 0;
          const ps = sid ? session(sid) : [];
          const own = ps.find((p) => / sleep 301$/.test(p))?.split(' ')[1];
          return ps.some((p) => / sleep 300$/.test(p)) && own && own !== String(sid) && ps.some((p) => / sleep 302$/.test(p))
            ? undefined
            : `session ${sid || '?'}: ${JSON.stringify(ps)}`;
        });
        return sid;
      },
    };
  }

  /** Kills what is left of session `sid`: a test leaves nothing behind, even when the product failed. */
  const endSession = (sid: number) => {
    const left = session(sid).map((p) => p.split(' ')[0]!);
    if (left.length) spawnSync('kill', ['-KILL', ...left]);
  };

  /** Waits for session `sid` to end on the host. */
  const gone = (sid: number) =>
    until(`session ${sid} ends on the host`, () => (session(sid).length ? `still running: ${JSON.stringify(session(sid))}` : undefined)).finally(() =>
      endSession(sid),
    );

  test('on a timeout', async () => {
    const c = connect();
    const f = family();
    const p = c.exec(f.command, { timeoutMs: 2000, label: 'slow step' });
    p.catch(() => {}); // asserted below, after the processes are seen
    const sid = await f.running();
    await assert
      .rejects(p, (e: unknown) => e instanceof SshTimeoutError && /^slow step on .* did not finish within 2s and was stopped$/.test(e.message))
      .finally(() => gone(sid));
    assert.equal((await c.exec('echo still usable')).stdout, 'still usable\n', 'the connection survives a stopped command');
  });

  for (const [name, server] of [
    ['', () => sshd],
    [" behind a ForceCommand whose shell forks the command's", () => forking],
  ] as const) {
    test(`on cancellation${name}`, async () => {
      const c = connect({}, server());
      const f = family();
      const ac = new AbortController();
      const p = c.exec(f.command, { signal: ac.signal, label: 'slow step' });
      p.catch(() => {});
      const sid = await f.running();
      ac.abort();
      await assert
        .rejects(p, (e: unknown) => (e as Error).name === 'AbortError' && /^slow step on .* was cancelled$/.test((e as Error).message))
        .finally(() => gone(sid));
    });
  }

  test('a stop the host refuses is reported as such, never as stopped', async () => {
    const f = family();
    const p = connect({}, noKill).exec(f.command, { timeoutMs: 2000, label: 'slow step' });
    p.catch(() => {});
    const sid = await f.running();
    const left: string[] = [];
    await assert
      .rejects(
        p,
        (e: unknown) =>
          e instanceof SshTimeoutError &&
          /^slow step on .* did not finish within 2s and stopping it on the host failed: pkill exited 3: pkill: not permitted$/.test(e.message),
      )
      .finally(() => left.push(...session(sid)))
      .finally(() => endSession(sid));
    assert.equal(left.length, 4, `the command still ran: ${JSON.stringify(left)}`);
  });
});

describe('authentication and bastion', () => {
  test('keys from ssh-agent', async () => {
    const sock = path.join(sshd.dir, 'agent.sock');
    const agent = spawnSync('ssh-agent', ['-a', sock], { encoding: 'utf8' });
    const pid = /SSH_AGENT_PID=(\d+)/.exec(agent.stdout)?.[1];
    try {
      assert.equal(spawnSync('ssh-add', [sshd.clientKey], { env: { ...process.env, SSH_AUTH_SOCK: sock } }).status, 0);
      const c = connect({ keys: [], agentSocket: sock });
      assert.equal((await c.exec('echo via agent')).stdout, 'via agent\n');
    } finally {
      if (pid) process.kill(Number(pid));
    }
  });

  test('a key the server does not accept is an authentication error', async () => {
    const wrong = path.join(sshd.dir, 'wrong');
    keygen(wrong);
    await assert.rejects(
      connect({ keys: [wrong] }).exec('true'),
      (e: unknown) => e instanceof SshAuthError && /accepted none of the SSH keys offered/.test(e.message),
    );
    await assert.rejects(connect({ keys: [] }).exec('true'), (e: unknown) => e instanceof SshAuthError && /no SSH key to log in/.test(e.message));
  });

  describe('proxy_jump: a target reachable only through its bastion', () => {
    let target: TestSshd;
    let bastion: TestSshd;
    before(async () => {
      target = await startSshd({ isolated: true });
      bastion = await startBastion(target);
    });
    after(async () => {
      await bastion?.stop();
      await target?.stop();
    });
    /** known_hosts with each host's own key, or another key in place of `wrong`'s */
    const knownHosts = (name: string, wrong?: TestSshd) => {
      const file = path.join(target.dir, name);
      const otherKey = path.join(target.dir, `${name}-key`);
      keygen(otherKey);
      const other = readFileSync(`${otherKey}.pub`, 'utf8').split(' ');
      const line = (h: TestSshd) => (h === wrong ? `[127.0.0.1]:${h.port} ${other[0]} ${other[1]}` : h.knownHostsLine);
      writeFileSync(file, `${line(bastion)}\n${line(target)}\n`);
      return file;
    };
    const via = (knownHostsFile: string, proxyJump: boolean) => {
      const c = new SshConnection(
        { host: target.host, port: target.port, user: 'root' },
        {
          knownHostsFile,
          keys: [target.clientKey],
          defaultKeyFiles: [],
          agentSocket: '',
          proxyJump: proxyJump ? { host: bastion.host, port: bastion.port, user: 'root' } : undefined,
        },
      );
      conns.push(c);
      return c;
    };

    test('the target refuses a direct connection', async () => {
      await assert.rejects(via(knownHosts('direct'), false).exec('true'), (e: unknown) => e instanceof SshConnectionError && /ECONNREFUSED/.test(e.message));
    });

    test('through the bastion the command runs on the target, both host keys verified', async () => {
      const r = await via(knownHosts('both'), true).exec('echo "$SSH_CONNECTION"; echo jumped');
      assert.match(r.stdout, new RegExp(`^127\\.0\\.0\\.1 \\d+ 127\\.0\\.0\\.1 ${target.port}\njumped\n$`), "the target's sshd served it");
    });

    for (const which of ['bastion', 'target'] as const) {
      test(`a wrong ${which} key is a HostKeyError naming the ${which}`, async () => {
        const host = which === 'bastion' ? bastion : target;
        await assert.rejects(via(knownHosts(`wrong-${which}`, host), true).exec('true'), (e: unknown) => {
          assert.ok(e instanceof HostKeyError, String(e));
          assert.equal(e.reason, 'mismatch');
          assert.equal(e.host, `root@[127.0.0.1]:${host.port}`);
          assert.equal(e.fingerprint, host.hostFingerprint);
          return true;
        });
      });
    }
  });
});

describe('upload', () => {
  test('streams, verifies, skips an identical file, resumes a partial one, restarts a bad one', async () => {
    const c = connect();
    const local = path.join(sshd.dir, 'payload.bin');
    writeFileSync(local, randomBytes(3 * 1024 * 1024 + 17));
    const remote = path.join(sshd.dir, 'remote', 'payload.bin');
    let progress = 0;
    const first = await uploadFile(c, local, remote, linuxUpload, { onProgress: (b) => (progress = b) });
    assert.equal(first.skipped, false);
    assert.equal(first.bytesSent, first.size);
    assert.equal(progress, first.size);
    assert.equal(await fileSha256(remote), first.sha256);
    assert.equal(existsSync(`${remote}.part`), false);

    const again = await uploadFile(c, local, remote, linuxUpload);
    assert.equal(again.skipped, true);

    // a transfer cut after 1 MiB left a prefix behind
    writeFileSync(local, randomBytes(2 * 1024 * 1024));
    writeFileSync(`${remote}.part`, readFileSync(local).subarray(0, 1024 * 1024));
    const resumed = await uploadFile(c, local, remote, linuxUpload);
    assert.equal(resumed.resumedFrom, 1024 * 1024);
    assert.equal(resumed.bytesSent, 1024 * 1024);
    assert.equal(await fileSha256(remote), await fileSha256(local));

    // a partial file from another upload is detected by the checksum and replaced
    writeFileSync(local, randomBytes(1024 * 1024));
    writeFileSync(`${remote}.part`, randomBytes(1000));
    const restarted = await uploadFile(c, local, remote, linuxUpload);
    assert.equal(restarted.resumedFrom, 0);
    assert.equal(await fileSha256(remote), await fileSha256(local));
  });

  test('cancellation aborts the stream and keeps the destination untouched', async () => {
    const c = connect();
    const local = path.join(sshd.dir, 'big.bin');
    writeFileSync(local, randomBytes(64 * 1024 * 1024));
    const remote = path.join(sshd.dir, 'remote', 'big.bin');
    const ac = new AbortController();
    const p = uploadFile(c, local, remote, linuxUpload, { signal: ac.signal, onProgress: (b) => b > 1024 * 1024 && ac.abort() });
    await assert.rejects(p, (e: unknown) => (e as Error).name === 'AbortError');
    assert.equal(existsSync(remote), false);
  });
});

describe('download', () => {
  test('streams to disk, verifies, skips an identical file, resumes a partial one, restarts a bad one', async () => {
    const c = connect();
    const remote = path.join(sshd.dir, 'release.tar.gz');
    writeFileSync(remote, randomBytes(3 * 1024 * 1024 + 17));
    const local = path.join(sshd.dir, 'local', 'release.tar.gz');
    mkdirSync(path.dirname(local), { recursive: true });
    let progress = 0;
    const first = await downloadFile(c, remote, local, linuxUpload, { onProgress: (b) => (progress = b) });
    assert.deepEqual([first.skipped, first.resumedFrom, progress], [false, 0, first.size]);
    assert.equal(await fileSha256(local), await fileSha256(remote));
    assert.equal(existsSync(`${local}.part`), false);
    assert.equal((await downloadFile(c, remote, local, linuxUpload)).skipped, true);

    // a drop after 1 MiB left a prefix behind: only the rest comes over
    writeFileSync(remote, randomBytes(2 * 1024 * 1024));
    writeFileSync(`${local}.part`, readFileSync(remote).subarray(0, 1024 * 1024));
    let sent = 0;
    const resumed = await downloadFile(c, remote, local, linuxUpload, { onProgress: (b) => (sent = b) });
    assert.equal(resumed.resumedFrom, 1024 * 1024);
    assert.equal(sent, 2 * 1024 * 1024);
    assert.equal(await fileSha256(local), await fileSha256(remote));

    // a partial file of something else is found out by the checksum and replaced
    writeFileSync(remote, randomBytes(1024 * 1024));
    writeFileSync(`${local}.part`, randomBytes(1000));
    const restarted = await downloadFile(c, remote, local, linuxUpload);
    assert.equal(restarted.resumedFrom, 0);
    assert.equal(await fileSha256(local), await fileSha256(remote));
  });

  test('stdout streamed to a file is not also kept in the result', async () => {
    const c = connect();
    const remote = path.join(sshd.dir, 'streamed.bin');
    writeFileSync(remote, randomBytes(8 * 1024 * 1024));
    const local = path.join(sshd.dir, 'local', 'streamed.bin');
    const file = createWriteStream(local);
    const r = await c.exec(`cat '${remote}'`, { stdoutTo: file });
    await new Promise((resolve) => file.end(resolve));
    assert.equal(r.code, 0);
    assert.equal(r.stdout, '');
    assert.equal(await fileSha256(local), await fileSha256(remote));
  });
});

describe('HTTP through the SSH tunnel', () => {
  test('plain HTTP: status, headers and body from an address only the server reaches; HTTPS with SNI', async () => {
    const { createServer } = await import('node:http');
    const https = await import('node:https');
    const c = connect();
    const plain = createServer((req, res) => {
      res.setHeader('Alcaide-Slot', 'green');
      res.end(`host=${req.headers.host} path=${req.url}`);
    }).listen(0, '127.0.0.1');
    await new Promise((r) => plain.once('listening', r));
    const { httpViaSsh } = await import('../../src/ssh/http');
    const port = (plain.address() as { port: number }).port;
    const res = await httpViaSsh(c, { host: '127.0.0.1', port, path: '/health', hostHeader: 'shop.example.com' });
    assert.deepEqual([res.status, res.headers['alcaide-slot'], res.body], [200, 'green', 'host=shop.example.com path=/health']);
    plain.close();

    const dir = sshd.dir;
    spawnSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${dir}/tls.key`, '-out', `${dir}/tls.crt`, '-days', '1', '-subj', '/CN=shop.example.com'],
      { stdio: 'ignore' },
    );
    let sni = '';
    const secure = https
      .createServer(
        { key: readFileSync(`${dir}/tls.key`), cert: readFileSync(`${dir}/tls.crt`), SNICallback: (name, cb) => ((sni = name), cb(null)) },
        (_req, r) => r.end('secure'),
      )
      .listen(0, '127.0.0.1');
    await new Promise((r) => secure.once('listening', r));
    const sres = await httpViaSsh(c, {
      host: '127.0.0.1',
      port: (secure.address() as { port: number }).port,
      path: '/',
      hostHeader: 'shop.example.com',
      tlsServername: 'shop.example.com',
    });
    assert.equal(sres.body, 'secure');
    assert.equal(sni, 'shop.example.com');
    secure.close();
    await assert.rejects(httpViaSsh(c, { host: '127.0.0.1', port: 1, path: '/' }), /cannot reach 127\.0\.0\.1:1 from the server/);
  });
});
