// RollbackWorkflow: bring the kept previous slot back, prove it healthy, move traffic to
// it, then stop the slot that was live. Same undo discipline as a deploy.
import { upsertSearchAttributes } from '@temporalio/workflow';
import type { AppTarget } from '../src/model/target';
import { SEARCH_ATTRIBUTES } from '../src/model/searchAttributes';
import { ROLLBACK_STEPS } from './rollbackSteps';
import { drainAndStop, runSaga } from './saga';
import { abortSignal } from './signals';
import type { WorkflowStatus } from './status';

export { ROLLBACK_STEPS };

export interface RollbackInput {
  target: AppTarget;
  startedBy: string;
}

export async function rollbackWorkflow({ target: t, startedBy }: RollbackInput): Promise<WorkflowStatus> {
  return runSaga(
    {
      table: ROLLBACK_STEPS,
      status: { kind: 'rollback', app: t.app, destination: t.destination, host: t.server.host },
      what: () => `rollback of ${t.app} (started by ${startedBy})`,
      noun: 'rollback',
      stops: [{ signal: abortSignal, verb: 'aborted' }],
    },
    async (saga) => {
      const { to, from, version } = await saga.run('chooseRollback', t);
      Object.assign(saga.tracker.status, { slot: to, previousSlot: from, version });
      upsertSearchAttributes([
        { key: SEARCH_ATTRIBUTES.slot, value: to },
        { key: SEARCH_ATTRIBUTES.version, value: version },
      ]);
      saga.willUndo('startSlot', () => [t, to]);
      await saga.run('startSlot', t, to);
      await saga.run('checkHealth', t, to);
      if (from) saga.willUndo('switchTraffic', () => [t, from, to]);
      await saga.run('switchTraffic', t, to, from);
      await saga.run('verifyThroughCaddy', t, to);
      await drainAndStop(saga, t, from, 'nothing was live');
      await saga.run('recordDeploy', t, { slot: to, version, previousSlot: from });
    },
  );
}
