// PauseWorkflow: new requests to the app wait at Caddy (held, not refused) for a quiet moment — a
// database failover, a migration that needs one — until `alcaide resume` or the pause's end,
// under the app's lock (never beside a deploy). A failure or an abort lets the requests go on
// (the undo). The host's own timer resumes at the end too, so a pause outlives no worker.
import { condition, setHandler, workflowInfo } from '@temporalio/workflow';
import type { AppTarget } from '../src/model/target';
import { PAUSE_STEPS } from './pauseSteps';
import { runSaga } from './saga';
import { abortSignal, resumeSignal } from './signals';
import type { WorkflowStatus } from './status';

export { PAUSE_STEPS };

export interface PauseInput {
  target: AppTarget;
  /** how long at most the requests wait (ms) */
  maxMs: number;
  startedBy: string;
}

export async function pauseWorkflow({ target: t, maxMs, startedBy }: PauseInput): Promise<WorkflowStatus> {
  const token = workflowInfo().runId;
  let resumedBy: string | undefined;
  setHandler(resumeSignal, (req = {}) => void (resumedBy = req.by ?? 'someone'), {
    description: 'End the pause now: the held requests go on. Input optional: {"by": "..."}',
  });
  const hosts = t.fleet ? t.fleet.hosts.map((h) => h.host).join(', ') : t.server.host;
  return runSaga(
    {
      table: PAUSE_STEPS,
      status: { kind: 'pause', app: t.app, destination: t.destination, host: hosts },
      what: () => `pause of ${t.app} (started by ${startedBy})`,
      noun: 'pause',
      stops: [{ signal: abortSignal, verb: 'aborted', description: 'End the pause now, as a failure would: the held requests go on.' }],
    },
    async (saga) => {
      saga.willUndo('pauseTraffic', () => [t, token]);
      await saga.run('pauseTraffic', t, { token, maxSeconds: Math.ceil(maxMs / 1000) });
      await saga.own('paused', async () => {
        const resumed = await condition(() => resumedBy !== undefined, maxMs);
        return { changed: true, note: resumed ? `resumed by ${resumedBy}` : `ended after ${maxMs / 1000}s (--max)` };
      });
      await saga.run('resumeTraffic', t, token);
    },
  );
}
