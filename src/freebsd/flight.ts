// One attempt of a step at a time on the host (docs/architecture.md rule 11). A worker that
// dies mid-step leaves its SSH command running; Temporal retries the step on another worker.
// Without a fence the two attempts would run side by side (a migration applied twice, a
// build writing its artifact after the retry began). sshd runs each command in a session of
// its own (setsid), so a session id names every process an attempt started, in jails too.
import { sh } from './sh';

export const FLIGHT_DIR = '/var/run/alcaide/flight';
/** How long an earlier attempt may take to end after SIGTERM before it gets SIGKILL. */
export const FLIGHT_GRACE_SECONDS = 10;
/** How long an attempt waits for the lock once the earlier one was told to end. */
export const FLIGHT_WAIT_SECONDS = 30;
/** lockf(1) exits EX_TEMPFAIL when it could not take the lock in time. */
export const FLIGHT_BUSY_EXIT = 75;

/** Step keys name the app and the step: `hello.build`, `hello.migrate`. */
export const flightKey = (app: string, step: string) => `${app}.${step}`;

/**
 * Wraps `command` so that it runs as the only attempt of `key` on the host:
 * - an earlier attempt still holding the lock has its whole session ended (SIGTERM, then
 *   SIGKILL after FLIGHT_GRACE_SECONDS) before this one acts;
 * - lockf(1) holds the lock while `command` runs (-k: the file stays, so waiters keep order);
 * - a watcher ends this attempt's session when its SSH session ends (the worker was killed,
 *   the link dropped), so an orphan does not run on until the retry arrives. Only steps that
 *   are safe to interrupt (and redo from the start) are wrapped.
 * stdin, stdout, stderr and the exit status are the command's own.
 */
export function singleFlight(key: string, command: string): string {
  const base = `${FLIGHT_DIR}/${key}`;
  const lock = `${base}.lock`;
  const sidFile = `${base}.sid`;
  return [
    sh`mkdir -p ${FLIGHT_DIR}`,
    'sid=$(ps -o sid= -p $$ | tr -d " ")',
    // the session leader's parent is this SSH session's sshd
    'sshd=$(ps -o ppid= -p "$sid" | tr -d " ")',
    sh`if ! lockf -k -s -t 0 ${lock} true; then`,
    sh`  old=$(cat ${sidFile} 2>/dev/null || true)`,
    '  if [ -n "$old" ] && [ "$old" != "$sid" ]; then',
    '    echo "ending the earlier attempt (session $old)" >&2',
    '    pkill -TERM -s "$old" || true',
    // every process of that session gone, not only lockf (which frees the lock at once)
    '    i=0',
    `    while pgrep -s "$old" >/dev/null && [ $i -lt ${FLIGHT_GRACE_SECONDS * 10} ]; do sleep 0.1; i=$((i + 1)); done`,
    '    pkill -KILL -s "$old" || true',
    '  fi',
    'fi',
    sh`echo "$sid" > ${sidFile}`,
    '(while ps -p "$sshd" >/dev/null 2>&1; do sleep 1; done; pkill -TERM -s "$sid") </dev/null >/dev/null 2>&1 &',
    sh`exec lockf -k -t ${FLIGHT_WAIT_SECONDS} ${lock} /bin/sh -c ${command}`,
  ].join('\n');
}
