// A fleet child's link to its parent (workflows/hostFleet.ts is the parent's side): it reports
// what it has reached, waits for the parent's orders, and tells the parent at once when one of
// its steps fails — before its own undo steps run, so the other hosts go back meanwhile — and
// when one of its undo steps holds for the operator.
import { condition, getExternalWorkflowHandle, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import { failure } from '../src/failures';
import { hostReportSignal, proceedSignal, type HostOrder, type HostReport } from './signals';
import { rootMessage } from './tracker';
import type { Slot } from '../src/freebsd/layout';
import type { AppTarget } from '../src/model/target';
import type { HOST_DEPLOY_STEPS, HOST_ROLLBACK_STEPS } from './fleetSteps';
import { drainAndStop, type Saga } from './saga';
import type { HeldStep } from './status';

/** What a step that waited for an order says once it came. */
const ORDERED_NOTE: Record<HostOrder['to'], string> = {
  install: 'the release is on this host',
  switch: 'every host is prepared',
  finish: 'every host has switched',
  undo: 'the fleet goes back',
};

export function linkToParent(host: string) {
  const orders: HostOrder[] = [];
  setHandler(proceedSignal, (o) => void orders.push(o));
  const parent = workflowInfo().parent?.workflowId;
  const report = async (r: Omit<HostReport, 'host'>) => {
    if (parent) await getExternalWorkflowHandle(parent).signal(hostReportSignal, { host, ...r });
  };
  const undoOrdered = () => orders.find((o) => o.to === 'undo');
  return {
    report,
    /** Waits for `to`; an order to undo ends the run instead (its undo steps run). */
    async ordered(to: HostOrder['to']) {
      await condition(() => orders.some((o) => o.to === to || o.to === 'undo'));
      const undo = undoOrdered();
      if (undo) throw failure('StepFailed', `the fleet goes back: ${undo.why ?? 'another host failed'}`);
      return { changed: false, note: ORDERED_NOTE[to] };
    },
    /** The saga's holdUndo for a host of `t`: a held undo step and its retry reported to the parent (which may be gone). */
    holdUndo(t: AppTarget) {
      return {
        target: t,
        report: (held?: HeldStep) => report(held ? { phase: 'held', held } : { phase: 'undoing' }).catch(() => undefined),
      };
    },
    /** `run`, with its failure reported to the parent first (not one the parent ordered). */
    async reportingFailure(run: Promise<void>): Promise<void> {
      try {
        await run;
      } catch (e) {
        if (!undoOrdered()) await report({ phase: 'failed', error: rootMessage(e) }).catch(() => undefined);
        throw e;
      }
    },
  };
}

export type ParentLink = ReturnType<typeof linkToParent>;

/**
 * A fleet child's slot is ready: a web host's answers its health path; a host in no web role has
 * none, so its release must stay up instead (`checkRunning`). That step came later than the
 * rest: `patch` keeps a run started before it replaying as it ran, without it.
 */
export async function checkReady(
  saga: Saga<typeof HOST_DEPLOY_STEPS> | Saga<typeof HOST_ROLLBACK_STEPS>,
  t: AppTarget,
  slot: Slot,
  web: boolean,
  patch: 'host-deploy-check-running' | 'host-rollback-check-running',
): Promise<void> {
  // the tables share these steps, with the same activities
  const s = saga as Saga<typeof HOST_DEPLOY_STEPS>;
  if (web) {
    await s.run('checkHealth', t, slot);
    s.skip('checkRunning', 'a web host: its health path answered');
  } else {
    s.skip('checkHealth', 'not a web host');
    if (patched(patch)) await s.run('checkRunning', t, slot);
    else s.skip('checkRunning', 'not checked: a run started before this step existed');
  }
}

/**
 * The second half of a fleet child's run, the same for a deploy's host and a rollback's: wait
 * for the order to switch, switch to `to` through this host's Caddy (web hosts; the undo puts
 * traffic back on `from`), report it, wait for the order to finish; then nothing goes back: drain
 * and stop `from`, record what is live.
 */
export async function switchThenFinish(
  saga: Saga<typeof HOST_DEPLOY_STEPS> | Saga<typeof HOST_ROLLBACK_STEPS>,
  parent: ParentLink,
  o: { t: AppTarget; to: Slot; from?: Slot; version: string; web: boolean; noOld: string; undoWithoutFrom: boolean; onSwitch?: () => void },
): Promise<void> {
  // the tables share these steps, with the same activities
  const s = saga as Saga<typeof HOST_DEPLOY_STEPS>;
  const { t, to, from } = o;
  await s.own('awaitSwitch', () => parent.ordered('switch'));
  if (o.web) {
    o.onSwitch?.();
    if (from || o.undoWithoutFrom) s.willUndo('switchTraffic', () => [t, from, to]);
    await s.run('switchTraffic', t, to, from);
    await s.run('verifyThroughCaddy', t, to);
  } else {
    s.skip('switchTraffic', 'not a web host: no Caddy site');
    s.skip('verifyThroughCaddy', 'not a web host: no Caddy site');
  }
  await parent.report({ phase: 'switched' });

  await s.own('awaitFinish', () => parent.ordered('finish'));
  // every host serves `to`: from here nothing goes back
  s.commit();
  await drainAndStop(s, t, from, o.noOld);
  await s.run('recordDeploy', t, { slot: to, version: o.version, previousSlot: from });
}
