// DeployWorkflow: build, start the next slot beside the live one, prove it healthy, move
// traffic, prove it again through Caddy, drain and stop the old slot (kept for rollback).
// Each undo step is registered before the step it undoes; on failure, abort or rollback
// they run in reverse order in a scope nothing can cancel.
import { isCancellation, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { AppTarget } from '../src/config/target';
import { SEARCH_ATTRIBUTES } from '../src/temporal/searchAttributes';
import { DEPLOY_STEPS, deploySteps } from './deploySteps';
import { bake, OperatorHold } from './operator';
import { acts, allSettled, drainAndStop, Saga, slowActs, undoActs } from './saga';
import { abortSignal, rollbackSignal } from './signals';
import type { WorkflowStatus } from './status';
import { StepTracker } from './tracker';

export { DEPLOY_STEPS };

export interface DeployInput {
  target: AppTarget;
  /** full commit sha */
  version: string;
  /** what was asked for: HEAD, a tag, a branch */
  ref: string;
  startedBy: string;
}

const short = (v: string) => v.slice(0, 12);

export async function deployWorkflow(input: DeployInput): Promise<WorkflowStatus> {
  const { target: t, version } = input;
  const tracker = new StepTracker({ kind: 'deploy', app: t.app, destination: t.destination, host: t.server.host, version }, deploySteps(t.release.migrateBeforeStart));
  const saga = new Saga(tracker);
  setHandler(abortSignal, saga.stopOn('aborted'), { description: 'Stop the deploy; its undo steps put the previous slot back. Input optional: {"by": "...", "reason": "..."}' });
  setHandler(rollbackSignal, saga.stopOn('rolled back'), { description: 'Put the previous slot back now (also during the bake). Input optional: {"by": "..."}' });

  // with on_failure: hold, a step before the switch that fails waits for the operator
  const op = new OperatorHold(tracker, t);
  try {
    await saga.scope.run(async () => {
      await op.run('ensureBuildJail', () => acts.ensureBuildJail(t));
      await op.run('uploadSource', () => slowActs.uploadSource(t, version));
      const { next, active: prev } = await op.run('chooseSlot', () => acts.chooseSlot(t));
      Object.assign(tracker.status, { slot: next, previousSlot: prev });
      upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.slot, value: next }]);

      // until the switch begins the new slot has served no request: its undo need not drain it
      let tookTraffic = false;
      saga.onFailure({ name: 'destroySlot', title: `remove the ${next} slot`, fn: () => undoActs.destroySlot(t, next, tookTraffic) });
      // Neither needs the other: the next slot's jail is made while the release builds. Both
      // end before the deploy goes on or undoes anything (no undo races a running step).
      await allSettled([
        op.run('buildRelease', () => slowActs.buildRelease(t, version)),
        op.run('createSlotJail', () => slowActs.createSlotJail(t, next, version)),
      ]);
      await op.run('installRelease', () => acts.installRelease(t, next, version));
      await op.run('writeAppEnv', () => acts.writeAppEnv(t, next, version));
      // migrate_before_start: for an app that reads new tables as it boots
      const migrate = () => (t.release.migrate === false ? tracker.skip('runMigrations', 'release.migrate is false') : op.run('runMigrations', () => slowActs.runMigrations(t, next)));
      if (t.release.migrateBeforeStart) await migrate();
      await op.run('startApp', () => acts.startApp(t, next));
      if (!t.release.migrateBeforeStart) await migrate();
      await op.run('checkHealth', () => acts.checkHealth(t, next));

      // traffic moves: from here a failure switches back at once, never holds
      tookTraffic = true;
      saga.onFailure({ name: 'restoreTraffic', title: prev ? `traffic back to ${prev}` : 'close the new slot to traffic', fn: () => undoActs.restoreTraffic(t, prev, next) });
      await tracker.run('switchTraffic', () => acts.switchTraffic(t, next, prev));
      await tracker.run('verifyThroughCaddy', () => acts.verifyThroughCaddy(t, next));
      // the old slot keeps running through the bake, so a rollback then is instant
      if (t.bakeMs > 0) await tracker.run('bake', () => bake(tracker, t, next));
      else tracker.skip('bake', 'bake is off');
      await drainAndStop(tracker, t, prev, 'first deploy: no old slot');
      await tracker.run('recordDeploy', () => acts.recordDeploy(t, { slot: next, version, previousSlot: prev }));
    });
    return tracker.complete();
  } catch (e) {
    const failed = tracker.failedStep();
    const why = failed ? `${failed.title} failed: ${failed.error}` : `failed: ${(e as Error).message}`;
    const stop = saga.stopped ?? (isCancellation(e) ? 'cancelled' : undefined);
    const { restored, undoFailed } = await saga.compensate();
    throw tracker.failure(
      `deploy of ${t.app} ${short(version)} ${stop ?? 'failed'} on ${t.server.host}: ${stop ? `during ${failed?.title ?? 'the deploy'}` : why}. ` +
        `Restored: ${restored}.${undoFailed ? ' Some undo steps failed: check the server (alcaide status) before deploying again.' : ''}`,
    );
  }
}
