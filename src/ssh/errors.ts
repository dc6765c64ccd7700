// SSH failures, classified so activities know what a retry can fix. Messages never carry
// the command line (it may hold secrets): a command is named by its label.

/** The host could not be reached or the link dropped: a retry may succeed. */
export class SshConnectionError extends Error {
  override name = 'SshConnectionError';
  constructor(
    readonly host: string,
    message: string,
  ) {
    super(`${host}: ${message}`);
  }
}

/** Host key unknown, mismatched or revoked: never retried, needs the operator. */
export class HostKeyError extends Error {
  override name = 'HostKeyError';
  constructor(
    readonly host: string,
    readonly reason: 'unknown' | 'mismatch' | 'revoked',
    message: string,
    readonly fingerprint: string,
  ) {
    super(message);
  }
}

/** No key was accepted: never retried. */
export class SshAuthError extends Error {
  override name = 'SshAuthError';
  constructor(
    readonly host: string,
    message: string,
  ) {
    super(message);
  }
}

/** A command ran longer than its timeout and was stopped on the host (or says why it could not be). */
export class SshTimeoutError extends Error {
  override name = 'SshTimeoutError';
  constructor(
    readonly host: string,
    readonly label: string,
    readonly timeoutMs: number,
    readonly notStopped?: string,
  ) {
    super(
      `${label} on ${host} did not finish within ${timeoutMs < 10_000 ? `${timeoutMs / 1000}` : Math.round(timeoutMs / 1000)}s and ` +
        (notStopped ? `stopping it on the host failed: ${notStopped}` : 'was stopped'),
    );
  }
}

/** A remote command exited non-zero. */
export class RemoteCommandError extends Error {
  override name = 'RemoteCommandError';
  constructor(
    readonly label: string,
    readonly host: string,
    readonly exitCode: number | null,
    readonly stderrTail: string,
    readonly signal?: string,
  ) {
    super(`${label} failed on ${host}: ${exitCode === null ? `killed by signal ${signal ?? '?'}` : `exit ${exitCode}`}${stderrTail ? `: ${stderrTail}` : ''}`);
  }
}

/** The last lines of output, trimmed to a readable size. */
export function tail(text: string, lines = 8, maxChars = 1500): string {
  const t = text.trimEnd().split('\n').slice(-lines).join('\n');
  return t.length > maxChars ? `…${t.slice(-maxChars)}` : t;
}
