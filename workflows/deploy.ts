// DeployWorkflow: build, start the next slot beside the live one, prove it healthy, move
// traffic, prove it again through Caddy, drain and stop the old slot (kept for rollback).
// Each undo step is registered before the step it undoes runs; on failure, abort or
// rollback they run in reverse order in a scope nothing can cancel.
import {
  ActivityCancellationType,
  type RetryPolicy,
  CancellationScope,
  isCancellation,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type * as activities from '../activities';
import type { AppTarget } from '../src/config/target';
import { NON_RETRYABLE_FAILURES } from '../src/failures';
import { DEPLOY_STEPS } from './deploySteps';
import { abortSignal, rollbackSignal, type StopRequest } from './signals';
import type { WorkflowStatus } from './status';
import { StepTracker, type StepOutcome } from './tracker';

export { DEPLOY_STEPS };

export interface DeployInput {
  target: AppTarget;
  /** full commit sha */
  version: string;
  /** what was asked for: HEAD, a tag, a branch */
  ref: string;
  startedBy: string;
}

const retry: RetryPolicy = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE_FAILURES };

const acts = proxyActivities<typeof activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '10 seconds',
  retry,
  // A stopped deploy waits for the running step to finish or acknowledge, so undo never races it.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

const slow = proxyActivities<typeof activities>({
  startToCloseTimeout: '60 minutes',
  heartbeatTimeout: '10 seconds',
  retry,
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

const undoActs = proxyActivities<typeof activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { ...retry, maximumAttempts: 10 },
});

const short = (v: string) => v.slice(0, 12);

export async function deployWorkflow(input: DeployInput): Promise<WorkflowStatus> {
  const { target: t, version } = input;
  const tracker = new StepTracker({ kind: 'deploy', app: t.app, destination: t.destination, host: t.server.host, version }, DEPLOY_STEPS);
  const undo: Array<{ name: string; title: string; fn: () => Promise<StepOutcome> }> = [];
  let stop: string | undefined;
  const main = new CancellationScope();
  const onStop = (kind: 'abort' | 'rollback') => (req: StopRequest) => {
    if (stop || tracker.status.state !== 'running') return;
    stop = `${kind === 'abort' ? 'aborted' : 'rolled back'}${req.by ? ` by ${req.by}` : ''}${req.reason ? ` (${req.reason})` : ''}`;
    main.cancel();
  };
  setHandler(abortSignal, onStop('abort'));
  setHandler(rollbackSignal, onStop('rollback'));

  try {
    await main.run(async () => {
      await tracker.run('ensureBuildJail', () => acts.ensureBuildJail(t));
      await tracker.run('uploadSource', () => slow.uploadSource(t, version));
      await tracker.run('buildRelease', () => slow.buildRelease(t, version));
      const choice = await tracker.run('chooseSlot', () => acts.chooseSlot(t));
      const next = choice.next;
      const prev = choice.active;
      tracker.status.slot = next;
      tracker.status.previousSlot = prev;
      upsertSearchAttributes({ slot: [next] });

      undo.unshift({ name: 'destroySlot', title: `remove the ${next} slot`, fn: () => undoActs.destroySlot(t, next) });
      await tracker.run('createSlotJail', () => slow.createSlotJail(t, next, version));
      await tracker.run('installRelease', () => acts.installRelease(t, next, version));
      await tracker.run('writeAppEnv', () => acts.writeAppEnv(t, next, version));
      await tracker.run('startApp', () => acts.startApp(t, next));
      if (t.release.migrate === false) tracker.skip('runMigrations', 'release.migrate is false');
      else await tracker.run('runMigrations', () => slow.runMigrations(t, next));
      await tracker.run('checkHealth', () => acts.checkHealth(t, next));

      undo.unshift({ name: 'restoreTraffic', title: prev ? `traffic back to ${prev}` : 'close the new slot to traffic', fn: () => undoActs.restoreTraffic(t, prev, next) });
      await tracker.run('switchTraffic', () => acts.switchTraffic(t, next, prev));
      await tracker.run('verifyThroughCaddy', () => acts.verifyThroughCaddy(t, next));
      if (prev) {
        await tracker.run('drainOldSlot', async () => {
          await sleep(t.drainTimeoutMs);
          return { changed: true, note: `${t.drainTimeoutMs / 1000}s for requests in flight on ${prev}` };
        });
        await tracker.run('stopOldSlot', () => acts.stopSlot(t, prev));
      } else {
        tracker.skip('drainOldSlot', 'first deploy: no old slot');
        tracker.skip('stopOldSlot', 'first deploy: no old slot');
      }
      await tracker.run('recordDeploy', () => acts.recordDeploy(t, { slot: next, version, previousSlot: prev }));
    });
    return tracker.complete();
  } catch (e) {
    const failed = tracker.failedStep();
    const why = stop ?? (failed ? `${failed.title} failed: ${failed.error}` : `failed: ${(e as Error).message}`);
    if (!stop && isCancellation(e)) stop = 'cancelled';
    tracker.status.state = 'compensating';
    const results = await CancellationScope.nonCancellable(async () => {
      const out: Array<[string, boolean]> = [];
      for (const u of undo) out.push([u.title, await tracker.compensate(u.name, u.title, u.fn)]);
      return out;
    });
    const restored = results.length
      ? results.map(([title, ok]) => (ok ? title : `FAILED: ${title}`)).join('; ')
      : 'nothing had changed on the server';
    tracker.status.restored = restored;
    const failedUndo = results.some(([, ok]) => !ok);
    throw tracker.failure(
      `deploy of ${t.app} ${short(version)} ${stop ?? 'failed'} on ${t.server.host}: ${stop ? `during ${failed?.title ?? 'the deploy'}` : why}. ` +
        `Restored: ${restored}.${failedUndo ? ' Some undo steps failed: check the server (alcaide status) before deploying again.' : ''}`,
    );
  }
}
