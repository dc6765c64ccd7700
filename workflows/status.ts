// What `alcaide status` and the live progress show: kept by the workflow, read by query.
import { defineQuery } from '@temporalio/workflow';
import type { CanaryStatus } from '../src/model/canary';

/** warned: a post-* hook that failed; reported, and the run went on (docs/hooks.md) */
export type StepState = 'pending' | 'running' | 'done' | 'unchanged' | 'failed' | 'cancelled' | 'skipped' | 'warned';

export interface StepStatus {
  name: string;
  title: string;
  state: StepState;
  startedAt?: number;
  endedAt?: number;
  note?: string;
  error?: string;
  /** the failure type of the error (src/failures.ts): the CLI's hint goes by it */
  errorType?: string;
  attempt?: number;
}

export interface WorkflowStatus {
  kind:
    | 'setup'
    | 'deploy'
    | 'rollback'
    | 'rebuild'
    | 'remove'
    | 'fleet-setup'
    | 'fleet-deploy'
    | 'host-deploy'
    | 'fleet-rollback'
    | 'host-rollback'
    | 'fleet-remove'
    | 'maintenance'
    | 'pause';
  app: string;
  destination?: string;
  host: string;
  version?: string;
  slot?: string;
  previousSlot?: string;
  /** a maintenance run: what it turns the site to */
  maintenance?: 'on' | 'off';
  /** held: waiting for an operator's retry or abort; baking: watching the new slot after the switch */
  state: 'running' | 'held' | 'baking' | 'completed' | 'failed' | 'compensating' | 'rolled back';
  currentStep?: string;
  startedAt: number;
  endedAt?: number;
  steps: StepStatus[];
  /** undo steps run after a failure, abort or rollback, in the order they ran */
  compensations?: StepStatus[];
  error?: string;
  /** what was put back after a failure */
  restored?: string;
  /** how and by whom the run was stopped (abort, rollback), when a signal stopped it */
  stopped?: { how: string; by?: string; reason?: string };
  /** set while the deploy waits for an operator (on_failure: hold) */
  held?: HeldStep;
  /** a canary deploy: the new slot's share of clients and both slots' figures (docs/canary.md) */
  canary?: CanaryStatus;
  /** end of the bake window while it runs (ms since epoch) */
  bakeUntil?: number;
  /** set while the deploy waits at a gate before the switch (docs/approvals.md) */
  gate?: GateWait;
  /** who approved the switch (deploy --approve), and their note */
  approval?: { by: string; note?: string; at: number };
  /** a fleet's parent workflow: each host's child workflow and how it stands */
  hosts?: FleetHostStatus[];
}

/** The states in which an abort or a rollback signal stops a run; in any other it changes nothing. */
export const STOPPABLE_STATES: readonly WorkflowStatus['state'][] = ['running', 'held', 'baking'];

export interface FleetHostStatus {
  host: string;
  roles: string[];
  /** the host's child workflow */
  workflowId: string;
  /**
   * prepared and switched: reported by a fleet deploy's child; held: one of its undo steps failed
   * and waits for the operator's retry; undoing: a retry runs it again; undone: it went back to
   * its previous slot
   */
  state: 'pending' | 'running' | 'prepared' | 'switched' | 'completed' | 'failed' | 'undone' | 'held' | 'undoing';
  slot?: string;
  previousSlot?: string;
  note?: string;
  error?: string;
  /** the undo step the host waits on, while held */
  held?: HeldStep;
  /** its undo steps did not all succeed (a hold timed out): it may still serve what the fleet left */
  notTakenBack?: boolean;
}

export interface HeldStep {
  /** the failed step, or for an undo step its activity (the name of its entry in `compensations`) */
  step: string;
  title: string;
  /** set when an undo step is held (a fleet's host): the title of the step it undoes */
  undoOf?: string;
  error: string;
  since: number;
  /** when the hold times out and the deploy compensates */
  until: number;
  /** how many times the operator asked for a retry so far */
  retries: number;
}

export interface GateWait {
  /** awaitApproval: until `alcaide approve` or approval_timeout; awaitCutover: until the cut-over time */
  step: 'awaitApproval' | 'awaitCutover';
  since: number;
  /** when the wait ends by itself: the approval's timeout (then the deploy is undone), the cut-over time */
  until: number;
  /** the cut-over time as the operator gave it, with its zone */
  cutover?: string;
}

/** The one-line summary of a held deploy, for the CLI and the status. */
export const heldMessage = (h: HeldStep) => `waiting for operator: ${h.undoOf ? `undo of ${h.undoOf} (${h.title})` : h.title} failed: ${h.error}`;

export const statusQuery = defineQuery<WorkflowStatus>('status');
