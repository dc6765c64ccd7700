// RebuildBuildJailWorkflow: a new build jail from the current base template with the build
// packages upgraded and hex/rebar refreshed, proven by a test build of the deployed commit,
// then swapped in. Until the swap the build jail in service is never touched, and any
// failure (or abort) removes only the new jail. It runs under the app's lock id
// (alcaide-APP[-DEST]), so it never overlaps a deploy or rollback of the same app.
import { isCancellation, workflowInfo } from '@temporalio/workflow';
import { shortVersion, type AppTarget } from '../src/model/target';
import { REBUILD_STEPS } from './rebuildSteps';
import { runSaga } from './saga';
import { abortSignal } from './signals';
import type { WorkflowStatus } from './status';

export { REBUILD_STEPS };

export interface RebuildInput {
  target: AppTarget;
  startedBy: string;
}

export async function rebuildBuildJailWorkflow({ target: t, startedBy }: RebuildInput): Promise<WorkflowStatus> {
  // marks the new root: a retried or resumed step recognises its own work
  const rebuildId = workflowInfo().runId;
  let tested: string | undefined;
  return runSaga(
    {
      table: REBUILD_STEPS,
      status: { kind: 'rebuild', app: t.app, destination: t.destination, host: t.server.host },
      what: () => `rebuild of ${t.app}'s build jail${tested ? ` (test build of ${shortVersion(tested)})` : ''} started by ${startedBy}`,
      noun: 'rebuild',
      stops: [{ signal: abortSignal, verb: 'aborted' }],
      restoredNote: '; the build jail in service is the old one',
    },
    async (saga) => {
      const facts = await saga.run('inspectBuildJail', t);
      if (facts.version) saga.tracker.status.version = tested = facts.version;

      saga.willUndo('createNextBuildJail', () => [t]);
      await saga.run('createNextBuildJail', t, rebuildId);
      await saga.run('installBuildPackages', t);
      await saga.run('refreshHexRebar', t, facts.hex);
      await saga.run('carryBuildCache', t, facts.otp);
      await saga.run('testBuild', t, facts.version);

      saga.willUndo('swapBuildJail', () => [t, rebuildId]);
      await saga.run('swapBuildJail', t, rebuildId);
      // the new jail is proven and in service: from here nothing is undone
      saga.commit();
      // a leftover old root only costs disk (the next rebuild removes it): recorded, not fatal
      await saga.run('retireOldBuildJail', t).catch((err: unknown) => {
        if (isCancellation(err)) throw err;
      });
    },
  );
}
