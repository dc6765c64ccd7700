// What `alcaide status` and the live progress show: kept by the workflow, read by query.
import { defineQuery } from '@temporalio/workflow';

export type StepState = 'pending' | 'running' | 'done' | 'unchanged' | 'failed' | 'cancelled' | 'skipped';

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
  kind: 'setup' | 'deploy' | 'rollback' | 'rebuild';
  app: string;
  destination?: string;
  host: string;
  version?: string;
  slot?: string;
  previousSlot?: string;
  state: 'running' | 'completed' | 'failed' | 'compensating' | 'rolled back';
  currentStep?: string;
  startedAt: number;
  endedAt?: number;
  steps: StepStatus[];
  /** undo steps run after a failure, abort or rollback, in the order they ran */
  compensations?: StepStatus[];
  error?: string;
  /** what was put back after a failure */
  restored?: string;
}

export const statusQuery = defineQuery<WorkflowStatus>('status');
