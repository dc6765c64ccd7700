// RollbackWorkflow: bring the kept previous slot back, prove it healthy, move traffic to
// it, then stop the slot that was live. Same undo discipline as a deploy.
import { upsertSearchAttributes } from '@temporalio/workflow';
import type { AppTarget } from '../src/model/target';
import { SEARCH_ATTRIBUTES } from '../src/model/searchAttributes';
import type { HookPlan } from '../src/model/hooks';
import { ROLLBACK_HOOKS } from './hookSteps';
import { Hooks } from './hooks';
import { ROLLBACK_STEPS } from './rollbackSteps';
import { drainAndStop, runSaga } from './saga';
import { abortSignal } from './signals';
import type { WorkflowStatus } from './status';

export { ROLLBACK_STEPS };

export interface RollbackInput {
  target: AppTarget;
  startedBy: string;
  /** the hooks to run (docs/hooks.md); absent: none */
  hooks?: HookPlan;
}

export async function rollbackWorkflow({ target: t, startedBy, hooks: plan }: RollbackInput): Promise<WorkflowStatus> {
  const hooks = new Hooks(plan, t, { command: 'rollback', performer: startedBy, hosts: [t.server.host] });
  return runSaga(
    {
      table: ROLLBACK_STEPS,
      order: hooks.order(ROLLBACK_STEPS, ROLLBACK_HOOKS),
      status: { kind: 'rollback', app: t.app, destination: t.destination, host: t.server.host },
      what: () => `rollback of ${t.app} (started by ${startedBy})`,
      noun: 'rollback',
      stops: [{ signal: abortSignal, verb: 'aborted' }],
    },
    async (saga) => {
      await hooks.run(saga, 'pre-connect');
      const { to, from, version } = await saga.run('chooseRollback', t);
      const slots = { version, slot: to, previousSlot: from };
      Object.assign(saga.tracker.status, { slot: to, previousSlot: from, version });
      upsertSearchAttributes([
        { key: SEARCH_ATTRIBUTES.slot, value: to },
        { key: SEARCH_ATTRIBUTES.version, value: version },
      ]);
      saga.willUndo('startSlot', () => [t, to]);
      await saga.run('startSlot', t, to);
      await saga.run('checkHealth', t, to);
      await hooks.run(saga, 'pre-switch', slots);
      if (from) saga.willUndo('switchTraffic', () => [t, from, to]);
      await saga.run('switchTraffic', t, to, from);
      await saga.run('verifyThroughCaddy', t, to);
      await hooks.run(saga, 'post-switch', slots);
      await drainAndStop(saga, t, from, 'nothing was live');
      await saga.run('recordDeploy', t, { slot: to, version, previousSlot: from });
      await hooks.run(saga, 'post-rollback', slots);
    },
  );
}
