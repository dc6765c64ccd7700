// RollbackWorkflow: bring the kept previous slot back, prove it healthy, move traffic to
// it, then stop the slot that was live. Same undo discipline as a deploy.
import { ActivityCancellationType, CancellationScope, proxyActivities, setHandler, sleep, upsertSearchAttributes, type RetryPolicy } from '@temporalio/workflow';
import type * as activities from '../activities';
import type { AppTarget } from '../src/config/target';
import { NON_RETRYABLE_FAILURES } from '../src/failures';
import { abortSignal, type StopRequest } from './signals';
import type { WorkflowStatus } from './status';
import { StepTracker, type StepDef, type StepOutcome } from './tracker';

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

const retry: RetryPolicy = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE_FAILURES };
const acts = proxyActivities<typeof activities>({ startToCloseTimeout: '10 minutes', heartbeatTimeout: '10 seconds', retry, cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED });
const undoActs = proxyActivities<typeof activities>({ startToCloseTimeout: '10 minutes', heartbeatTimeout: '10 seconds', retry: { ...retry, maximumAttempts: 10 } });

export interface RollbackInput {
  target: AppTarget;
  startedBy: string;
}

export async function rollbackWorkflow({ target: t, startedBy }: RollbackInput): Promise<WorkflowStatus> {
  const tracker = new StepTracker({ kind: 'rollback', app: t.app, destination: t.destination, host: t.server.host }, ROLLBACK_STEPS);
  const undo: Array<{ name: string; title: string; fn: () => Promise<StepOutcome> }> = [];
  let stop: string | undefined;
  const main = new CancellationScope();
  setHandler(abortSignal, (req: StopRequest) => {
    if (stop || tracker.status.state !== 'running') return;
    stop = `aborted${req.by ? ` by ${req.by}` : ''}`;
    main.cancel();
  });
  try {
    await main.run(async () => {
      const choice = await tracker.run('chooseRollback', () => acts.chooseRollback(t));
      const { to, from, version } = choice;
      Object.assign(tracker.status, { slot: to, previousSlot: from, version });
      upsertSearchAttributes({ slot: [to], version: [version] });
      undo.unshift({ name: 'stopSlot', title: `stop ${to} again`, fn: () => undoActs.stopSlot(t, to) });
      await tracker.run('startSlot', () => acts.startSlot(t, to));
      await tracker.run('checkHealth', () => acts.checkHealth(t, to));
      if (from) undo.unshift({ name: 'restoreTraffic', title: `traffic back to ${from}`, fn: () => undoActs.restoreTraffic(t, from, to) });
      await tracker.run('switchTraffic', () => acts.switchTraffic(t, to, from));
      await tracker.run('verifyThroughCaddy', () => acts.verifyThroughCaddy(t, to));
      if (from) {
        await tracker.run('drainOldSlot', async () => {
          await sleep(t.drainTimeoutMs);
          return { changed: true, note: `${t.drainTimeoutMs / 1000}s for requests in flight on ${from}` };
        });
        await tracker.run('stopOldSlot', () => acts.stopSlot(t, from));
      } else {
        tracker.skip('drainOldSlot', 'nothing was live');
        tracker.skip('stopOldSlot', 'nothing was live');
      }
      await tracker.run('recordDeploy', () => acts.recordDeploy(t, { slot: to, version, previousSlot: from }));
    });
    return tracker.complete();
  } catch (e) {
    const failed = tracker.failedStep();
    tracker.status.state = 'compensating';
    const results = await CancellationScope.nonCancellable(async () => {
      const out: Array<[string, boolean]> = [];
      for (const u of undo) out.push([u.title, await tracker.compensate(u.name, u.title, u.fn)]);
      return out;
    });
    const restored = results.length ? results.map(([title, ok]) => (ok ? title : `FAILED: ${title}`)).join('; ') : 'nothing had changed on the server';
    tracker.status.restored = restored;
    throw tracker.failure(
      `rollback of ${t.app} (started by ${startedBy}) ${stop ?? 'failed'} on ${t.server.host}: ${stop ? `during ${failed?.title ?? 'the rollback'}` : `${failed?.title ?? 'a step'} failed: ${failed?.error ?? (e as Error).message}`}. Restored: ${restored}.`,
    );
  }
}
