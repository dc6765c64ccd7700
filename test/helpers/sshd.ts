// A real OpenSSH sshd for SSH-layer tests: generated host and client keys, root login by key,
// /bin/sh as root's login shell (in a private mount namespace, so this machine's bash start-up
// files stay out of every command's timing). `isolated` puts it in a network namespace of its
// own (loopback only: nothing outside can connect); startBastion gives a way in.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface TestSshd {
  host: string;
  port: number;
  dir: string;
  clientKey: string;
  hostPublicKey: Buffer;
  /** `[127.0.0.1]:PORT ssh-ed25519 AAAA…` */
  knownHostsLine: string;
  hostFingerprint: string;
  /** the network namespace it listens in (/proc/PID/ns/net; a bastion has none of its own) */
  netns?: string;
  /** kills the per-connection sshd processes: every open client sees its link drop */
  dropConnections(): void;
  stop(): Promise<void>;
}

export interface SshdOptions {
  /** in a network namespace of its own with only loopback: unreachable from this process */
  isolated?: boolean;
  /** accept this client key instead of a new one (a bastion and its target take the same) */
  clientKey?: string;
  /** sshd_config ForceCommand: run by root's login shell, the command sent in $SSH_ORIGINAL_COMMAND */
  forceCommand?: string;
}

export function keygen(file: string, comment = 'alcaide-test'): void {
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
}

/** A port free on this namespace's loopback (an isolated sshd takes it in its own: nothing answers here). */
async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** sshd writes its PidFile once its listening sockets are bound. */
async function waitForPidFile(file: string, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`sshd exited: ${log()}`);
    if (existsSync(file) && readFileSync(file, 'utf8').trim()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sshd did not start within 10 s: ${log()}`);
}

/** Keys, authorized_keys, root's /bin/sh passwd and sshd_config in a new directory. */
function prepare(port: number, { clientKey, forceCommand }: SshdOptions) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'alcaide-sshd-'));
  keygen(path.join(dir, 'host_ed25519'), 'host');
  const key = clientKey ?? path.join(dir, 'client_ed25519');
  if (!clientKey) keygen(key);
  writeFileSync(path.join(dir, 'authorized_keys'), readFileSync(`${key}.pub`));
  const passwd = readFileSync('/etc/passwd', 'utf8').replace(/^(root:[^:]*:0:0:[^:]*:[^:]*:).*$/m, '$1/bin/sh');
  writeFileSync(path.join(dir, 'passwd'), passwd);
  const config = path.join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${dir}/host_ed25519`,
      `PidFile ${dir}/sshd.pid`,
      `AuthorizedKeysFile ${dir}/authorized_keys`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'MaxSessions 20',
      'MaxStartups 50',
      'AllowTcpForwarding yes',
      'PrintMotd no',
      'LogLevel ERROR',
      ...(forceCommand ? [`ForceCommand ${forceCommand}`] : []),
      '',
    ].join('\n'),
  );
  mkdirSync('/run/sshd', { recursive: true });
  const pub = readFileSync(path.join(dir, 'host_ed25519.pub'), 'utf8').trim().split(/\s+/);
  const fp = spawnSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', path.join(dir, 'host_ed25519.pub')], { encoding: 'utf8' }).stdout.split(/\s+/)[1]!;
  return {
    dir,
    config,
    host: '127.0.0.1',
    port,
    clientKey: key,
    hostPublicKey: Buffer.from(pub[1]!, 'base64'),
    knownHostsLine: `[127.0.0.1]:${port} ${pub[0]} ${pub[1]}`,
    hostFingerprint: fp,
  };
}

export async function startSshd(opts: SshdOptions = {}): Promise<TestSshd> {
  const p = prepare(await freePort(), opts);
  const { dir } = p;
  let log = '';
  const script = `${opts.isolated ? 'ip link set lo up && ' : ''}mount --bind ${dir}/passwd /etc/passwd && exec /usr/sbin/sshd -D -e -f ${p.config}`;
  const child = spawn('unshare', ['-m', ...(opts.isolated ? ['-n'] : []), '--propagation', 'private', 'sh', '-c', script], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr!.on('data', (d) => (log += d));
  await waitForPidFile(path.join(dir, 'sshd.pid'), child, () => log);
  return {
    ...p,
    // unshare and sh exec into sshd, so child.pid is the listener; its children serve the connections.
    netns: `/proc/${child.pid}/ns/net`,
    dropConnections() {
      spawnSync('pkill', ['-KILL', '-P', String(child.pid)]);
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
      spawnSync('sh', ['-c', `pkill -KILL -f "sshd_config ${dir}" ; true`]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A bastion into `target`'s network namespace: it listens on this namespace's loopback, and
 * serves each connection with `sshd -i` started inside the target's namespace, so what it
 * forwards to reaches the target and nothing else does. It accepts the target's client key.
 */
export async function startBastion(target: TestSshd): Promise<TestSshd> {
  if (!target.netns) throw new Error('a bastion leads into an sshd started by startSshd');
  const sessions = new Set<ChildProcess>();
  // paused: each accepted socket is handed whole to an sshd, never read here
  const server = net.createServer({ pauseOnConnect: true });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const p = prepare((server.address() as net.AddressInfo).port, { clientKey: target.clientKey });
  server.on('connection', (sock) => {
    const child = spawn('nsenter', [`--net=${target.netns}`, '/usr/sbin/sshd', '-i', '-e', '-f', p.config], { stdio: [sock, sock, 'ignore'] });
    sessions.add(child);
    child.once('exit', () => sessions.delete(child));
    sock.destroy(); // sshd holds its own copy of the descriptor
  });
  return {
    ...p,
    dropConnections() {
      for (const s of sessions) s.kill('SIGKILL');
    },
    async stop() {
      await new Promise((r) => server.close(r));
      for (const s of sessions) s.kill('SIGKILL');
      rmSync(p.dir, { recursive: true, force: true });
    },
  };
}
