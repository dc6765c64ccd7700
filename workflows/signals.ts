import { defineSignal } from '@temporalio/workflow';
import type { ApproveRequest } from '../src/model/gates';
import type { HeldStep } from './status';

export interface StopRequest {
  /** who asked (user@host), for the status and the history */
  by?: string;
  reason?: string;
}

/** Stop the deploy and put the previous slot back (same as cancelling the workflow). */
export const abortSignal = defineSignal<[StopRequest?]>('abort');
/** Put the previous slot back, also after the switch. */
export const rollbackSignal = defineSignal<[StopRequest?]>('rollback');
/**
 * Run the failed step again (a deploy held with on_failure: hold), or the failed undo step of a
 * fleet's host. The argument is optional, so the Temporal UI's "Send Signal" works with no input.
 */
export const retrySignal = defineSignal<[StopRequest?]>('retry');

/** A canary deploy gives the new slot every client now (`alcaide promote`). The argument is optional (the Web UI). */
export const promoteSignal = defineSignal<[StopRequest?]>('promote');

/** End a pause (`alcaide resume`): the held requests go on. The argument is optional (the Web UI). */
export const resumeSignal = defineSignal<[StopRequest?]>('resume');

/**
 * A deploy waiting for approval switches traffic (`alcaide approve`); one waiting for its
 * cut-over time switches now (`alcaide approve --now`). Optional argument: the Web UI.
 */
export const approveSignal = defineSignal<[ApproveRequest?]>('approve');

/**
 * What a fleet parent tells a host's child to do next (workflows/hostDeploy.ts). install: the
 * release is on the child's host (built or copied there), its slot jail may take it.
 */
export interface HostOrder {
  to: 'install' | 'switch' | 'finish' | 'undo';
  /** why the fleet goes back, for the host's status */
  why?: string;
}
export const proceedSignal = defineSignal<[HostOrder]>('proceed');

/** What a host's child tells its fleet parent it has reached. */
export interface HostReport {
  host: string;
  /**
   * failed: a step failed here and this host's undo steps begin (the others need not wait for
   * them); held: an undo step failed and waits for the operator (`held`); undoing: a retry runs it again
   */
  phase: 'prepared' | 'switched' | 'failed' | 'held' | 'undoing';
  slot?: string;
  previousSlot?: string;
  error?: string;
  held?: HeldStep;
}
export const hostReportSignal = defineSignal<[HostReport]>('hostReport');
