// What `alcaide status` and the live progress show: kept by the workflow, read by query.
import { defineQuery } from '@temporalio/workflow';

export type StepState = 'pending' | 'running' | 'done' | 'unchanged' | 'failed' | 'skipped';

export interface StepStatus {
  name: string;
  title: string;
  state: StepState;
  startedAt?: number;
  endedAt?: number;
  note?: string;
  error?: string;
  attempt?: number;
}

export interface WorkflowStatus {
  kind: 'setup' | 'deploy' | 'rollback';
  app: string;
  destination?: string;
  host: string;
  state: 'running' | 'completed' | 'failed';
  currentStep?: string;
  startedAt: number;
  endedAt?: number;
  steps: StepStatus[];
  error?: string;
}

export const statusQuery = defineQuery<WorkflowStatus>('status');
