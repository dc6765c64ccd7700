// A canary on the target's host: the share of clients Caddy sends to the new slot (a file Caddy
// reads on each request, src/freebsd/canary.ts) and the figures of both slots from their access
// logs. The promote and the abort are switchTraffic and restoreTraffic (activities/deploy.ts).
import { figures, parseFigures, setShare, SITE_WITHOUT_CANARY, type CountedFigures } from '../src/freebsd/canary';
import type { SlotFigures } from '../src/model/canary';
import type { Slot } from '../src/freebsd/layout';
import { changesOf } from '../src/freebsd/sh';
import { failure } from '../src/failures';
import { stepResult, type StepResult } from '../src/model/step';
import type { AppTarget } from '../src/model/target';
import type { ActivityDeps } from './deps';
import { outputTail, precondition } from './remote';

/** What a count returns: both slots' figures since `sinceMs` and the host time it counted to. */
export type CanaryFiguresResult = StepResult & CountedFigures;

const olderSite = (t: AppTarget) =>
  precondition(`the Caddy site of ${t.app} on ${t.server.host} was written before canaries: run \`alcaide setup\` once (it rewrites the site; Caddy reloads)`);

function checkSlots(to: Slot, from: Slot, percent?: number) {
  if (to === from) throw precondition(`a canary needs two slots: ${to} cannot be both the canary and the stable slot`);
  if (percent !== undefined && !(Number.isFinite(percent) && percent >= 0 && percent <= 100))
    throw precondition(`a canary share is 0..100 percent, not ${percent}`);
}

/**
 * `percent` (0..100) of clients served by `to`, the rest by `from`; sticky: a client keeps its
 * slot while the share does not fall (a cookie); 100 = every request to `to`. Idempotent. Both
 * slots' gates stay as they are for the lb path; the canary routes decide while the share file exists.
 */
const setCanaryShare =
  (d: ActivityDeps) =>
  async (t: AppTarget, to: Slot, from: Slot, percent: number): Promise<StepResult> => {
    checkSlots(to, from, percent);
    const res = await d.remote(t).check(setShare(t.app, to, percent), `${percent}% of clients to ${to}`);
    if (res.code === SITE_WITHOUT_CANARY) throw olderSite(t);
    if (res.code !== 0) throw failure('RemoteCommandError', `setting the canary share on ${t.server.host} failed (exit ${res.code}): ${outputTail(res, 4)}`);
    return stepResult(changesOf(res.stdout), `${percent}% of clients to ${to} already`);
  };

/**
 * Requests and 5xx answers per slot, counted from each slot server's access log, since `sinceMs`
 * (epoch ms; host clock); the readiness checks are not in those logs.
 */
const canaryFigures =
  (d: ActivityDeps) =>
  async (t: AppTarget, to: Slot, from: Slot, sinceMs: number): Promise<CanaryFiguresResult> => {
    checkSlots(to, from);
    const res = await d.remote(t).check(figures(t.app, to, sinceMs), 'count requests and errors per slot');
    if (res.code === SITE_WITHOUT_CANARY) throw olderSite(t);
    if (res.code !== 0)
      throw failure('RemoteCommandError', `counting the slots' requests on ${t.server.host} failed (exit ${res.code}): ${outputTail(res, 4)}`);
    const f = parseFigures(res.stdout, to);
    const part = (slot: Slot, x: SlotFigures) => `${slot} ${x.requests} requests, ${x.errors} 5xx`;
    return { changed: false, note: `${part(to, f.canary)}; ${part(from, f.stable)}`, ...f };
  };

export function createCanaryActivities(d: ActivityDeps) {
  return { setCanaryShare: setCanaryShare(d), canaryFigures: canaryFigures(d) };
}
