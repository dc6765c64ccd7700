// NightlyRebuildWorkflow: what the Temporal Schedule starts. A schedule appends a timestamp to
// its workflow ids, so this workflow cannot hold the app's lock itself; it starts the rebuild
// as a child under the lock id (alcaide-APP[-DEST]). When a deploy, rollback or another
// rebuild holds that id, this run ends at once as "skipped" (the next night tries again)
// rather than waiting behind it.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, startChild, workflowInfo } from '@temporalio/workflow';
import { failure } from '../src/failures';
import { appWorkflowId, shortVersion, type AppTarget } from '../src/model/target';
import { SEARCH_ATTRIBUTES } from '../src/model/searchAttributes';
import { rebuildBuildJailWorkflow } from './rebuild';
import { rootMessage } from './tracker';
import type { WorkflowStatus } from './status';

export interface NightlyInput {
  target: AppTarget;
}

export interface NightlyResult {
  outcome: 'rebuilt' | 'skipped';
  note: string;
  /** the rebuild's workflow id (the app's lock id) and run, when one ran */
  rebuild?: { workflowId: string; runId: string };
}

export async function nightlyRebuildWorkflow({ target: t }: NightlyInput): Promise<NightlyResult> {
  const workflowId = appWorkflowId(t);
  const startedBy = `schedule ${workflowInfo().workflowId}`;
  let child;
  try {
    child = await startChild(rebuildBuildJailWorkflow, {
      workflowId,
      args: [{ target: t, startedBy }],
      memo: { startedBy },
      typedSearchAttributes: [
        { key: SEARCH_ATTRIBUTES.app, value: t.app },
        { key: SEARCH_ATTRIBUTES.destination, value: t.destination ?? 'default' },
      ],
      // cancelling the nightly run (UI, schedule delete + cancel) stops the rebuild, which undoes itself
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
    });
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError) {
      return { outcome: 'skipped', note: `skipped: a deploy, rollback or rebuild of ${t.app} is in progress (${workflowId}); the next run tries again` };
    }
    throw e;
  }
  const rebuild = { workflowId, runId: child.firstExecutionRunId };
  try {
    const status = (await child.result()) as WorkflowStatus;
    const notes = status.steps
      .filter((s) => s.name === 'carryBuildCache' || s.name === 'installBuildPackages')
      .map((s) => s.note)
      .filter(Boolean);
    return {
      outcome: 'rebuilt',
      note: `build jail rebuilt${status.version ? ` and proven with ${shortVersion(status.version)}` : ''}; ${notes.join('; ')}`,
      rebuild,
    };
  } catch (e) {
    // failed, so the schedule's recent runs and the UI show it failed, with the rebuild's own message
    throw failure('RebuildFailed', rootMessage(e), { details: [rebuild] });
  }
}
