// One SSH connection to one host, on ssh2: host key verified against known_hosts, keys
// from config then the agent then the default files, an optional bastion, keepalive,
// reconnect on the next call after a drop, and a bound on concurrent channels.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { Client, utils, type AuthenticationType, type ClientChannel, type ConnectConfig } from 'ssh2';
import { HostKeyError, RemoteCommandError, SshAuthError, SshConnectionError, SshTimeoutError, tail } from './errors';
import { killSessionCommand, PidLine, reportingPid } from './stop';
import { appendKnownHost, fingerprint, hostKeyName, keyTypeOf, readKnownHosts, verifyHostKey, type HostKeyVerdict } from './knownHosts';

export interface SshTarget {
  host: string;
  port: number;
  user: string;
}

export interface SshOptions {
  knownHostsFile: string;
  /** record the key of a host seen for the first time (explicit --trust-new-host) */
  trustNewHost?: boolean;
  /** private key paths from config; tried before the agent and the default files */
  keys?: string[];
  /** ssh-agent socket; defaults to SSH_AUTH_SOCK */
  agentSocket?: string;
  /** default key files; defaults to ~/.ssh/id_ed25519, id_ecdsa, id_rsa */
  defaultKeyFiles?: string[];
  proxyJump?: SshTarget;
  keepaliveIntervalMs?: number;
  readyTimeoutMs?: number;
  maxChannels?: number;
}

export interface ExecOptions {
  /** names the command in errors and logs instead of its text */
  label?: string;
  timeoutMs?: number;
  stdin?: string | Buffer | Readable;
  onStdout?: (chunk: Buffer) => void;
  /** stdout streamed into this (with backpressure) instead of kept: a download; the result's stdout is empty */
  stdoutTo?: Writable;
  onStderr?: (chunk: Buffer) => void;
  signal?: AbortSignal;
}

export interface ExecResult {
  code: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
}

export function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

export const DEFAULT_KEY_FILES = ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => path.join(os.homedir(), '.ssh', f));

/** A counting semaphore for channels: OpenSSH allows 10 sessions per connection by default. */
class Slots {
  private waiting: Array<() => void> = [];
  constructor(private free: number) {}
  async take(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}

/** How long stopping a command on the host may take: waiting for its shell's pid, then pkill. */
const STOP_MS = 10_000;

function cancelled(label: string, host: string, notStopped?: string): Error {
  return Object.assign(new Error(`${label} on ${host} was cancelled${notStopped ? `; stopping it on the host failed: ${notStopped}` : ''}`), {
    name: 'AbortError',
  });
}

interface KeyCandidate {
  source: string;
  key: Buffer;
}

export class SshConnection {
  private client?: Client;
  private bastion?: SshConnection;
  private connecting?: Promise<Client>;
  private readonly slots: Slots;
  private killing: Promise<unknown> = Promise.resolve();
  /** how many times a TCP+SSH handshake was made (benchmarks report connections per deploy) */
  connectCount = 0;

  constructor(
    readonly target: SshTarget,
    private readonly opts: SshOptions,
  ) {
    this.slots = new Slots(opts.maxChannels ?? 8);
  }

  get name(): string {
    return `${this.target.user}@${hostKeyName(this.target.host, this.target.port)}`;
  }

  get connected(): boolean {
    return this.client !== undefined;
  }

