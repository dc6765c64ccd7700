import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type * as activities from '../activities';

const { workerInfo } = proxyActivities<typeof activities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 3 },
});

export interface DoctorResult {
  workflowId: string;
  worker: activities.WorkerInfo;
}

/** A round trip through Temporal: one workflow task, one activity on a worker. */
export async function doctorWorkflow(): Promise<DoctorResult> {
  const worker = await workerInfo();
  return { workflowId: workflowInfo().workflowId, worker };
}
