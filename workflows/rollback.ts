// RollbackWorkflow: bring the kept previous slot back, prove it healthy, move traffic to
// it, then stop the slot that was live. Same undo discipline as a deploy.
import { isCancellation, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { AppTarget } from '../src/config/target';
import { SEARCH_ATTRIBUTES } from '../src/temporal/searchAttributes';
import { acts, drainAndStop, Saga, undoActs } from './saga';
import { abortSignal } from './signals';
import type { WorkflowStatus } from './status';
import { StepTracker, type StepDef } from './tracker';

export const ROLLBACK_STEPS = [
  { name: 'chooseRollback', title: 'find the previous release' },
  { name: 'startSlot', title: 'start the previous slot' },
  { name: 'checkHealth', title: 'health check on the slot address' },
  { name: 'switchTraffic', title: 'switch traffic' },
  { name: 'verifyThroughCaddy', title: 'verify through Caddy' },
  { name: 'drainOldSlot', title: 'drain the rolled-back slot' },
  { name: 'stopOldSlot', title: 'stop the rolled-back slot' },
  { name: 'recordDeploy', title: 'record the rollback' },
] as const satisfies readonly StepDef[];

export interface RollbackInput {
  target: AppTarget;
  startedBy: string;
}

export async function rollbackWorkflow({ target: t, startedBy }: RollbackInput): Promise<WorkflowStatus> {
  const tracker = new StepTracker({ kind: 'rollback', app: t.app, destination: t.destination, host: t.server.host }, ROLLBACK_STEPS);
  const saga = new Saga(tracker);
  setHandler(abortSignal, saga.stopOn('aborted'));
  try {
    await saga.scope.run(async () => {
      const { to, from, version } = await tracker.run('chooseRollback', () => acts.chooseRollback(t));
      Object.assign(tracker.status, { slot: to, previousSlot: from, version });
      upsertSearchAttributes([
        { key: SEARCH_ATTRIBUTES.slot, value: to },
        { key: SEARCH_ATTRIBUTES.version, value: version },
      ]);
      saga.onFailure({ name: 'stopSlot', title: `stop ${to} again`, fn: () => undoActs.stopSlot(t, to) });
      await tracker.run('startSlot', () => acts.startSlot(t, to));
      await tracker.run('checkHealth', () => acts.checkHealth(t, to));
      if (from) saga.onFailure({ name: 'restoreTraffic', title: `traffic back to ${from}`, fn: () => undoActs.restoreTraffic(t, from, to) });
      await tracker.run('switchTraffic', () => acts.switchTraffic(t, to, from));
      await tracker.run('verifyThroughCaddy', () => acts.verifyThroughCaddy(t, to));
      await drainAndStop(tracker, t, from, 'nothing was live');
      await tracker.run('recordDeploy', () => acts.recordDeploy(t, { slot: to, version, previousSlot: from }));
    });
    return tracker.complete();
  } catch (e) {
    const failed = tracker.failedStep();
    const stop = saga.stopped ?? (isCancellation(e) ? 'cancelled' : undefined);
    const { restored } = await saga.compensate();
    throw tracker.failure(
      `rollback of ${t.app} (started by ${startedBy}) ${stop ?? 'failed'} on ${t.server.host}: ${stop ? `during ${failed?.title ?? 'the rollback'}` : `${failed?.title ?? 'a step'} failed: ${failed?.error ?? (e as Error).message}`}. Restored: ${restored}.`,
    );
  }
}
