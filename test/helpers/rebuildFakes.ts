// Recording fake activities of a build jail rebuild (workflow tests): record each call, fail
// or block where told (the mode is read at call time, so a test may change it between runs).
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { buildCacheDecision } from '../../src/freebsd/buildjail';
import { REBUILD_STEPS } from '../../workflows/rebuild';
import { activitiesOf } from '../../workflows/stepTable';

export const VERSION = 'b'.repeat(40);

/** `oldOtp`/`newOtp`: the OTP majors of the jail in service (null: erl did not answer) and of the new one; 25 when not given. */
export type RebuildMode = { fail?: string; block?: string; oldOtp?: number | null; newOtp?: number; deployed?: boolean };

export function rebuildFakes(mode: RebuildMode = {}) {
  const calls: string[] = [];
  /** the rebuild ids passed to activities */
  const ids: string[] = [];
  let resolveReached: () => void = () => undefined;
  let reached = new Promise<void>((r) => (resolveReached = r));
  const release: { go?: () => void } = {};
  const acts: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  // every activity the rebuild's step table names: its steps' and its undos'
  for (const name of activitiesOf(REBUILD_STEPS)) {
    acts[name] = async (...args: unknown[]) => {
      const extra = args.slice(1).map((a) => {
        if (typeof a === 'string' && a.length > 20 && a !== VERSION) ids.push(a);
        return typeof a === 'string' && a.length > 20 ? (a === VERSION ? 'version' : 'id') : String(a);
      });
      calls.push(`${name}${extra.length ? `(${extra.join(',')})` : ''}`);
      if (mode.fail === name) throw ApplicationFailure.create({ message: `injected failure in ${name}`, type: 'TestBuildFailed', nonRetryable: true });
      if (mode.block === name) {
        resolveReached();
        const ctx = Context.current();
        let go = false;
        release.go = () => (go = true);
        while (!go) {
          ctx.heartbeat();
          await Promise.race([ctx.cancelled, new Promise((r) => setTimeout(r, 50))]).catch((e) => {
            calls.push(`${name}:cancelled`);
            throw e;
          });
        }
      }
      if (name === 'inspectBuildJail')
        return {
          changed: false,
          note: 'x',
          version: mode.deployed === false ? undefined : VERSION,
          otp: mode.oldOtp === null ? undefined : (mode.oldOtp ?? 25),
          hex: false,
        };
      if (name === 'carryBuildCache') {
        // the product's decision on the OTP the workflow passed and the new jail's
        const otp = mode.newOtp ?? 25;
        const { carry, note } = buildCacheDecision(args[1] as number | undefined, otp);
        return { changed: carry, carried: carry, otp, note };
      }
      return { changed: true, note: `did ${name}` };
    };
  }
  return {
    calls,
    ids,
    acts,
    release,
    /** resolves when the blocking step is reached (again after `rearm`) */
    get reached() {
      return reached;
    },
    rearm() {
      reached = new Promise<void>((r) => (resolveReached = r));
    },
  };
}
