// Runs a deploy's human gates (docs/approvals.md), each as its own step: the gates its input
// asks for, nothing else. The wait for approval ends with the `approve` signal (`alcaide approve`,
// the Web UI) or, at approval_timeout, fails the deploy: its undo steps put the previous slot
// back. The wait for the cut-over time is a durable timer; an `approve` during it switches now.
// Both are cancellable like any step: abort and rollback undo the deploy.
import { condition, patched, setHandler } from '@temporalio/workflow';
import { failure } from '../src/failures';
import { formatDuration } from '../src/model/duration';
import type { GatePlan } from '../src/model/gates';
import { GATE_STEPS, withGates, type GateStep } from './gateSteps';
import type { Saga } from './saga';
import { approveSignal } from './signals';
import type { StepDef, StepTable } from './stepTable';
import type { StepOutcome } from './tracker';

/**
 * Runs whose input has gates wait at them. One whose history was recorded by a worker without
 * gates (a new CLI, an old `alcaide worker`) replays without them.
 */
const GATES_PATCH = 'deploy-gates';

type Approver = { by: string; note?: string };

export class Gates {
  private readonly plan: GatePlan;
  /** the gate waiting now: an `approve` at any other moment changes nothing (a stray Web UI signal) */
  private waiting?: GateStep;
  private decision?: Approver;

  constructor(plan: GatePlan | undefined) {
    this.plan = plan && (plan.approval || plan.cutover) && patched(GATES_PATCH) ? plan : {};
    setHandler(
      approveSignal,
      (req = {}) => {
        if (this.waiting && !this.decision) this.decision = { by: req.by ?? 'someone', ...(req.note && { note: req.note }) };
      },
      {
        description:
          'A deploy waiting for approval (deploy --approve) switches traffic; one waiting for its cut-over time (deploy --at) switches now. Input optional: {"by": "...", "note": "..."}',
      },
    );
  }

  /** The run's steps: `steps` with the rows of its gates after `after`. */
  order(steps: readonly StepDef[], after: string): StepDef[] {
    return withGates(steps, after, this.plan);
  }

  /** The gates the run has, in order: the approval, then the cut-over time. */
  async run<T extends StepTable>(saga: Saga<T>): Promise<void> {
    const { approval, cutover } = this.plan;
    if (approval) await saga.own(GATE_STEPS.approval.name as never, () => this.approval(saga, approval.timeoutMs));
    if (cutover) await saga.own(GATE_STEPS.cutover.name as never, () => this.cutover(saga, cutover.at, cutover.label));
  }

  private async approval<T extends StepTable>(saga: Saga<T>, timeoutMs: number): Promise<StepOutcome> {
    const approved = await this.wait(saga, 'awaitApproval', Date.now() + timeoutMs);
    if (!approved) throw failure('ApprovalTimedOut', `no approval came within ${formatDuration(timeoutMs)} (approval_timeout)`);
    saga.tracker.status.approval = { ...approved, at: Date.now() };
    return { changed: true, note: `approved by ${approved.by}${approved.note ? `: ${approved.note}` : ''}` };
  }

  private async cutover<T extends StepTable>(saga: Saga<T>, at: number, label: string): Promise<StepOutcome> {
    // approved after the time: the switch is not before it, so it goes at once
    if (at <= Date.now()) return { changed: false, note: `${label} had passed` };
    const early = await this.wait(saga, 'awaitCutover', at, label);
    return { changed: true, note: early ? `switched before ${label}: approved now by ${early.by}${early.note ? `: ${early.note}` : ''}` : `until ${label}` };
  }

  /** Waits durably until `until` or an `approve`: the approver, or undefined at `until`. */
  private async wait<T extends StepTable>(saga: Saga<T>, step: GateStep, until: number, cutover?: string): Promise<Approver | undefined> {
    const s = saga.tracker.status;
    s.gate = { step, since: Date.now(), until, ...(cutover && { cutover }) };
    this.waiting = step;
    this.decision = undefined;
    try {
      const decided = await condition(() => this.decision !== undefined, until - Date.now());
      return decided ? (this.decision as Approver | undefined) : undefined;
    } finally {
      this.waiting = undefined;
      s.gate = undefined;
    }
  }
}
