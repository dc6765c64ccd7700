// The drain (docs/configuration.md, drain_timeout): after the switch the old slot finishes the
// requests it already has. It ends once Caddy has none in flight to the slot's app (read from Caddy's
// admin API through the SSH connection, twice in a row), or at drain_timeout counted from when
// the step was first scheduled, so a retry does not start the wait over. Reading the figures
// never fails the deploy: without them the drain waits out drain_timeout, as a timer would.
import { CancelledFailure } from '@temporalio/common';
import { ADMIN_ENDPOINTS, upstreamsInFlight, UPSTREAMS_PATH } from '../src/caddy/admin';
import { slotAppUpstream, slotUpgradeUpstream } from '../src/caddy/caddyfile';
import type { Slot } from '../src/freebsd/layout';
import { formatDuration } from '../src/model/duration';
import type { StepResult } from '../src/model/step';
import type { AppTarget } from '../src/model/target';
import { describeTarget, httpViaSsh } from '../src/ssh/http';
import type { ActivityDeps } from './deps';
import { slotHost } from './jails';
import { activityCancellation, activityContext, withHeartbeat, type Remote } from './remote';

/** How often the drain reads Caddy's figures. */
export const DRAIN_POLL_MS = 100;
/** Reads in a row with nothing in flight before the drain ends (a request between two routing decisions is not missed). */
const QUIET_READS = 2;

type Endpoint = (typeof ADMIN_ENDPOINTS)[number];

/**
 * Requests in flight to `address` through Caddy and the upgraded connections open beside them
 * (undefined: the site has no route of their own, it predates them), from the first admin
 * endpoint that answers (`known` first).
 */
async function readInFlight(
  r: Remote,
  address: string,
  known?: Endpoint,
): Promise<{ n: number; upgraded: number | undefined; endpoint: Endpoint } | { error: string }> {
  const errors: string[] = [];
  for (const e of known ? [known] : ADMIN_ENDPOINTS) {
    try {
      const res = await httpViaSsh(r.conn, { ...e, path: UPSTREAMS_PATH, timeoutMs: 3000 });
      if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.body.trim().slice(0, 120)}`);
      const counts = upstreamsInFlight(res.body);
      return { n: counts.get(address) ?? 0, upgraded: counts.get(slotUpgradeUpstream(address)), endpoint: e };
    } catch (err) {
      errors.push(`${describeTarget(e)}: ${(err as Error).message}`);
    }
  }
  return { error: errors.join('; ') };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

const drainSlot =
  (d: ActivityDeps) =>
  async (t: AppTarget, slot: Slot): Promise<StepResult> => {
    if (t.hostRun && !t.hostRun.web) return { changed: false, note: 'not a web host: no request reaches it through Caddy' };
    const started = d.clock.now();
    // from the first attempt's scheduling; outside an activity (tests) from now
    const deadline = (activityContext()?.info.scheduledTimestampMs ?? started) + t.drainTimeoutMs;
    const signal = activityCancellation();
    const pause = async (ms: number) => {
      await d.clock.sleep(Math.max(0, ms));
      if (signal?.aborted) throw new CancelledFailure('the drain was cancelled');
    };
    // the slot server's ordinary requests to the app: every route of the site passes there, and
    // upgraded connections (websockets, open as long as their page) go by another name
    const address = slotAppUpstream(slotHost(t, slot), t.appPort);
    const r = d.remote(t);
    let state = { inFlight: -1 };
    return withHeartbeat(
      async () => {
        let endpoint: Endpoint | undefined;
        let quiet = 0;
        for (;;) {
          const read = await readInFlight(r, address, endpoint);
          if ('error' in read) {
            d.log.debug('the drain cannot read Caddy’s figures', { error: read.error });
            while (d.clock.now() < deadline) await pause(Math.min(DRAIN_POLL_MS * 5, deadline - d.clock.now()));
            return { changed: true, note: `waited drain_timeout (${formatDuration(t.drainTimeoutMs)}): Caddy's admin API did not answer (${read.error})` };
          }
          endpoint = read.endpoint;
          state = { inFlight: read.n };
          quiet = read.n === 0 ? quiet + 1 : 0;
          if (quiet >= QUIET_READS) {
            const left = read.upgraded ? ` (${plural(read.upgraded, 'upgraded connection')} left for the stop to close)` : '';
            return { changed: true, note: `no request in flight on ${slot} after ${seconds(d.clock.now() - started)}${left}` };
          }
          if (d.clock.now() >= deadline)
            return {
              changed: true,
              note:
                `${plural(read.n, 'request')} still in flight on ${slot} at drain_timeout (${formatDuration(t.drainTimeoutMs)}): stopping it ends them` +
                (read.upgraded === undefined
                  ? `; this site counts websockets as requests (written before they had their own route): \`alcaide setup\` rewrites it`
                  : ''),
            };
          await pause(Math.min(DRAIN_POLL_MS, deadline - d.clock.now()));
        }
      },
      () => state,
    );
  };

export function createDrainActivities(d: ActivityDeps) {
  return { drainSlot: drainSlot(d) };
}
