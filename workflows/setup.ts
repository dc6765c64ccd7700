// SetupWorkflow: prepares a bare FreeBSD host for an app. Every step is an idempotent
// activity, so a rerun or a resumed run converges without repeating changes.
import type { AppTarget } from '../src/model/target';
import { runSaga } from './saga';
import { SETUP_STEPS } from './setupSteps';
import type { WorkflowStatus } from './status';

export { SETUP_STEPS };

export interface SetupInput {
  target: AppTarget;
}

export async function setupWorkflow({ target }: SetupInput): Promise<WorkflowStatus> {
  // forward only, and the failed step names the run: "verify … failed on HOST: why"
  return runSaga(
    { table: SETUP_STEPS, status: { kind: 'setup', app: target.app, destination: target.destination, host: target.server.host }, forwardOnly: '' },
    async (saga) => {
      for (const step of SETUP_STEPS) {
        if (step.name === 'setupPostgres' && !target.postgresql) saga.skip(step.name, 'no accessories.postgresql in the config');
        else await saga.run(step.name, target);
      }
    },
  );
}
