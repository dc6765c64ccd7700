// A pause on the host: the app's gates closed with a `paused` file beside them, so Caddy holds new
// requests (src/caddy/caddyfile.ts) until a gate opens again. The file names the pause (its
// token) and the gates it closed, so the resume opens exactly those; a timer on the host
// (daemon(8), detached) resumes at the pause's end even when no worker is left to do it.
import { GATES_MARKER } from '../caddy/caddyfile';
import { gateDir, gateFile, pauseFile, siteFile, SLOTS } from './layout';
import { q, script, sh } from './sh';

/** Exit codes of pauseTraffic. */
export const PAUSE_EXIT = { siteWithoutGates: 4, noOpenGate: 5, pausedByAnother: 6 } as const;

/**
 * The resume, as one sh script (run by the step, and by the host's timer): opens the gates the
 * pause `token` closed, waits for Caddy's checks (every 200 ms) to see one, then drops the pause.
 * Another pause's file, or none, is left alone.
 */
export function resumeScript(app: string, token: string): string {
  const file = pauseFile(app);
  return [
    sh`[ -f ${file} ] || exit 0`,
    sh`read t gates < ${file} || true`,
    sh`[ "$t" = ${token} ] || exit 0`,
    `for g in $gates; do case "$g" in ${SLOTS.join('|')}) touch ${q(gateDir(app))}/"$g".open ;; esac; done`,
    'sleep 0.5',
    sh`rm -f ${file}`,
  ].join('\n');
}

/** Closes the gates under the pause `token` (a rerun with the same token changes nothing) and starts the host's timer. */
export function pauseTraffic(app: string, token: string, maxSeconds: number): string {
  const file = pauseFile(app);
  const open = SLOTS.map((s) => sh`if [ -f ${gateFile(app, s)} ]; then echo ${s}; fi`).join('; ');
  return script(
    sh`grep -qxF ${`\t${GATES_MARKER}`} ${siteFile(app)} || exit ${PAUSE_EXIT.siteWithoutGates}`,
    sh`if [ -f ${file} ]; then read t gates < ${file} || true; if [ "$t" = ${token} ]; then exit 0; fi; exit ${PAUSE_EXIT.pausedByAnother}; fi`,
    `open=$(${open})`,
    `[ -n "$open" ] || exit ${PAUSE_EXIT.noOpenGate}`,
    // the pause file first: from then on a request Caddy cannot place waits instead of failing
    sh`printf '%s %s\n' ${token} "$(echo $open)" > ${`${file}.new`}`,
    sh`mv -f ${`${file}.new`} ${file}`,
    sh`rm -f ${SLOTS.map((s) => gateFile(app, s))}`,
    sh`daemon -f sh -c ${`sleep ${maxSeconds}; ${resumeScript(app, token)}`}`,
    'changed "requests held"',
  );
}
