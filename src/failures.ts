// The failure catalogue: every failure type an activity or a workflow raises, whether a retry
// can fix it, and what the CLI tells the operator to do about it (docs/architecture.md, "The
// saga runner and the failure catalogue"). Activities raise failures through `failure()`, the
// workflows' retry policies list NON_RETRYABLE_FAILURES, the CLI picks its hint by the failed
// step's failure type. Plain data and @temporalio/common: safe to import into workflow code.
import { ApplicationFailure, type Duration } from '@temporalio/common';

export interface FailureKind {
  /** a retry of the step may succeed (the link dropped, the host is booting) */
  retryable: boolean;
  /** what the operator does about it, when it is more than "fix the cause and run again" */
  hint?: string;
}

export const FAILURES = {
  // SSH (src/ssh/errors.ts, turned into failures in activities/remote.ts)
  HostKeyUnknown: { retryable: false, hint: 'verify the fingerprint, then run again with --trust-new-host' },
  HostKeyMismatch: { retryable: false, hint: 'do not continue until you know why the server key changed' },
  HostKeyRevoked: { retryable: false, hint: 'the key is marked @revoked in known_hosts: do not continue until you know why' },
  // as thrown, where an activity uses the connection beside Remote (an upload, HTTP through the tunnel)
  HostKeyError: { retryable: false, hint: "check the server's host key against known_hosts before you go on" },
  SshAuthError: { retryable: false, hint: 'check ssh.keys in deploy.yml, your ssh-agent and the server authorized_keys' },
  SshConnectionError: { retryable: true },
  SshTimeoutError: { retryable: true },
  RemoteCommandError: { retryable: true },
  // what the operator must fix on the host or in the project (wrong OS, missing file or secret)
  PreconditionFailed: { retryable: false },
  // thrown as errors (src/errors.ts) where an activity reads the project's config or secrets
  UserError: { retryable: false },
  ConfigError: { retryable: false, hint: 'fix deploy.yml (alcaide config shows what it reads), then run again' },
  // the app's own failures: a retry would fail the same way
  BuildFailed: { retryable: false },
  MigrationFailed: { retryable: false },
  HealthCheckFailed: { retryable: false },
  VerifyFailed: { retryable: false },
  BakeFailed: { retryable: false },
  // the canary's 5xx share beyond the old slot's (docs/canary.md): the figures are in the message
  CanaryBreach: { retryable: false, hint: 'the new version failed more requests than the old one: read its log (alcaide logs), fix it, then deploy again' },
  HexRefreshFailed: { retryable: false },
  ToolchainBroken: { retryable: false },
  TestBuildFailed: { retryable: false },
  // a hook exited non-zero, timed out or is missing on the worker (docs/hooks.md): running it again would not help
  HookFailed: { retryable: false, hint: 'fix the hook or its cause (its output is above), then run again; --skip-hooks runs without hooks' },
  // a deploy's wait for approval reached approval_timeout (docs/approvals.md): it was undone
  ApprovalTimedOut: { retryable: false, hint: 'deploy again and approve within approval_timeout (alcaide approve), or raise approval_timeout' },
  // transient: the host is still booting, Caddy has not seen the switch yet, a build was killed
  JailNotRunning: { retryable: true },
  SwitchNotSeen: { retryable: true },
  BuildInterrupted: { retryable: true },
  // a dead worker's step, failed by id so Temporal retries it now (src/temporal/takeover.ts)
  WorkerLost: { retryable: true },
  // what a workflow ends with: its status in the details (workflows/saga.ts, workflows/nightly.ts)
  StepFailed: { retryable: false },
  // a run that failed and whose undo steps did not all succeed: what it changed may still be
  // there (a fleet's parent names such a host "not taken back")
  UndoFailed: { retryable: false },
  RebuildFailed: { retryable: false },
} as const satisfies Record<string, FailureKind>;

export type FailureType = keyof typeof FAILURES;

/** No retry can fix these: the operator must act. The workflows' retry policies list them. */
export const NON_RETRYABLE_FAILURES: FailureType[] = (Object.keys(FAILURES) as FailureType[]).filter((t) => !FAILURES[t].retryable);

/** The hint for a failure type, if the catalogue has one. */
export const hintOf = (type: string | undefined): string | undefined =>
  type && type in FAILURES ? (FAILURES[type as FailureType] as FailureKind).hint : undefined;

/** A failure of a catalogued type: retried or not as the catalogue says. */
export function failure(type: FailureType, message: string, opts: { details?: unknown[]; nextRetryDelay?: Duration } = {}): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: !FAILURES[type].retryable, ...opts });
}
