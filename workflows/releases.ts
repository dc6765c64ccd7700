// After a deploy is recorded, the releases beyond `retain` go (activities/releases.ts). The deploy
// is done by then: a failure of the prune is reported on its step and undoes nothing, and a stop
// arriving meanwhile lets it finish.
import { CancellationScope, patched } from '@temporalio/workflow';
import type { AppTarget } from '../src/model/target';
import type { DEPLOY_STEPS } from './deploySteps';
import type { HOST_DEPLOY_STEPS } from './fleetSteps';
import type { Saga } from './saga';

/** Deploys recorded before pruning existed end after recordDeploy (docs/architecture.md, "Changing workflow code"). */
const PRUNE_PATCH = 'prune-releases-after-deploy';

export async function pruneAfterDeploy(saga: Saga<typeof DEPLOY_STEPS> | Saga<typeof HOST_DEPLOY_STEPS>, t: AppTarget, version: string): Promise<void> {
  // the tables have the step, with the same activity
  const s = saga as Saga<typeof DEPLOY_STEPS>;
  if (!patched(PRUNE_PATCH)) return s.skip('pruneReleases', 'started before releases were pruned');
  await CancellationScope.nonCancellable(() => s.run('pruneReleases', t, version)).catch(() => undefined);
}
