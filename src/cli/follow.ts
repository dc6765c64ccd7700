// Starts a workflow (or attaches to the running one) and shows its progress until it ends.
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { decodeOptionalFailureToOptionalError } from '@temporalio/common/lib/internal-non-workflow';
import { WorkflowExecutionAlreadyStartedError, type TypedSearchAttributes } from '@temporalio/common';
import { UserError } from '../errors';
import { hintOf } from '../failures';
import { workflowUiUrl, type TemporalSettings } from '../temporal/settings';
import { queryStatus } from '../temporal/statusQuery';
import type { StepStatus, WorkflowStatus } from '../../workflows/status';
import { STEP_TABLES } from '../../workflows/stepTables';
import { color } from './output';
import { ProgressView, type ProgressMode } from './progress';

export interface StartSpec {
  workflowType: string;
  workflowId: string;
  args: unknown[];
  searchAttributes?: TypedSearchAttributes;
  /** what the thing is called in messages ("setup of my_app") */
  what: string;
  /** user@host, kept in the memo so a refused second deploy can say who holds the lock */
  startedBy?: string;
}

const POLL_MS = 250;

/** The running step (or undo step) of `status` that a pending activity of type `activity` belongs to, by the workflow's step table. */
export function runningStepOf(status: WorkflowStatus, activity: string | null | undefined): StepStatus | undefined {
  const table = STEP_TABLES[status.kind]?.steps ?? [];
  const step = status.steps.find((s) => s.state === 'running' && table.find((d) => d.name === s.name)?.activity === activity);
  // an undo step is named for its activity (workflows/saga.ts)
  return step ?? status.compensations?.find((c) => c.state === 'running' && c.name === activity);
}

/** Adds the attempt count of a retrying step, from the server's view of pending activities. */
export async function withAttempts(handle: Pick<WorkflowHandle, 'describe' | 'client'>, status: WorkflowStatus): Promise<WorkflowStatus> {
  const d = await handle.describe().catch(() => undefined);
  const pending = d?.raw.pendingActivities ?? [];
  for (const p of pending) {
    const step = runningStepOf(status, p.activityType?.name);
    if (step && (p.attempt ?? 1) > 1) {
      step.attempt = p.attempt ?? undefined;
      // the message travels encrypted in the failure's encoded attributes
      const decoded = p.lastFailure
        ? await decodeOptionalFailureToOptionalError(handle.client.options.loadedDataConverter, p.lastFailure).catch(() => undefined)
        : undefined;
      const last = decoded?.message ?? p.lastFailure?.message;
      if (last) step.note = `retrying: ${last}`;
    }
  }
  return status;
}

export async function startAndFollow(client: Client, s: TemporalSettings, spec: StartSpec, mode: ProgressMode): Promise<WorkflowStatus> {
  const handle = await startOnly(client, s, spec);
  const url = workflowUiUrl(s, spec.workflowId, handle.firstExecutionRunId);
  if (mode !== 'json') console.log(color.dim(`${spec.what}: ${url ?? spec.workflowId}`));
  return follow(handle, mode);
}

/** Starts the workflow; if one with the same id runs, explains who holds the lock. */
export async function startOnly(client: Client, s: TemporalSettings, spec: StartSpec): Promise<WorkflowHandle & { firstExecutionRunId?: string }> {
  let handle: WorkflowHandle & { firstExecutionRunId?: string };
  try {
    handle = await client.workflow.start(spec.workflowType, {
      taskQueue: s.taskQueue,
      workflowId: spec.workflowId,
      args: spec.args,
      typedSearchAttributes: spec.searchAttributes,
      workflowIdConflictPolicy: 'FAIL',
      memo: spec.startedBy ? { startedBy: spec.startedBy } : undefined,
    });
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError) {
      throw await alreadyRunning(client, s, spec);
    }
    throw e;
  }
  return handle;
}

/** What a workflow type is called in messages. */
export function kindOf(workflowType: string): string {
  const names: Record<string, string> = {
    deployWorkflow: 'deploy',
    rollbackWorkflow: 'rollback',
    rebuildBuildJailWorkflow: 'build jail rebuild',
    setupWorkflow: 'setup',
    fleetSetupWorkflow: 'setup',
    fleetDeployWorkflow: 'deploy',
    fleetRollbackWorkflow: 'rollback',
    removeWorkflow: 'removal',
  };
  return names[workflowType] ?? workflowType.replace(/Workflow$/, '');
}

async function alreadyRunning(client: Client, s: TemporalSettings, spec: StartSpec): Promise<UserError> {
  const handle = client.workflow.getHandle(spec.workflowId);
  const d = await handle.describe();
  const by = (d.memo?.startedBy as string | undefined) ?? 'someone';
  let step = '';
  try {
    const st = await queryStatus(handle, 3000);
    const cur = st.steps.find((x) => x.name === st.currentStep);
    if (cur) step = `, now at "${cur.title}"`;
  } catch {
    /* no worker to answer the query right now */
  }
  return new UserError(
    `${d.type === 'rebuildBuildJailWorkflow' ? 'a' : 'another'} ${kindOf(String(d.type))} of this app is running (started by ${by} at ${d.startTime.toISOString()}${step}); one at a time per app and destination`,
    1,
    `follow it: ${workflowUiUrl(s, spec.workflowId) ?? spec.workflowId} — or pass --wait to deploy after it`,
  );
}

export async function follow(handle: WorkflowHandle, mode: ProgressMode): Promise<WorkflowStatus> {
  const view = new ProgressView(mode);
  let last: WorkflowStatus | undefined;
  let stop = false;
  // the end of the workflow cuts the pause between two polls short: the command ends with it
  let wake = () => {};
  const stopPolling = () => {
    stop = true;
    wake();
  };
  const poller = (async () => {
    let n = 0;
    while (!stop) {
      try {
        last = await queryStatus(handle);
        if (n++ % 4 === 0) last = await withAttempts(handle, last);
        if (!stop) view.update(last);
      } catch {
        /* the first workflow task has not run yet, or no worker answers */
      }
      if (!stop) {
        await new Promise<void>((r) => {
          const timer = setTimeout(r, POLL_MS);
          wake = () => (clearTimeout(timer), r());
        });
      }
    }
  })();
  try {
    const result = (await handle.result()) as WorkflowStatus;
    stopPolling();
    await poller;
    view.finish(result);
    return result;
  } catch (e) {
    stopPolling();
    await poller;
    const status = failureStatus(e) ?? last;
    view.finish(status);
    if (e instanceof WorkflowFailedError) {
      throw new UserError(status?.error ?? (e.cause?.message || e.message), 1, hintFor(status));
    }
    throw e;
  }
}

function failureStatus(e: unknown): WorkflowStatus | undefined {
  const details = (e as { cause?: { details?: unknown[] } })?.cause?.details;
  const d = details?.[0] as WorkflowStatus | undefined;
  return d && Array.isArray(d.steps) ? d : undefined;
}

/** What to do about a failed run: the failure catalogue's hint for the failed step's failure type. */
export function hintFor(status?: WorkflowStatus): string | undefined {
  const failed = status?.steps.find((s) => s.state === 'failed');
  if (!failed) return undefined;
  return hintOf(failed.errorType) ?? 'fix the cause, then run the same command again: finished steps are checked, not repeated';
}
