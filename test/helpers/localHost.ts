// The machine the test runs on as an activity's "host": commands run under the real /bin/sh
// with the host paths a test names moved into its temp directory, stand-ins for the FreeBSD
// commands it names (exit 0), and the SSH tunnel a TCP connection to a port the test maps (or
// to a unix socket it maps).
// For activities checked against a real local Caddy (test/unit/canary.test.ts).
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { ExecOptions, ExecResult, SshConnection } from '../../src/ssh/connection';
import { RemoteCommandError } from '../../src/ssh/errors';

export interface LocalHostOptions {
  /** host path -> local path, replaced in every command's text (longest first) */
  paths: Record<string, string>;
  /** the port a tunnel asks for -> the local port it reaches (on 127.0.0.1) */
  ports: Record<number, number>;
  /** host unix socket -> the local socket a streamlocal tunnel to it reaches */
  sockets?: Record<string, string>;
  /** a directory for the stand-in commands */
  binDir: string;
  /** FreeBSD commands that succeed doing nothing (jls, service, sysrc …) */
  standIns?: string[];
}

export interface LocalHost {
  conn: SshConnection;
  /** every command run, with when it ended (performance.now()) */
  commands: Array<{ command: string; label?: string; endedAt: number; code: number | null }>;
}

export function localHost(o: LocalHostOptions): LocalHost {
  mkdirSync(o.binDir, { recursive: true });
  for (const name of o.standIns ?? []) {
    writeFileSync(path.join(o.binDir, name), '#!/bin/sh\nexit 0\n');
    chmodSync(path.join(o.binDir, name), 0o755);
  }
  const froms = Object.keys(o.paths).sort((a, b) => b.length - a.length);
  const mapped = (command: string) => froms.reduce((c, from) => c.replaceAll(from, o.paths[from]!), command);
  const commands: LocalHost['commands'] = [];

  const exec = (command: string, x: ExecOptions = {}): Promise<ExecResult> =>
    new Promise((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', mapped(command)], { env: { ...process.env, PATH: `${o.binDir}:${process.env.PATH}` } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => {
        commands.push({ command, label: x.label, endedAt: performance.now(), code });
        resolve({ code, stdout, stderr });
      });
      // a command that reads no stdin may be gone before it is written
      child.stdin.on('error', () => {});
      child.stdin.end(x.stdin ?? '');
    });

  const client = {
    forwardOut(_srcIp: string, _srcPort: number, _host: string, port: number, cb: (err: Error | undefined, stream?: net.Socket) => void) {
      const to = o.ports[port];
      if (to === undefined) return cb(new Error(`the test maps no port ${port}`));
      const socket = net.connect(to, '127.0.0.1');
      socket.once('connect', () => cb(undefined, socket));
      socket.once('error', (e) => cb(e));
    },
    openssh_forwardOutStreamLocal(socketPath: string, cb: (err: Error | undefined, stream?: net.Socket) => void) {
      const to = o.sockets?.[socketPath];
      if (to === undefined) return cb(new Error(`open failed (no socket ${socketPath} on this host)`));
      const socket = net.connect(to);
      socket.once('connect', () => cb(undefined, socket));
      socket.once('error', (e) => cb(e));
    },
  };

  const conn = {
    name: 'localhost',
    exec,
    async run(command: string, x: ExecOptions & { label: string }) {
      const r = await exec(command, x);
      if (r.code !== 0) throw new RemoteCommandError(x.label, 'localhost', r.code, (r.stderr || r.stdout).trim().slice(-500));
      return r;
    },
    connect: async () => client,
  } as unknown as SshConnection;
  return { conn, commands };
}
