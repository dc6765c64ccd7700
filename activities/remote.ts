// What every remote activity shares: the worker's SSH pool (one connection per host for
// the life of the process), labelled commands, and errors turned into Temporal failures
// that say what a retry can fix.
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { AppTarget } from '../src/model/target';
import { expandHome, type ExecOptions, type ExecResult, type SshConnection } from '../src/ssh/connection';
import { HostKeyError, RemoteCommandError, SshAuthError, SshTimeoutError } from '../src/ssh/errors';
import { SshPool } from '../src/ssh/pool';

/** Failure types no retry can fix (the workflows' retry policies list them). */
export { NON_RETRYABLE_FAILURES as NON_RETRYABLE } from '../src/failures';

let pool: SshPool | undefined;

export function sshPool(): SshPool {
  pool ??= new SshPool({ knownHostsFile: path.join(os.homedir(), '.ssh', 'known_hosts') });
  return pool;
}

/** Closes every connection (worker shutdown, tests). */
export function closeSshPool(): void {
  pool?.closeAll();
  pool = undefined;
}

export function connectionFor(t: AppTarget): SshConnection {
  return sshPool().get(t.server, {
    knownHostsFile: expandHome(t.ssh.knownHosts ?? '~/.ssh/known_hosts'),
    keys: t.ssh.keys,
    proxyJump: t.ssh.proxyJump,
    trustNewHost: t.ssh.trustNewHost,
  });
}

/** A precondition the operator must fix (wrong OS, missing file): not retried. */
export function precondition(message: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type: 'PreconditionFailed', nonRetryable: true });
}

function toFailure(e: unknown): unknown {
  if (e instanceof HostKeyError) return ApplicationFailure.create({ message: e.message, type: 'HostKeyError', nonRetryable: true });
  if (e instanceof SshAuthError) return ApplicationFailure.create({ message: e.message, type: 'SshAuthError', nonRetryable: true });
  // label, host and exit status also make the failure's summary in clear (src/temporal/failureConverter.ts)
  if (e instanceof RemoteCommandError) return ApplicationFailure.create({ message: e.message, type: 'RemoteCommandError', details: [{ exitCode: e.exitCode, label: e.label, host: e.host, signal: e.signal }] });
  if (e instanceof SshTimeoutError) return ApplicationFailure.create({ message: e.message, type: 'SshTimeoutError' });
  return e;
}

/** A remote session for one activity: commands are cancelled with the activity. */
export class Remote {
  constructor(
    readonly conn: SshConnection,
    private readonly signal?: AbortSignal,
  ) {}

  static for(t: AppTarget): Remote {
    let signal: AbortSignal | undefined;
    try {
      signal = Context.current().cancellationSignal;
    } catch {
      /* outside an activity (tests, dry runs) */
    }
    return new Remote(connectionFor(t), signal);
  }

  /** Exit code decides; output returned. Never throws on a non-zero exit. */
  async check(command: string, label: string, o: ExecOptions = {}): Promise<ExecResult> {
    try {
      return await withHeartbeat(() => this.conn.exec(command, { label, signal: this.signal, timeoutMs: 60_000, ...o }), () => ({ step: label }), HEARTBEAT_MS);
    } catch (e) {
      throw toFailure(e);
    }
  }

  /** Must exit 0, else a RemoteCommandError failure naming the step, host, exit code, stderr tail. */
  async run(command: string, label: string, o: ExecOptions = {}): Promise<ExecResult> {
    try {
      return await withHeartbeat(() => this.conn.run(command, { label, signal: this.signal, timeoutMs: 300_000, ...o }), () => ({ step: label }), HEARTBEAT_MS);
    } catch (e) {
      throw toFailure(e);
    }
  }

  /** True when `command` exits 0. */
  async ok(command: string, label: string): Promise<boolean> {
    return (await this.check(command, label)).code === 0;
  }
}

/**
 * Every remote command heartbeats while it runs, so a worker that dies mid-step is noticed
 * within the workflows' heartbeat timeout (10 s) and the step is retried on another worker.
 */
export const HEARTBEAT_MS = 1_000;

/** Heartbeats while `fn` runs. */
export async function withHeartbeat<T>(fn: () => Promise<T>, details?: () => unknown, everyMs = HEARTBEAT_MS): Promise<T> {
  let ctx: Context | undefined;
  try {
    ctx = Context.current();
  } catch {
    return fn();
  }
  ctx.heartbeat(details?.());
  const timer = setInterval(() => ctx!.heartbeat(details?.()), everyMs);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}
