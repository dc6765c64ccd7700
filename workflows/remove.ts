// RemoveWorkflow: the app taken off its host for good, under the app's lock (never beside a
// deploy). Forward only: each step is idempotent, so a failed removal is finished by running
// it again; there is nothing to restore.
import { setHandler } from '@temporalio/workflow';
import type { AppTarget } from '../src/model/target';
import { acts, slowActs } from './saga';
import { abortSignal } from './signals';
import type { WorkflowStatus } from './status';
import { StepTracker, type StepDef } from './tracker';

export const REMOVE_STEPS = [
  { name: 'removeAppSite', title: 'Caddy stops serving the app' },
  { name: 'removeAppJails', title: 'remove the slot and build jails' },
  { name: 'removeDatabaseJail', title: 'remove the database jail (its data stays)' },
  { name: 'releaseHostClaim', title: "release the app's claim on the host" },
] as const satisfies readonly StepDef[];

export interface RemoveInput {
  target: AppTarget;
  startedBy: string;
}

export async function removeWorkflow({ target: t, startedBy }: RemoveInput): Promise<WorkflowStatus> {
  const tracker = new StepTracker({ kind: 'remove', app: t.app, destination: t.destination, host: t.server.host }, REMOVE_STEPS);
  // an abort stops the removal before its next step (the running one finishes)
  let abortedBy: string | undefined;
  setHandler(abortSignal, (req) => void (abortedBy = req?.by ?? 'someone'));
  const run = async (name: (typeof REMOVE_STEPS)[number]['name'], fn: () => Promise<{ changed: boolean; note: string }>) => {
    if (abortedBy !== undefined) {
      for (const s of tracker.status.steps) if (s.state === 'pending') tracker.skip(s.name, `aborted by ${abortedBy}`);
      throw tracker.failure(`removal of ${t.app} aborted by ${abortedBy} before "${tracker.step(name).title}" on ${t.server.host}. What was removed stays removed; \`alcaide remove\` again finishes it.`);
    }
    await tracker.run(name, fn);
  };
  try {
    await run('removeAppSite', () => acts.removeAppSite(t));
    await run('removeAppJails', () => slowActs.removeAppJails(t));
    await run('removeDatabaseJail', () => slowActs.removeDatabaseJail(t));
    await run('releaseHostClaim', () => acts.releaseHostClaim(t));
    return tracker.complete();
  } catch (e) {
    if (abortedBy !== undefined && tracker.status.state === 'failed') throw e;
    const failed = tracker.failedStep();
    throw tracker.failure(
      `removal of ${t.app} (started by ${startedBy}) failed on ${t.server.host}: ${failed?.title ?? 'a step'} failed: ${failed?.error ?? (e as Error).message}. What was removed stays removed; \`alcaide remove\` again finishes it.`,
    );
  }
}
