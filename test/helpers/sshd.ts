// A real OpenSSH sshd on loopback for SSH-layer tests: generated host and client keys,
// root login by key, /bin/sh as root's login shell (in a private mount namespace, so this
// machine's bash start-up files stay out of every command's timing).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  /** kills the per-connection sshd processes: every open client sees its link drop */
  dropConnections(): void;
  stop(): Promise<void>;
}

export interface SshdOptions {
  /** accept this client key instead of a new one */
  clientKey?: string;
  /** sshd_config ForceCommand: run by root's login shell, the command sent in $SSH_ORIGINAL_COMMAND */
  forceCommand?: string;
}

export function keygen(file: string, comment = 'alcaide-test'): void {
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`sshd exited: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sshd did not listen on ${port}: ${log()}`);
}

export async function startSshd(opts: SshdOptions = {}): Promise<TestSshd> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'alcaide-sshd-'));
  const port = await freePort();
  keygen(path.join(dir, 'host_ed25519'), 'host');
  const clientKey = opts.clientKey ?? path.join(dir, 'client_ed25519');
  if (!opts.clientKey) keygen(clientKey);
  writeFileSync(path.join(dir, 'authorized_keys'), readFileSync(`${clientKey}.pub`));
  const passwd = readFileSync('/etc/passwd', 'utf8').replace(/^(root:[^:]*:0:0:[^:]*:[^:]*:).*$/m, '$1/bin/sh');
  writeFileSync(path.join(dir, 'passwd'), passwd);
  writeFileSync(
    path.join(dir, 'sshd_config'),
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
      ...(opts.forceCommand ? [`ForceCommand ${opts.forceCommand}`] : []),
      '',
    ].join('\n'),
  );
  mkdirSync('/run/sshd', { recursive: true });
  let log = '';
  const child = spawn(
    'unshare',
    ['-m', '--propagation', 'private', 'sh', '-c', `mount --bind ${dir}/passwd /etc/passwd && exec /usr/sbin/sshd -D -e -f ${dir}/sshd_config`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr!.on('data', (d) => (log += d));
  await waitForPort(port, child, () => log);
  const pub = readFileSync(path.join(dir, 'host_ed25519.pub'), 'utf8').trim().split(/\s+/);
  const fp = spawnSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', path.join(dir, 'host_ed25519.pub')], { encoding: 'utf8' }).stdout.split(/\s+/)[1]!;
  return {
    host: '127.0.0.1',
    port,
    dir,
    clientKey,
    hostPublicKey: Buffer.from(pub[1]!, 'base64'),
    knownHostsLine: `[127.0.0.1]:${port} ${pub[0]} ${pub[1]}`,
    hostFingerprint: fp,
    dropConnections() {
      // unshare and sh exec into sshd, so child.pid is the listener; its children serve the connections.
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
