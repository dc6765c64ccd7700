// A worker that starts takes over the steps of alcaide workers on this machine that died
// (kill -9, a crash, a closed laptop lid that ended the process): their running activity
// attempts are failed by id, so Temporal retries them at once (the retry policy's first
// interval) instead of after the heartbeat timeout. Only a dead process is taken over: the
// identity names this host and a pid that no longer exists; anything else is left alone.
import os from 'node:os';
import { ApplicationFailure, type Client } from '@temporalio/client';
import { connectClient, deadLocalWorker } from './connection';
import type { TemporalSettings } from './settings';

const PENDING_ACTIVITY_STATE_STARTED = 2;

export { deadLocalWorker };

/** Fails the running attempts of dead local workers on the task queue; returns what it took over. */
export async function takeOverDeadLocalAttempts(client: Client, s: TemporalSettings): Promise<string[]> {
  const taken: string[] = [];
  const query = `ExecutionStatus = "Running" AND TaskQueue = "${s.taskQueue.replace(/["\\]/g, '')}"`;
  for await (const wf of client.workflow.list({ query })) {
    const d = await client.workflowService.describeWorkflowExecution({ namespace: s.namespace, execution: { workflowId: wf.workflowId, runId: wf.runId } });
    for (const p of d.pendingActivities ?? []) {
      if (Number(p.state) !== PENDING_ACTIVITY_STATE_STARTED || !p.activityId || !deadLocalWorker(p.lastWorkerIdentity)) continue;
      const failure = ApplicationFailure.create({ type: 'WorkerLost', message: `the worker running this step (${p.lastWorkerIdentity}) is gone; retried by ${os.hostname()}` });
      try {
        await client.activity.fail({ workflowId: wf.workflowId, runId: wf.runId, activityId: p.activityId }, failure);
        taken.push(`${wf.workflowId} ${p.activityType?.name ?? p.activityId}`);
      } catch {
        /* finished or timed out meanwhile: nothing to take over */
      }
    }
  }
  return taken;
}

/** Takes over with a client of its own, without delaying the caller; errors are ignored (the heartbeat timeout still applies). */
export function takeOverInBackground(s: TemporalSettings, onTaken: (taken: string[]) => void, client?: Client): void {
  void (async () => {
    const c = client ?? (await connectClient(s));
    try {
      // twice: a task handed to the dead worker's last poll shows up as started a moment later
      for (const pause of [0, 3_000]) {
        await new Promise((r) => setTimeout(r, pause).unref()); // never keeps a CLI alive
        const taken = await takeOverDeadLocalAttempts(c, s);
        if (taken.length) onTaken(taken);
      }
    } finally {
      if (!client) await c.connection.close();
    }
  })().catch(() => undefined);
}
