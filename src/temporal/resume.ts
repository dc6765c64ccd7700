// `alcaide deploy --resume-from-failure`: Temporal's workflow reset, pointed at the right step.
// The reset run replays the failed run's history up to that step (the upload is not
// repeated) and runs every step from there again, which is safe because every activity is
// idempotent. If undo steps ran, the run resumes from the first step they undid (after
// `remove the green slot`, the slot jail must be created again), not from the failed step;
// the build, started beside the slot jail, then runs again and finds its release built.
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import Long from 'long';
import { stepOfActivity, type StepTable } from '../../workflows/stepTable';
import { STEP_TABLES } from '../../workflows/stepTables';
import { HOOK_STEPS } from '../../workflows/hookSteps';
import type { HookName } from '../model/hooks';
import { UserError } from '../errors';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const DEPLOY: StepTable = STEP_TABLES.deploy.steps;
const order = (step: string) => DEPLOY.findIndex((s) => s.name === step);

/** The step an activity task is of: a hook's by its activity id (all hooks schedule runHook, workflows/hooks.ts), any other's by its type. */
function stepOfTask(activityType: string, activityId: string | null | undefined) {
  const hook = activityType === 'runHook' ? /^hook-(.+)$/.exec(activityId ?? '')?.[1] : undefined;
  const step = hook && hook in HOOK_STEPS ? HOOK_STEPS[hook as HookName] : undefined;
  return step ? { step, asUndo: false } : stepOfActivity(DEPLOY, activityType);
}

export interface ResumePoint {
  /** the step the new run starts from */
  step: string;
  /** the step that failed */
  failedStep: string;
  /** the WorkflowTaskCompleted event the reset goes back to */
  eventId: number;
}

/** Where a failed deploy's history can be resumed; a UserError when it cannot. */
export function resumePoint(events: HistoryEvent[]): ResumePoint {
  /** the step each scheduled task is of (a hook's by its activity id) */
  const stepAt = new Map<number, string>();
  // the last failed step is the one that ended the run (an earlier one may have been retried)
  let failedStep: string | undefined;
  const undone: string[] = [];
  for (const e of events) {
    const id = Number(e.eventId);
    const s = e.activityTaskScheduledEventAttributes;
    if (s?.activityType?.name) {
      // an undo activity: the step whose effect it took away must run again
      const of = stepOfTask(s.activityType.name, s.activityId);
      if (of && !of.asUndo) stepAt.set(id, of.step.name);
      if (of?.asUndo) undone.push(of.step.name);
    }
    const f = e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
    if (f) {
      const step = stepAt.get(Number(f.scheduledEventId));
      if (step) failedStep = step;
    }
  }
  if (!failedStep)
    throw new UserError(
      'the last deploy did not fail in a step that can run again (it was aborted, rolled back or cancelled, no approval came, or its canary failed more requests than the old version): start a new deploy',
    );
  const step = [failedStep, ...undone].sort((a, b) => order(a) - order(b))[0]!;
  const at = [...stepAt].find(([, name]) => name === step)?.[0];
  if (at === undefined) throw new UserError(`cannot find where ${step} started in the history`);
  const completed = events
    .filter((e) => e.workflowTaskCompletedEventAttributes && Number(e.eventId) < at)
    .map((e) => Number(e.eventId))
    .at(-1);
  if (completed === undefined) throw new UserError(`cannot find a workflow task before ${step} in the history`);
  return { step, failedStep, eventId: completed };
}

/** Resets the latest run of `workflowId` (a failed deploy) to its resume point; returns the new run id. */
export async function resumeFromFailure(client: Client, namespace: string, workflowId: string, by: string): Promise<ResumePoint & { runId: string }> {
  const handle = client.workflow.getHandle(workflowId);
  const d = await handle.describe().catch(() => {
    throw new UserError(`no deploy ${workflowId} to resume`);
  });
  if (d.type !== 'deployWorkflow') throw new UserError(`the last workflow of ${workflowId} is a ${d.type}, not a deploy: nothing to resume`);
  if (d.status.name === 'RUNNING') throw new UserError('the deploy is still running: follow it with `alcaide deploy --attach`');
  if (d.status.name !== 'FAILED') throw new UserError(`the last deploy ${d.status.name.toLowerCase()}: nothing to resume`);
  const point = resumePoint((await handle.fetchHistory()).events ?? []);
  const res: temporal.api.workflowservice.v1.IResetWorkflowExecutionResponse = await client.workflowService.resetWorkflowExecution({
    namespace,
    workflowExecution: { workflowId, runId: d.runId },
    reason: `resume from ${point.step} (${point.failedStep} had failed), by ${by}`,
    workflowTaskFinishEventId: Long.fromNumber(point.eventId),
    requestId: randomUUID(),
    // an abort or rollback signal of the failed run must not stop the resumed one
    resetReapplyType: temporal.api.enums.v1.ResetReapplyType.RESET_REAPPLY_TYPE_NONE,
  });
  return { ...point, runId: res.runId ?? '' };
}
