// One attempt of a step at a time on the host (docs/architecture.md rule 11). A worker that
// dies mid-step leaves its SSH command running; Temporal retries the step on another worker.
// Without a fence the two attempts would run side by side (a migration applied twice, a
// build writing its artifact after the retry began). sshd runs each command in a session of
// its own (setsid), so a session id names every process an attempt started, in jails too.
import { sh } from './sh';
import { FLIGHT_DIR } from './layout';

/** How long an earlier attempt may take to end after SIGTERM before it gets SIGKILL. */
export const FLIGHT_GRACE_SECONDS = 10;
/** How long an attempt waits for the lock once the earlier one was told to end. */
export const FLIGHT_WAIT_SECONDS = 30;
/** Step keys name the jail or app and the step: `hello_build.build`, `hello.migrate`. */
export const flightKey = (owner: string, step: string) => `${owner}.${step}`;

/** Sends SIGTERM to session $1, waits until none of its processes is left, SIGKILL after the grace. */
const endSession = (sid: string) =>
  [
    `pkill -TERM -s "${sid}" || true`,
    'i=0',
    `while pgrep -s "${sid}" >/dev/null && [ $i -lt ${FLIGHT_GRACE_SECONDS * 10} ]; do sleep 0.1; i=$((i + 1)); done`,
    `pkill -KILL -s "${sid}" || true`,
  ].join('; ');

/**
 * The watcher, in a session of its own (daemon(8)) so that ending the attempt's session does not
 * end it: $1 the attempt's session, $2 its sshd, $3 the attempt's shell, $4 the session file.
 * While the attempt runs it checks once a second that the SSH connection is still there; when
 * the connection is gone (worker killed, link cut) the attempt's session is ended. Once the
 * attempt is over the session file goes, so it never names a session id the kernel may reuse.
 */
const WATCHER = [
  'while ps -p "$3" >/dev/null 2>&1 && ps -p "$2" >/dev/null 2>&1; do sleep 1; done',
  `if ! ps -p "$2" >/dev/null 2>&1; then ${endSession('$1')}; fi`,
  'if [ "$(cat "$4" 2>/dev/null)" = "$1" ]; then rm -f "$4"; fi',
].join('\n');

/**
 * Wraps `command` so that it runs as the only attempt of `key` on the host:
 * - an earlier attempt whose session still has processes is ended (SIGTERM, SIGKILL after
 *   FLIGHT_GRACE_SECONDS) and this one waits until none of them is left: lockf alone would not
 *   do, it frees the lock as soon as it is signalled, while the work it started may linger;
 * - lockf(1) holds the lock while `command` runs (-k: the file stays, so waiters keep order);
 * - a watcher ends this attempt when its SSH connection ends (the worker was killed, the link
 *   dropped), so no orphan runs on until the retry arrives.
 * Only steps that are safe to interrupt and redo from the start are wrapped.
 * stdin, stdout, stderr and the exit status are the command's own.
 */
export function singleFlight(key: string, command: string): string {
  const base = `${FLIGHT_DIR}/${key}`;
  const lock = `${base}.lock`;
  const sidFile = `${base}.sid`;
  return [
    sh`mkdir -p ${FLIGHT_DIR}`,
    'sid=$(ps -o sid= -p $$ | tr -d " ")',
    // the session leader's parent is the sshd of this SSH connection
    'sshd=$(ps -o ppid= -p "$sid" | tr -d " ")',
    sh`old=$(cat ${sidFile} 2>/dev/null || true)`,
    'if [ -n "$old" ] && [ "$old" != "$sid" ] && pgrep -s "$old" >/dev/null; then',
    '  echo "ending the earlier attempt (session $old)" >&2',
    `  ${endSession('$old')}`,
    'fi',
    sh`echo "$sid" > ${sidFile}`,
    sh`daemon -f /bin/sh -c ${WATCHER} flight-watch "$sid" "$sshd" "$$" ${sidFile}`,
    sh`lockf -k -t ${FLIGHT_WAIT_SECONDS} ${lock} /bin/sh -c ${command}`,
  ].join('\n');
}
