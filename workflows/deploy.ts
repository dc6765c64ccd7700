// DeployWorkflow: build, start the next slot beside the live one, prove it healthy, move
// traffic, prove it again through Caddy, drain and stop the old slot (kept for rollback).
// Each undo step is registered before the step it undoes; on failure, abort or rollback
// they run in reverse order in a scope nothing can cancel.
import { patched, upsertSearchAttributes } from '@temporalio/workflow';
import { shortVersion, type AppTarget } from '../src/model/target';
import { SEARCH_ATTRIBUTES } from '../src/model/searchAttributes';
import type { CanaryPlan } from '../src/model/canary';
import type { GatePlan } from '../src/model/gates';
import type { HookPlan } from '../src/model/hooks';
import { DEPLOY_STEPS, deploySteps } from './deploySteps';
import { DEPLOY_GATES_AFTER } from './gateSteps';
import { Gates } from './gates';
import { DEPLOY_HOOKS } from './hookSteps';
import { Hooks } from './hooks';
import { Canary } from './canary';
import { bake } from './operator';
import { pruneAfterDeploy } from './releases';
import { allSettled, drainAndStop, runSaga } from './saga';
import { abortSignal, rollbackSignal } from './signals';
import type { WorkflowStatus } from './status';

export { DEPLOY_STEPS };

/** Canary deploys (docs/canary.md, docs/architecture.md "Changing workflow code"). */
const CANARY_PATCH = 'canary-deploys';

export interface DeployInput {
  target: AppTarget;
  /** full commit sha */
  version: string;
  /** what was asked for: HEAD, a tag, a branch */
  ref: string;
  startedBy: string;
  /**
   * `rollback --to`: `version` is a release the host keeps, installed as it was built: no upload,
   * no build. Absent in every run before it existed, so the input picks the path.
   */
  keptRelease?: boolean;
  /** the hooks to run (docs/hooks.md); absent: none */
  hooks?: HookPlan;
  /** a canary before the switch (docs/canary.md); absent: every client moves at once */
  canary?: CanaryPlan;
  /** wait for an approval and/or a cut-over time before the switch (docs/approvals.md); absent: none */
  gates?: GatePlan;
}

export async function deployWorkflow(input: DeployInput): Promise<WorkflowStatus> {
  const { target: t, version, keptRelease } = input;
  const hooks = new Hooks(input.hooks, t, { command: keptRelease ? 'rollback' : 'deploy', performer: input.startedBy, hosts: [t.server.host] });
  const gates = new Gates(input.gates);
  // a canary's run carries its plan; one recorded by a worker without canaries replays without it
  const canaryPlan = input.canary && patched(CANARY_PATCH) ? input.canary : undefined;
  return runSaga(
    {
      table: DEPLOY_STEPS,
      order: hooks.order(gates.order(deploySteps(t.release.migrateBeforeStart, keptRelease, canaryPlan !== undefined), DEPLOY_GATES_AFTER), DEPLOY_HOOKS),
      status: { kind: 'deploy', app: t.app, destination: t.destination, host: t.server.host, version },
      what: () => `${keptRelease ? 'rollback to the kept release' : 'deploy'} of ${t.app} ${shortVersion(version)}`,
      noun: 'deploy',
      stops: [
        {
          signal: abortSignal,
          verb: 'aborted',
          description: 'Stop the deploy; its undo steps put the previous slot back. Input optional: {"by": "...", "reason": "..."}',
        },
        { signal: rollbackSignal, verb: 'rolled back', description: 'Put the previous slot back now (also during the bake). Input optional: {"by": "..."}' },
      ],
      // with on_failure: hold, a step before the switch that fails waits for the operator
      hold: t,
    },
    async (saga) => {
      const status = saga.tracker.status;
      const canary = canaryPlan && new Canary(saga, canaryPlan);
      await hooks.run(saga, 'pre-connect', { version });
      await saga.run('ensureBuildJail', t);
      const kept = `kept release ${shortVersion(version)}`;
      if (keptRelease) {
        await saga.run('checkKeptRelease', t, version);
        saga.skip('uploadSource', `${kept}: nothing to upload`);
      } else {
        await hooks.run(saga, 'pre-build', { version });
        await saga.run('uploadSource', t, version);
      }
      const { next, active: prev } = await saga.run('chooseSlot', t);
      Object.assign(status, { slot: next, previousSlot: prev });
      upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.slot, value: next }]);
      const slots = { version, slot: next, previousSlot: prev };
      await hooks.run(saga, 'pre-deploy', slots);

      // until the switch begins the new slot has served no request: its undo need not drain it
      let tookTraffic = false;
      saga.willUndo('createSlotJail', () => [t, next, tookTraffic]);
      // Neither needs the other: the next slot's jail is made while the release builds. Both
      // end before the deploy goes on or undoes anything (no undo races a running step).
      const build = keptRelease ? Promise.resolve(saga.skip('buildRelease', `${kept}: installed as it was built`)) : saga.run('buildRelease', t, version);
      await allSettled([build, saga.run('createSlotJail', t, next, version)]);
      await saga.run('installRelease', t, next, version);
      await saga.run('writeAppEnv', t, next, version);
      // migrate_before_start: for an app that reads new tables as it boots
      const migrate = () => (t.release.migrate === false ? saga.skip('runMigrations', 'release.migrate is false') : saga.run('runMigrations', t, next));
      if (t.release.migrateBeforeStart) await migrate();
      await saga.run('startApp', t, next);
      if (!t.release.migrateBeforeStart) await migrate();
      await saga.run('checkHealth', t, next);
      // the new slot answers, the old one serves: a human may decide when traffic moves
      await gates.run(saga);
      await hooks.run(saga, 'pre-switch', slots);

      // traffic moves: from here a failure switches back at once, never holds
      tookTraffic = true;
      saga.willUndo('switchTraffic', () => [t, prev, next]);
      if (canary && prev) await canary.run(t, next, prev);
      else if (canary) saga.skip('canary', 'first deploy: no old slot to share clients with');
      await saga.run('switchTraffic', t, next, prev);
      await saga.run('verifyThroughCaddy', t, next);
      await hooks.run(saga, 'post-switch', slots);
      // the old slot keeps running through the bake, so a rollback then is instant
      if (t.bakeMs > 0) await saga.own('bake', () => bake(saga.tracker, t, next, saga.act('bake')));
      else saga.skip('bake', 'bake is off');
      await drainAndStop(saga, t, prev, 'first deploy: no old slot');
      await saga.run('recordDeploy', t, { slot: next, version, previousSlot: prev, ref: input.ref });
      await pruneAfterDeploy(saga, t, version);
      // rollback --to: the rollback's own last hook
      await hooks.run(saga, keptRelease ? 'post-rollback' : 'post-deploy', slots);
    },
  );
}
