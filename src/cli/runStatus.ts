// What `alcaide status` reads: the latest run of the app's workflow, pinned by its run id, and
// its status — the live query while it runs, the final status (result or failure details) once
// it has ended.
import type { Client, WorkflowExecutionDescription, WorkflowHandle } from '@temporalio/client';
import { UserError } from '../errors';
import { hasWorkflowPollers } from '../temporal/connection';
import { describeIfAny } from '../temporal/describe';
import { STALL_MS } from '../temporal/embedded';
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

/** What `status --json` prints, whatever the state: a run with its status, no run yet, or a run no worker drives. */
export interface StatusJson {
  workflowId: string;
  runId?: string;
  workflowStatus?: string;
  url?: string;
  /** the workflow's own state (running, held, completed, failed, …), or "no deploy yet", or "no worker answers" */
  state: string;
  /** the step it waits at when no worker answers */
  pendingStep?: string;
  hint?: string;
  status: WorkflowStatus | null;
}

/** The run cannot say where it is; `json` says so for `status --json`. */
export class RunUnavailable extends UserError {
  constructor(
    message: string,
    readonly json: StatusJson,
  ) {
    super(message, 1, json.hint);
  }
}

const resumeHint = (url: string) => `continue it with \`alcaide deploy --attach\` or start \`alcaide worker\` (${url})`;

function noWorker(r: Pick<LatestRun, 'd' | 'url'>, what: string, verb: string): RunUnavailable {
  const pendingStep = r.d.raw.pendingActivities?.[0]?.activityType?.name ?? undefined;
  return new RunUnavailable(`the ${String(r.d.type)} of ${what} is paused${pendingStep ? ` at ${pendingStep}` : ''}: ${verb}`, {
    ...runJson(r, undefined),
    state: 'no worker answers',
    pendingStep,
    hint: resumeHint(r.url ?? r.d.workflowId),
  });
}

/** The latest run of `workflowId`; a running one no worker drives is an error that says how to continue it. */
export async function latestRun(client: Client, s: TemporalSettings, workflowId: string, what: string): Promise<LatestRun> {
  const d = await describeIfAny(client.workflow.getHandle(workflowId));
  if (!d) throw new RunUnavailable(`no deploy of ${what} yet`, { workflowId, state: 'no deploy yet', status: null });
  // The run just described, not "the latest": a deploy started a moment later must not turn
  // this finished run's result into a wait for that new run to end.
  const run = client.workflow.getHandle(d.workflowId, d.runId, { followRuns: false });
  const running = d.status.name === 'RUNNING';
  const url = workflowUiUrl(s, d.workflowId, d.runId);
  // another CLI's embedded worker may be driving it: then the query answers
  if (running && !(await workerFor(client, s, d))) throw noWorker({ d, url }, what, 'no worker is running');
  return { d, run, running, url };
}

/**
 * Whether a worker may drive the run. A run whose first workflow task no worker has taken
 * (its history is the start and that task) was most likely started a moment ago by a CLI that
 * is still starting its own worker: it gets as long as that CLI would wait (STALL_MS) for a
 * poller to appear before it is called paused. The run's history, not its start time, says so: no clock of another machine.
 */
async function workerFor(client: Client, s: TemporalSettings, d: WorkflowExecutionDescription): Promise<boolean> {
  const polled = () => hasWorkflowPollers(client, s, { includeEmbedded: true });
  if (await polled()) return true;
  if (d.historyLength > 2) return false;
  for (const end = Date.now() + STALL_MS; Date.now() < end;) {
    await new Promise((r) => setTimeout(r, 250));
    if (await polled()) return true;
  }
  return false;
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
    throw noWorker(r, what, 'no worker answers');
  });
}

/** A run and its status as `status --json` prints them. */
export function runJson(r: Pick<LatestRun, 'd' | 'url'>, status: WorkflowStatus | undefined): StatusJson {
  return {
    workflowId: r.d.workflowId,
    runId: r.d.runId,
    workflowStatus: r.d.status.name,
    url: r.url,
    state: status?.state ?? r.d.status.name.toLowerCase(),
    status: status ?? null,
  };
}

/** `status --json`: JSON in every case, also with no run yet or no worker to answer. */
export async function statusJson(client: Client, s: TemporalSettings, workflowId: string, what: string): Promise<StatusJson> {
  try {
    const latest = await latestRun(client, s, workflowId, what);
    return runJson(latest, await statusOfRun(client, latest, what));
  } catch (e) {
    if (e instanceof RunUnavailable) return e.json;
    throw e;
  }
}
