// What `alcaide status` reads: the latest run of the app's workflow, pinned by its run id, and
// its status — the live query while it runs, the final status (result or failure details) once
// it has ended.
import type { Client, WorkflowExecutionDescription, WorkflowHandle } from '@temporalio/client';
import { UserError } from '../errors';
import { hasWorkflowPollers } from '../temporal/connection';
import { workflowUiUrl, type TemporalSettings } from '../temporal/settings';
import { queryStatus } from '../temporal/statusQuery';
import type { WorkflowStatus } from '../../workflows/status';

export interface LatestRun {
  d: WorkflowExecutionDescription;
  /** a handle on exactly the run described */
  run: WorkflowHandle;
  running: boolean;
  url?: string;
}

const resumeHint = (url: string) => `continue it with \`alcaide deploy --attach\` or start \`alcaide worker\` (${url})`;

/** The latest run of `workflowId`; a running one no worker drives is an error that says how to continue it. */
export async function latestRun(client: Client, s: TemporalSettings, workflowId: string, what: string): Promise<LatestRun> {
  let d: WorkflowExecutionDescription;
  try {
    d = await client.workflow.getHandle(workflowId).describe();
  } catch {
    throw new UserError(`no deploy of ${what} yet`);
  }
  // The run just described, not "the latest": a deploy started a moment later must not turn
  // this finished run's result into a wait for that new run to end.
  const run = client.workflow.getHandle(d.workflowId, d.runId, { followRuns: false });
  const running = d.status.name === 'RUNNING';
  const url = workflowUiUrl(s, d.workflowId, d.runId);
  // another CLI's embedded worker may be driving it: then the query answers
  if (running && !(await hasWorkflowPollers(client, s, { includeEmbedded: true }))) {
    const pending = d.raw.pendingActivities?.[0]?.activityType?.name;
    throw new UserError(`the ${String(d.type)} of ${what} is paused${pending ? ` at ${pending}` : ''}: no worker is running`, 1, resumeHint(url ?? d.workflowId));
  }
  return { d, run, running, url };
}

/** The run's status: asked of its worker while it runs, read from its result or failure after. */
export async function statusOfRun(client: Client, r: LatestRun, what: string): Promise<WorkflowStatus | undefined> {
  if (!r.running) {
    return r.run.result().then(
      (res) => res as WorkflowStatus,
      (e: { cause?: { details?: unknown[] } }) => e.cause?.details?.[0] as WorkflowStatus | undefined,
    );
  }
  // a worker that died a moment ago still looks present: do not wait long for its answer
  return queryStatus(r.run).catch(() => {
    throw new UserError(`the ${String(r.d.type)} of ${what} is paused: no worker answers`, 1, resumeHint(r.url ?? r.d.workflowId));
  });
}
