// Stopping on the host a command this process gave up on (timeout, cancellation), children
// included. The SSH "signal" request cannot do it: OpenSSH refuses it in root sessions
// ("session signalling requires privilege separation") and ssh2 drops it once stdin has
// ended. OpenSSH runs each non-pty command in a session of its own (setsid, then the login
// shell with -c), so the command reports its shell's $$ as the first line of its stdout, which
// the client takes off, and `pkill -KILL -s` on another channel ends every process in that
// session (FreeBSD and Linux pkill(1)).

/** Sent before a command that may be stopped; on the same line, so error line numbers are unchanged. */
export const REPORT_PID = 'echo $$;';

export function reportingPid(command: string): string {
  return REPORT_PID + command;
}

/** The command as written, from the text sent (host command logs). */
export function withoutPidReport(sent: string): string {
  return sent.startsWith(REPORT_PID) ? sent.slice(REPORT_PID.length) : sent;
}

/**
 * Kills the session of the shell that reported `pid`. That shell leads its session, unless a
 * ForceCommand's shell forked it (FreeBSD's sh execs a lone command, Debian's dash forks): while
 * it lives, ps(1) names its session; once it has exited, its pid is the id of a session that
 * outlives it only if it led it.
 */
export function killSessionCommand(pid: number): string {
  if (!Number.isSafeInteger(pid) || pid <= 1) throw new Error(`not a shell's pid: ${pid}`);
  return `s=$(ps -o sid= -p ${pid}); pkill -KILL -s \${s:-${pid}}`;
}

const EMPTY = Buffer.alloc(0);
/** `echo $$` prints at most this many bytes: longer, it is not the report but the command's output. */
const MAX_LINE = 24;

/**
 * Takes the `PID\n` line off the front of a command's stdout; every byte after it passes
 * through unchanged. Output that does not start with that line passes through whole.
 */
export class PidLine {
  private head: Buffer | undefined = EMPTY;
  private settle!: (pid: number | undefined) => void;
  /** the output ended (the channel closed) */
  ended = false;
  /** the shell's pid, or undefined when the output ended or did not start with it */
  readonly pid = new Promise<number | undefined>((resolve) => (this.settle = resolve));

  /** Returns the part of `chunk` that is the command's own output. */
  take(chunk: Buffer): Buffer {
    if (!this.head) return chunk;
    const buf = Buffer.concat([this.head, chunk]);
    const nl = buf.indexOf(0x0a);
    if (nl < 0 && buf.length <= MAX_LINE) {
      this.head = buf;
      return EMPTY;
    }
    this.head = undefined;
    const line = nl < 0 ? '' : buf.subarray(0, nl).toString('latin1');
    if (!/^[0-9]{1,20}$/.test(line)) {
      this.settle(undefined);
      return buf;
    }
    this.settle(Number(line));
    return buf.subarray(nl + 1);
  }

  /** The output ended: returns what was held back (never a complete report line). */
  end(): Buffer {
    const rest = this.head ?? EMPTY;
    this.head = undefined;
    this.ended = true;
    this.settle(undefined);
    return rest;
  }
}
