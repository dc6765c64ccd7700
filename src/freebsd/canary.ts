// A canary on the host: a share file in the app's gate directory that Caddy reads on each request
// (src/caddy/caddyfile.ts, canary routes), and the figures counted from each slot server's access
// log. Nothing here reloads Caddy.
import { CANARY_MARKER } from '../caddy/caddyfile';
import type { CanaryFigures, SlotFigures } from '../model/canary';
import { putFunction, putText } from './files';
import { accessLog, accessLogDir, canaryShareFile, otherSlot, siteFile, SLOTS, type Slot } from './layout';
import { script, sh } from './sh';

/** Exit code of the canary commands when the site predates the canary routes (setup rewrites it). */
export const SITE_WITHOUT_CANARY = 4;

/**
 * Sorts above every client value (a lowercase UUID, hex digits and dashes): every client below
 * it, the canary takes all. "0000" sorts below every UUID (a longer string with that prefix is
 * greater): none.
 */
export const SHARE_ALL = 'g';

/**
 * The threshold a client's UUID must sort below to reach the canary: `percent` of 16^4 as four
 * hex digits, so UUIDs (uniform in their leading digits) split at that share.
 */
export function shareThreshold(percent: number): string {
  if (!Number.isFinite(percent) || percent < 0 || percent > 100) throw new Error(`a canary share is 0..100 percent, not ${percent}`);
  if (percent === 100) return SHARE_ALL;
  return Math.min(0xffff, Math.round((percent / 100) * 0x10000))
    .toString(16)
    .padStart(4, '0');
}

const requireCanarySite = (app: string) => sh`grep -qxF ${`\t${CANARY_MARKER}`} ${siteFile(app)} || exit ${SITE_WITHOUT_CANARY}`;

/**
 * `percent` of clients to `canary`'s server, the rest to the other slot's. A share file of the
 * other direction (left from an earlier canary) goes once this one is in place. Idempotent.
 */
export function setShare(app: string, canary: Slot, percent: number): string {
  const other = canaryShareFile(app, otherSlot(canary));
  return script(
    putFunction(),
    requireCanarySite(app),
    putText(canaryShareFile(app, canary), '0644', `${shareThreshold(percent)}\n`, `${percent}% of clients to ${canary}`),
    sh`if [ -f ${other} ]; then rm -f ${other}; changed ${`removed the share file of a canary on ${otherSlot(canary)}`}; fi`,
  );
}

/** Prints the canary slot of each share file that exists (one a line): a canary runs while one does. */
export const shareFiles = (app: string) => SLOTS.map((s) => sh`if [ -f ${canaryShareFile(app, s)} ]; then echo ${s}; fi`).join('; ');

export const parseShareFiles = (stdout: string): Slot[] => SLOTS.filter((s) => stdout.split('\n').some((l) => l.trim() === s));

/**
 * Script part (with `putFunction()`): every request to `slot` through whichever share file exists
 * (all to it as the canary, none to the other as one), before the gates change beneath.
 */
export function routeAllTo(app: string, slot: Slot): string {
  const as = (canary: Slot, threshold: string) =>
    [
      sh`if [ -f ${canaryShareFile(app, canary)} ]; then`,
      putText(canaryShareFile(app, canary), '0644', `${threshold}\n`, `every request to ${slot}`),
      'fi',
    ].join('\n');
  return [as(slot, SHARE_ALL), as(otherSlot(slot), shareThreshold(0))].join('\n');
}

/** The share files removed: from the next request on, the gates alone route. */
export const dropShares = (app: string) => sh`rm -f ${SLOTS.map((s) => canaryShareFile(app, s))}`;

/** Both slots' figures as counted on the host, and the host time (epoch ms) counted to: the next count starts there. */
export interface CountedFigures extends CanaryFigures {
  until: number;
}

/**
 * One access-log file set counted: lines Caddy logged as handled requests with `since` <= ts <
 * `until` (epoch seconds), and those of them with a 5xx status. Caddy's JSON encoder writes the
 * top-level "ts" before the request and "status" after it; a string value inside escapes its
 * quotes, so these patterns match the fields alone. Readiness checks are not in the log (log_skip).
 */
const COUNT = [
  '/"msg":"handled request"/ {',
  '  if (!match($0, /"ts":[0-9.eE+-]+/)) next',
  '  ts = substr($0, RSTART + 5, RLENGTH - 5) + 0',
  '  if (ts < since || ts >= until) next',
  '  if (!match($0, /"status":[0-9]+/)) next',
  '  n++',
  '  if (substr($0, RSTART + 9, RLENGTH - 9) + 0 >= 500) e++',
  '}',
  'END { printf "%s %d %d\\n", slot, n, e }',
].join('\n');

/**
 * Prints "SLOT REQUESTS ERRORS" for `canary` and for the other slot, then "until SECONDS": what
 * each slot server answered from `sinceMs` (epoch ms, host clock) to now, whole seconds, so
 * consecutive counts neither miss nor repeat a line. Rolled files count when written since then.
 */
export function figures(app: string, canary: Slot, sinceMs: number): string {
  if (!Number.isFinite(sinceMs) || sinceMs < 0) throw new Error(`sinceMs must be epoch milliseconds, not ${sinceMs}`);
  const since = (sinceMs / 1000).toFixed(3);
  const count = (slot: Slot) => {
    const log = accessLog(app, slot);
    const name = log.slice(log.lastIndexOf('/') + 1).replace(/\.log$/, '*.log');
    return [
      sh`files=$(find ${accessLogDir(app)} -maxdepth 1 -name ${name} -mmin -"$minutes" 2>/dev/null || true)`,
      `if [ -n "$files" ]; then ${sh`awk -v since=${since} -v until="$now" -v slot=${slot} ${COUNT}`} $files; else ${sh`echo ${slot} 0 0`}; fi`,
    ].join('\n');
  };
  return script(
    requireCanarySite(app),
    'now=$(date +%s)',
    // a file last written before `since` holds no line counted: find reads only those written since
    `minutes=$(( (now - ${Math.floor(sinceMs / 1000)}) / 60 + 2 ))`,
    'if [ "$minutes" -lt 2 ]; then minutes=2; fi',
    count(canary),
    count(otherSlot(canary)),
    'echo "until $now"',
  );
}

/** What figures() printed, by role. */
export function parseFigures(stdout: string, canary: Slot): CountedFigures {
  const bySlot = new Map<string, SlotFigures>();
  let until: number | undefined;
  for (const line of stdout.split('\n')) {
    const w = line.trim().split(/\s+/);
    if (w[0] === 'until' && /^\d+$/.test(w[1] ?? '')) until = Number(w[1]) * 1000;
    else if (SLOTS.includes(w[0] as Slot) && w.length === 3 && w.slice(1).every((n) => /^\d+$/.test(n)))
      bySlot.set(w[0]!, { requests: Number(w[1]), errors: Number(w[2]) });
  }
  const canaryFigures = bySlot.get(canary);
  const stableFigures = bySlot.get(otherSlot(canary));
  if (!canaryFigures || !stableFigures || until === undefined) throw new Error(`unexpected access-log figures: ${stdout.trim().slice(0, 200)}`);
  return { canary: canaryFigures, stable: stableFigures, until };
}
