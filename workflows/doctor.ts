import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { WorkerInfo } from '../activities';
import type { Activities } from './stepTable';

const { workerInfo } = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 3 },
});

export interface DoctorResult {
  workflowId: string;
  worker: WorkerInfo;
}

/** A round trip through Temporal: one workflow task, one activity on a worker. */
export async function doctorWorkflow(): Promise<DoctorResult> {
  const worker = await workerInfo();
  return { workflowId: workflowInfo().workflowId, worker };
}
