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
import { DEPLOY_STEPS } from '../../workflows/deploySteps';
import { stepOfActivity, type StepTable } from '../../workflows/stepTable';
import { UserError } from '../errors';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const DEPLOY: StepTable = DEPLOY_STEPS;
const order = (step: string) => DEPLOY.findIndex((s) => s.name === step);

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
  const scheduled = new Map<number, string>();
  // the last failed step is the one that ended the run (an earlier one may have been retried)
  let failedStep: string | undefined;
  const undone: string[] = [];
  for (const e of events) {
    const id = Number(e.eventId);
    const s = e.activityTaskScheduledEventAttributes;
    if (s?.activityType?.name) {
      scheduled.set(id, s.activityType.name);
      // an undo activity: the step whose effect it took away must run again
      const of = stepOfActivity(DEPLOY, s.activityType.name);
      if (of?.asUndo) undone.push(of.step.name);
    }
    const f = e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
    if (f) {
      const of = stepOfActivity(DEPLOY, scheduled.get(Number(f.scheduledEventId)) ?? '');
      if (of && !of.asUndo) failedStep = of.step.name;
    }
  }
  if (!failedStep) throw new UserError('the last deploy did not fail in a step (it was aborted, rolled back or cancelled): start a new deploy');
  const step = [failedStep, ...undone].sort((a, b) => order(a) - order(b))[0]!;
  const activity = DEPLOY.find((s) => s.name === step)?.activity;
  const at = [...scheduled].find(([, name]) => name === activity)?.[0];
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
