// What every remote activity shares: a session on the target's host (its connection comes from
// the worker's deps), labelled commands that heartbeat, and errors turned into Temporal
// failures that say what a retry can fix.
import { Context } from '@temporalio/activity';
import { failure } from '../src/failures';
import { CHECK_TIMEOUT_MS, RUN_TIMEOUT_MS } from '../src/host/ssh';
import type { ExecOptions, ExecResult, SshConnection } from '../src/ssh/connection';
import { HostKeyError, RemoteCommandError, SshAuthError, SshTimeoutError } from '../src/ssh/errors';

/** A precondition the operator must fix (wrong OS, missing file): not retried. */
export const precondition = (message: string) => failure('PreconditionFailed', message);

const HOST_KEY_FAILURE = { unknown: 'HostKeyUnknown', mismatch: 'HostKeyMismatch', revoked: 'HostKeyRevoked' } as const;

/** The last lines a command printed (stderr, else stdout), for an error. */
export const outputTail = (res: { stdout: string; stderr: string }, lines = 12) => (res.stderr || res.stdout).trim().split('\n').slice(-lines).join('\n');

function toFailure(e: unknown): unknown {
  if (e instanceof HostKeyError) return failure(HOST_KEY_FAILURE[e.reason], e.message);
  if (e instanceof SshAuthError) return failure('SshAuthError', e.message);
  // label, host and exit status also make the failure's summary in clear (src/temporal/failureConverter.ts)
  if (e instanceof RemoteCommandError)
    return failure('RemoteCommandError', e.message, { details: [{ exitCode: e.exitCode, label: e.label, host: e.host, signal: e.signal }] });
  if (e instanceof SshTimeoutError) return failure('SshTimeoutError', e.message);
  return e;
}

/** The running activity's context, if this runs in one (not in tests or dry runs). */
export function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** The running activity's cancellation, if this runs in one. */
export const activityCancellation = (): AbortSignal | undefined => activityContext()?.cancellationSignal;

/** A remote session for one activity: commands are cancelled with the activity. */
export class Remote {
  constructor(
    readonly conn: SshConnection,
    private readonly signal?: AbortSignal,
  ) {}

  /** Exit code decides; output returned. Never throws on a non-zero exit. */
  async check(command: string, label: string, o: ExecOptions = {}): Promise<ExecResult> {
    try {
      return await withHeartbeat(
        () => this.conn.exec(command, { label, signal: this.signal, timeoutMs: CHECK_TIMEOUT_MS, ...o }),
        () => ({ step: label }),
        HEARTBEAT_MS,
      );
    } catch (e) {
      throw toFailure(e);
    }
  }

  /** Must exit 0, else a RemoteCommandError failure naming the step, host, exit code, stderr tail. */
  async run(command: string, label: string, o: ExecOptions = {}): Promise<ExecResult> {
    try {
      return await withHeartbeat(
        () => this.conn.run(command, { label, signal: this.signal, timeoutMs: RUN_TIMEOUT_MS, ...o }),
        () => ({ step: label }),
        HEARTBEAT_MS,
      );
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