  /** Connects if not connected (again after a drop); concurrent callers share one attempt. */
  async connect(): Promise<Client> {
    if (this.client) return this.client;
    this.connecting ??= this.handshake().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private loadKeys(): { keys: KeyCandidate[]; skipped: string[] } {
    const keys: KeyCandidate[] = [];
    const skipped: string[] = [];
    const files = [...(this.opts.keys ?? []).map(expandHome), ...(this.opts.defaultKeyFiles ?? DEFAULT_KEY_FILES)];
    const explicit = new Set((this.opts.keys ?? []).map(expandHome));
    for (const f of [...new Set(files)]) {
      if (!existsSync(f)) {
        if (explicit.has(f)) skipped.push(`${f}: no such file`);
        continue;
      }
      const buf = readFileSync(f);
      const parsed = utils.parseKey(buf);
      if (parsed instanceof Error) {
        skipped.push(`${f}: ${/passphrase/i.test(parsed.message) ? 'protected by a passphrase (load it into ssh-agent)' : parsed.message}`);
        continue;
      }
      keys.push({ source: f, key: buf });
    }
    return { keys, skipped };
  }

  private async handshake(): Promise<Client> {
    const { host, port, user } = this.target;
    let sock: Readable | undefined;
    if (this.opts.proxyJump) {
      this.bastion ??= new SshConnection(this.opts.proxyJump, { ...this.opts, proxyJump: undefined });
      const b = await this.bastion.connect();
      sock = await new Promise<Readable>((resolve, reject) =>
        b.forwardOut('127.0.0.1', 0, host, port, (err, stream) =>
          err ? reject(new SshConnectionError(this.name, `bastion ${this.bastion!.name} could not reach ${host}:${port}: ${err.message}`)) : resolve(stream),
        ),
      );
    }
    const { keys, skipped } = this.loadKeys();
    const agent = this.opts.agentSocket ?? process.env.SSH_AUTH_SOCK;
    const methods: AuthenticationType[] = [];
    const strategies = [
      ...keys.map((k) => ({ type: 'publickey' as const, username: user, key: k.key })),
      ...(agent ? [{ type: 'agent' as const, username: user, agent }] : []),
    ];
    if (!strategies.length) {
      throw new SshAuthError(
        this.name,
        `no SSH key to log in to ${this.name}: none in ssh.keys, no ssh-agent (SSH_AUTH_SOCK), none of ${DEFAULT_KEY_FILES.join(', ')}${skipped.length ? ` (skipped: ${skipped.join('; ')})` : ''}`,
      );
    }
    let verdict: HostKeyVerdict | undefined;
    let presented: Buffer | undefined;
    const client = new Client();
    const config: ConnectConfig = {
      host: sock ? undefined : host,
      port: sock ? undefined : port,
      sock,
      username: user,
      readyTimeout: this.opts.readyTimeoutMs ?? 15_000,
      keepaliveInterval: this.opts.keepaliveIntervalMs ?? 10_000,
      keepaliveCountMax: 3,
      hostVerifier: (key: Buffer) => {
        presented = key;
        verdict = verifyHostKey(readKnownHosts(this.opts.knownHostsFile), host, port, key);
        if (verdict.status === 'unknown' && this.opts.trustNewHost) {
          appendKnownHost(this.opts.knownHostsFile, host, port, key);
          verdict = { status: 'trusted', entry: { line: 0, patterns: hostKeyName(host, port), keyType: keyTypeOf(key), key } };
        }
        return verdict.status === 'trusted';
      },
      authHandler: (_left, _partial, next) => {
        const s = strategies.shift();
        if (s) methods.push(s.type);
        next(s ?? (false as never));
      },
    };
    this.connectCount++;
    return new Promise<Client>((resolve, reject) => {
      let settled = false;
      client.once('ready', () => {
        settled = true;
        this.client = client;
        resolve(client);
      });
      // Without TCP_NODELAY every command waits ~40 ms on Nagle + delayed ACK (sshd writes a
      // command's exit status, EOF and close as separate small packets): 49 → 6 ms per `true`.
      client.once('connect', () => client.setNoDelay(true));
      client.on('error', (err: Error & { level?: string }) => {
        if (!settled) {
          settled = true;
          reject(this.classify(err, verdict, presented, skipped));
        }
      });
      client.on('close', () => {
        if (this.client === client) this.client = undefined;
        if (!settled) {
          settled = true;
          reject(new SshConnectionError(this.name, 'connection closed during the handshake'));
        }
      });
      client.connect(config);
    });
  }

  private classify(err: Error & { level?: string }, verdict: HostKeyVerdict | undefined, key: Buffer | undefined, skipped: string[]): Error {
    const file = this.opts.knownHostsFile;
    const name = hostKeyName(this.target.host, this.target.port);
    if (verdict && verdict.status !== 'trusted' && key) {
      const fp = fingerprint(key);
      const type = keyTypeOf(key);
      if (verdict.status === 'unknown') {
        return new HostKeyError(
          this.name,
          'unknown',
          `the host key of ${name} is not known (${type} ${fp}; not in ${file}). ` +
            `Check it on the server (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then trust it with --trust-new-host or add it to ${file}.`,
          fp,
        );
      }
      if (verdict.status === 'revoked') {
        return new HostKeyError(
          this.name,
          'revoked',
          `the host key of ${name} (${type} ${fp}) is marked @revoked in ${file}:${verdict.entry.line}; refusing to connect`,
          fp,
        );
      }
      const lines = verdict.entries.map((e) => `${file}:${e.line} (${fingerprint(e.key)})`).join(', ');
      return new HostKeyError(
        this.name,
        'mismatch',
        `HOST KEY MISMATCH for ${name}: the server presented ${type} ${fp}, but ${lines} says otherwise. ` +
          `Someone may be intercepting the connection, or the server was reinstalled. Refusing to connect. ` +
          `If the change is expected, remove the old key with: ssh-keygen -R '${name}' -f ${file}`,
        fp,
      );
    }
    if (err.level === 'client-authentication') {
      return new SshAuthError(
        this.name,
        `${this.name} accepted none of the SSH keys offered (ssh.keys, ssh-agent, default key files)${skipped.length ? `; skipped: ${skipped.join('; ')}` : ''}`,
      );
    }
    return new SshConnectionError(this.name, err.message);
  }

  /**
   * Runs a command; resolves with its exit code and output (non-zero is not an error here).
   * A command given up on (timeoutMs, signal) is stopped on the host, children included,
   * before the call rejects.
   */
  async exec(command: string, o: ExecOptions = {}): Promise<ExecResult> {
    const release = await this.slots.take();
    try {
      return await this.open(await this.connect(), command, o);
    } finally {
      release();
    }
  }

  /** One exec channel on `client`, outside the channel bound (exec takes the slot). */
  private open(client: Client, command: string, o: ExecOptions): Promise<ExecResult> {
    const label = o.label ?? 'command';
    if (o.signal?.aborted) return Promise.reject(cancelled(label, this.name));
    const report = o.timeoutMs !== undefined || o.signal ? new PidLine() : undefined;
    return new Promise<ExecResult>((resolve, reject) => {
      client.exec(report ? reportingPid(command) : command, (err, channel) => {
        if (err) {
          reject(new SshConnectionError(this.name, `could not open a channel for ${label}: ${err.message}`));
          return;
        }
        this.runChannel(client, channel, label, o, report, resolve, reject);
      });
    });
  }

  private runChannel(
    client: Client,
    channel: ClientChannel,
    label: string,
    o: ExecOptions,
    report: PidLine | undefined,
    resolve: (r: ExecResult) => void,
    reject: (e: Error) => void,
  ): void {
    const out: Buffer[] = [];
    const errOut: Buffer[] = [];
    let code: number | null = null;
    let signal: string | undefined;
    let done = false;
    let stopping = false;
    const settle = (e?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      if (e) reject(e);
      else resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errOut).toString('utf8') });
    };
    // once stopping, only the stop settles: the channel's own end is the kill taking effect
    const finish = (e?: Error) => {
      if (!stopping) settle(e);
    };
    const stop = (failure: (notStopped?: string) => Error) => {
      if (done || stopping) return;
      stopping = true;
      clearTimeout(timer);
      void this.stopOnHost(client, report).then((notStopped) => {
        channel.close();
        settle(failure(notStopped));
      });
    };
    const stdout = (d: Buffer) => {
      if (!d.length) return;
      o.onStdout?.(d);
      if (!o.stdoutTo) return void out.push(d);
      // the channel waits while the file catches up: never more than a window in memory
      if (!o.stdoutTo.write(d)) {
        channel.pause();
        o.stdoutTo.once('drain', () => channel.resume());
      }
    };
    const timer = o.timeoutMs ? setTimeout(() => stop((n) => new SshTimeoutError(this.name, label, o.timeoutMs!, n)), o.timeoutMs) : undefined;
    const onAbort = () => stop((n) => cancelled(label, this.name, n));
    o.signal?.addEventListener('abort', onAbort, { once: true });
    channel.on('data', (d: Buffer) => stdout(report ? report.take(d) : d));
    channel.stderr.on('data', (d: Buffer) => {
      errOut.push(d);
      o.onStderr?.(d);
    });
    channel.on('exit', (c: number | null, sig?: string) => {
      code = c;
      signal = sig ?? undefined;
    });
    channel.on('close', () => {
      if (report) stdout(report.end());
      if (code === null && signal === undefined) finish(new SshConnectionError(this.name, `connection lost while running ${label}`));
      else finish();
    });
    channel.on('error', (e: Error) => finish(new SshConnectionError(this.name, `${label}: ${e.message}`)));
    const stdin = o.stdin;
    if (stdin === undefined) channel.end();
    else if (typeof stdin === 'string' || Buffer.isBuffer(stdin)) channel.end(stdin);
    else {
      stdin.on('error', (e) => stop(() => e));
      stdin.pipe(channel);
    }
  }

  /** Kills the command's session on the host; resolves with why that failed, if it did. */
  private async stopOnHost(client: Client, report: PidLine | undefined): Promise<string | undefined> {
    if (!report) return undefined;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<string>((r) => (timer = setTimeout(() => r(`no answer within ${STOP_MS / 1000}s`), STOP_MS)));
    const kill = async (): Promise<string | undefined> => {
      const pid = await report.pid;
      if (pid === undefined) return report.ended ? undefined : "it did not report its shell's pid (is the login shell sh?)";
      // one kill at a time per connection (the stopping channels hold their slots meanwhile);
      // a kill with no answer holds up the next one until its deadline only
      const r = this.killing.then(() => this.open(client, killSessionCommand(pid), { label: 'stop a command' }));
      this.killing = Promise.race([r, deadline]).catch(() => undefined);
      const { code, signal, stderr } = await r;
      return code === 0 || code === 1 ? undefined : `pkill exited ${code ?? signal}: ${tail(stderr)}`; // 1: nothing left to kill
    };
    try {
      return await Promise.race([kill(), deadline]);
    } catch (e) {
      return (e as Error).message;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs a command and throws RemoteCommandError (label, host, exit code, stderr tail) unless it exits 0. */
  async run(command: string, o: ExecOptions & { label: string }): Promise<ExecResult> {
    const r = await this.exec(command, o);
    if (r.code !== 0) throw new RemoteCommandError(o.label, this.name, r.code, tail(r.stderr || r.stdout), r.signal);
    return r;
  }

  /**
   * Runs a command wired to this process's stdin/stdout/stderr (a PTY when stdin is a
   * terminal, for `bin/app remote`); resolves with its exit code.
   */
  async interactive(command: string): Promise<number> {
    const client = await this.connect();
    const tty = Boolean(process.stdin.isTTY);
    return new Promise((resolve, reject) => {
      const pty = tty ? { term: process.env.TERM ?? 'xterm', rows: process.stdout.rows ?? 24, cols: process.stdout.columns ?? 80 } : undefined;
      client.exec(command, pty ? { pty } : {}, (err, channel) => {
        if (err) return reject(new SshConnectionError(this.name, err.message));
        let code = 255;
        if (tty) process.stdin.setRawMode(true);
        const onResize = () => channel.setWindow(process.stdout.rows ?? 24, process.stdout.columns ?? 80, 0, 0);
        process.stdout.on('resize', onResize);
        process.stdin.pipe(channel);
        channel.pipe(process.stdout);
        channel.stderr.pipe(process.stderr);
        channel.on('exit', (c: number | null) => (code = c ?? 255));
        channel.on('close', () => {
          process.stdin.unpipe(channel);
          process.stdout.off('resize', onResize);
          if (tty) process.stdin.setRawMode(false);
          process.stdin.pause();
          resolve(code);
        });
      });
    });
  }

  close(): void {
    this.client?.end();
    this.client = undefined;
    this.bastion?.close();
  }

  /** Drops the connection as a network failure would (fault tests). */
  destroy(): void {
    (this.client as unknown as { _sock?: { destroy(): void } } | undefined)?._sock?.destroy();
    this.client = undefined;
  }
}
