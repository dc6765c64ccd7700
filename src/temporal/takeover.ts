// A worker that starts takes over the steps of alcaide workers on this machine that died
// (kill -9, a crash, a closed laptop lid that ended the process): their running activity
// attempts are failed by id, so Temporal retries them at once instead of after the heartbeat
// timeout. Only a dead process is taken over: the identity names this host and a pid that no
// longer exists; anything else is left alone.
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { failure } from '../failures';
import { deadLocalWorker } from './connection';
import type { TemporalSettings } from './settings';

const PENDING_ACTIVITY_STATE_STARTED = 2;

export { deadLocalWorker };

/** Fails the running attempts of dead local workers on the task queue; returns what it took over. */
export async function takeOverDeadLocalAttempts(client: Client, s: TemporalSettings): Promise<string[]> {
  const taken: string[] = [];
  const query = `ExecutionStatus = "Running" AND TaskQueue = "${s.taskQueue.replace(/["\\]/g, '')}"`;
  for await (const wf of client.workflow.list({ query })) {
    const execution = { workflowId: wf.workflowId, runId: wf.runId };
    const d = await client.workflowService.describeWorkflowExecution({ namespace: s.namespace, execution });
    const dead = (d.pendingActivities ?? []).filter(
      (p) => Number(p.state) === PENDING_ACTIVITY_STATE_STARTED && p.activityId && deadLocalWorker(p.lastWorkerIdentity),
    );
    // The dead worker's sticky queue would get the workflow's next task and hold it 2 s
    // (stickyQueueScheduleToStartTimeout) before any worker may take it: drop it now.
    if (dead.length) await client.workflowService.resetStickyTaskQueue({ namespace: s.namespace, execution }).catch(() => undefined);
    for (const p of dead) {
      // retried now, not after the retry policy's first interval: the step has waited enough
      const lost = failure('WorkerLost', `the worker running this step (${p.lastWorkerIdentity}) is gone; retried by ${os.hostname()}`, {
        nextRetryDelay: '1ms',
      });
      try {
        await client.activity.fail({ ...execution, activityId: p.activityId! }, lost);
        taken.push(`${wf.workflowId} ${p.activityType?.name ?? p.activityId}`);
      } catch {
        /* finished or timed out meanwhile: nothing to take over */
      }
    }
  }
  return taken;
}

/**
 * Takes over now, and once more 3 s later (a task handed to the dead worker's last poll shows
 * up as started a moment later). Resolves after the first pass, 3 s at most: callers wait for
 * it before they load the worker side, whose seconds of CPU on a busy machine would otherwise
 * hold these few requests back until the heartbeat timeout has fired anyway. Errors are
 * ignored (the heartbeat timeout still applies); the timers never keep a CLI alive.
 */
export async function takeOver(client: Client, s: TemporalSettings, onTaken: (taken: string[]) => void = () => undefined): Promise<void> {
  const pass = () =>
    takeOverDeadLocalAttempts(client, s).then(
      (taken) => {
        if (taken.length) onTaken(taken);
      },
      () => undefined,
    );
  const first = pass();
  void first.then(() => sleep(3_000, undefined, { ref: false })).then(pass);
  await Promise.race([first, sleep(3_000, undefined, { ref: false })]);
}
