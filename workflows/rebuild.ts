// RebuildBuildJailWorkflow: a new build jail from the current base template with the build
// packages upgraded and hex/rebar refreshed, proven by a test build of the deployed commit,
// then swapped in. Until the swap the build jail in service is never touched, and any
// failure (or abort) removes only the new jail. It runs under the app's lock id
// (alcaide-APP[-DEST]), so it never overlaps a deploy or rollback of the same app.
import { isCancellation, setHandler, workflowInfo } from '@temporalio/workflow';
import type { AppTarget } from '../src/model/target';
import { acts, Saga, slowActs, undoActs } from './saga';
import { abortSignal } from './signals';
import type { WorkflowStatus } from './status';
import { StepTracker, type StepDef } from './tracker';

export const REBUILD_STEPS = [
  { name: 'inspectBuildJail', title: 'inspect the build jail in service' },
  { name: 'createNextBuildJail', title: 'new build jail from the base template' },
  { name: 'installBuildPackages', title: 'install and upgrade elixir, erlang, node, npm, git' },
  { name: 'refreshHexRebar', title: 'refresh hex and rebar' },
  { name: 'carryBuildCache', title: 'carry the build cache over (same OTP major only)' },
  { name: 'testBuild', title: 'test build of the deployed commit' },
  { name: 'swapBuildJail', title: 'swap the new build jail in' },
  { name: 'retireOldBuildJail', title: 'remove the old build jail' },
] as const satisfies readonly StepDef[];

export interface RebuildInput {
  target: AppTarget;
  startedBy: string;
}

const short = (v: string) => v.slice(0, 12);

export async function rebuildBuildJailWorkflow({ target: t, startedBy }: RebuildInput): Promise<WorkflowStatus> {
  const tracker = new StepTracker({ kind: 'rebuild', app: t.app, destination: t.destination, host: t.server.host }, REBUILD_STEPS);
  const saga = new Saga(tracker);
  setHandler(abortSignal, saga.stopOn('aborted'));
  // marks the new root: a retried or resumed step recognises its own work
  const rebuildId = workflowInfo().runId;
  try {
    await saga.scope.run(async () => {
      const facts = await tracker.run('inspectBuildJail', () => acts.inspectBuildJail(t));
      if (facts.version) tracker.status.version = facts.version;

      saga.onFailure({ name: 'destroyNextBuildJail', title: 'remove the new build jail', fn: () => undoActs.destroyNextBuildJail(t) });
      await tracker.run('createNextBuildJail', () => slowActs.createNextBuildJail(t, rebuildId));
      await tracker.run('installBuildPackages', () => slowActs.installBuildPackages(t));
      await tracker.run('refreshHexRebar', () => acts.refreshHexRebar(t, facts.hex));
      await tracker.run('carryBuildCache', () => slowActs.carryBuildCache(t, facts.otp));
      await tracker.run('testBuild', () => slowActs.testBuild(t, facts.version));

      saga.onFailure({ name: 'restoreOldBuildJail', title: 'the old build jail back in service', fn: () => undoActs.restoreOldBuildJail(t, rebuildId) });
      await tracker.run('swapBuildJail', () => acts.swapBuildJail(t, rebuildId));
      // the new jail is proven and in service: from here nothing is undone
      saga.commit();
      // a leftover old root only costs disk (the next rebuild removes it): recorded, not fatal
      await tracker.run('retireOldBuildJail', () => acts.retireOldBuildJail(t)).catch((err: unknown) => {
        if (isCancellation(err)) throw err;
      });
    });
    return tracker.complete();
  } catch (e) {
    const failed = tracker.failedStep();
    const stop = saga.stopped ?? (isCancellation(e) ? 'cancelled' : undefined);
    const { restored, undoFailed } = await saga.compensate();
    const what = `rebuild of ${t.app}'s build jail${tracker.status.version ? ` (test build of ${short(tracker.status.version)})` : ''} started by ${startedBy}`;
    throw tracker.failure(
      `${what} ${stop ?? 'failed'} on ${t.server.host}: ${stop ? `during ${failed?.title ?? 'the rebuild'}` : `${failed?.title ?? 'a step'} failed: ${failed?.error ?? (e as Error).message}`}. ` +
        `Restored: ${restored}; the build jail in service is the old one.` +
        `${undoFailed ? ' Some undo steps failed: check the server before deploying again.' : ''}`,
    );
  }
}
