// The orchestration floor: a workflow that only runs a row of activities, on the bench's own dev
// server and SDK. Its gap per activity is what Temporal costs on this machine with nothing of
// Alcaide's in the way (deploy.bench.ts sets it beside the deploy's).
import { proxyActivities } from '@temporalio/workflow';

const { pause } = proxyActivities<{ pause(ms: number): Promise<void> }>({ startToCloseTimeout: '10 seconds' });

export async function floorWorkflow(n: number, activityMs: number): Promise<void> {
  for (let i = 0; i < n; i++) await pause(activityMs);
}
