// RemoveWorkflow: the app taken off its host for good, under the app's lock (never beside a
// deploy). Forward only: each step is idempotent, so a failed removal is finished by running
// it again; there is nothing to restore.
import type { AppTarget } from '../src/model/target';
import { REMOVE_STEPS } from './removeSteps';
import { runSaga } from './saga';
import { abortSignal } from './signals';
import type { WorkflowStatus } from './status';

export { REMOVE_STEPS };

export interface RemoveInput {
  target: AppTarget;
  startedBy: string;
}

export async function removeWorkflow({ target: t, startedBy }: RemoveInput): Promise<WorkflowStatus> {
  return runSaga(
    {
      table: REMOVE_STEPS,
      status: { kind: 'remove', app: t.app, destination: t.destination, host: t.server.host },
      what: () => `removal of ${t.app} (started by ${startedBy})`,
      // an abort stops the removal before its next step (the running one finishes)
      stops: [{ signal: abortSignal, verb: 'aborted' }],
      forwardOnly: 'What was removed stays removed; `alcaide remove` again finishes it.',
    },
    async (saga) => {
      await saga.run('removeAppSite', t);
      await saga.run('removeAppJails', t);
      await saga.run('removeDatabaseJail', t);
      await saga.run('releaseHostClaim', t);
    },
  );
}
