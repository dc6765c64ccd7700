// SetupWorkflow: prepares a bare FreeBSD host for an app. Every step is an idempotent
// activity, so a rerun or a resumed run converges without repeating changes.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { AppTarget } from '../src/model/target';
import { NON_RETRYABLE_FAILURES } from '../src/failures';
import type { WorkflowStatus } from './status';
import { SETUP_STEPS } from './setupSteps';
import { StepTracker } from './tracker';

export { SETUP_STEPS };


const acts = proxyActivities<Activities>({
  startToCloseTimeout: '45 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE_FAILURES },
});

export interface SetupInput {
  target: AppTarget;
}

export async function setupWorkflow({ target }: SetupInput): Promise<WorkflowStatus> {
  const tracker = new StepTracker({ kind: 'setup', app: target.app, destination: target.destination, host: target.server.host }, SETUP_STEPS);
  for (const step of SETUP_STEPS) {
    if (step.name === 'setupPostgres' && !target.postgresql) {
      tracker.skip(step.name, 'no accessories.postgresql in the config');
      continue;
    }
    try {
      await tracker.run(step.name, () => acts[step.name](target));
    } catch (e) {
      throw tracker.failure(`${step.title} failed on ${target.server.host}: ${tracker.step(step.name).error}`);
    }
  }
  return tracker.complete();
}
