// Runs steps (in order, or two side by side) and records their progress for the status query. Deterministic:
// time comes from the workflow clock.
import { isCancellation, setHandler, type ApplicationFailure } from '@temporalio/workflow';
import { failure } from '../src/failures';
import type { StepResult } from '../src/model/step';
import { statusQuery, type StepStatus, type WorkflowStatus } from './status';
import type { StepDef } from './stepTable';

/** What a step reports (src/model/step.ts): activities return it, steps of the workflow's own make one. */
export type StepOutcome = StepResult;

/** The message of the innermost cause: the activity's own error, not Temporal's wrapper. */
export function rootMessage(e: unknown): string {
  let cur = e as { message?: string; cause?: unknown } | undefined;
  while (cur?.cause) cur = cur.cause as typeof cur;
  return cur?.message ?? String(e);
}

/** The failure type of the innermost cause that has one (an activity's ApplicationFailure). */
export function rootFailureType(e: unknown): string | undefined {
  let type: string | undefined;
  for (let cur = e as { type?: unknown; cause?: unknown } | undefined; cur; cur = cur.cause as typeof cur) if (typeof cur.type === 'string') type = cur.type;
  return type;
}

export class StepTracker {
  readonly status: WorkflowStatus;

  constructor(base: Omit<WorkflowStatus, 'state' | 'startedAt' | 'steps'>, steps: readonly StepDef[]) {
    this.status = { ...base, state: 'running', startedAt: Date.now(), steps: steps.map(({ name, title }) => ({ name, title, state: 'pending' })) };
    setHandler(statusQuery, () => this.status);
  }

  step(name: string): StepStatus {
    const s = this.status.steps.find((x) => x.name === name);
    if (!s) throw new Error(`unknown step ${name}`);
    return s;
  }

  skip(name: string, note: string): void {
    Object.assign(this.step(name), { state: 'skipped', note });
  }

  /** Runs a step; a failure is recorded on the step and rethrown as it was. */
  async run<T extends StepOutcome>(name: string, fn: () => Promise<T>): Promise<T> {
    const s = this.step(name);
    Object.assign(s, { state: 'running', startedAt: Date.now(), error: undefined, errorType: undefined });
    this.status.currentStep = name;
    try {
      const out = await fn();
      Object.assign(s, { state: out.changed ? 'done' : 'unchanged', endedAt: Date.now(), note: out.note });
      return out;
    } catch (e) {
      if (isCancellation(e)) Object.assign(s, { state: 'cancelled', endedAt: Date.now(), error: 'stopped', errorType: undefined });
      else Object.assign(s, { state: 'failed', endedAt: Date.now(), error: rootMessage(e), errorType: rootFailureType(e) });
      throw e;
    } finally {
      // steps side by side: the current step is one still running
      if (this.status.currentStep === name) this.status.currentStep = this.status.steps.find((x) => x.state === 'running')?.name ?? name;
    }
  }

  /** Runs an undo step; it is recorded in `compensations` and its failure does not stop the others. */
  async compensate(name: string, title: string, fn: () => Promise<StepOutcome>): Promise<boolean> {
    const c: StepStatus = { name, title, state: 'running', startedAt: Date.now() };
    (this.status.compensations ??= []).push(c);
    this.status.currentStep = name;
    try {
      const out = await fn();
      Object.assign(c, { state: 'done', endedAt: Date.now(), note: out.note });
      return true;
    } catch (e) {
      Object.assign(c, { state: 'failed', endedAt: Date.now(), error: rootMessage(e), errorType: rootFailureType(e) });
      return false;
    }
  }

  /** The failure the workflow ends with: step, host, cause; the status travels in its details. */
  failure(message: string): ApplicationFailure {
    this.status.state = 'failed';
    this.status.currentStep = undefined;
    this.status.error = message;
    this.status.endedAt = Date.now();
    return failure('StepFailed', message, { details: [this.status] });
  }

  /** The title and error of the step that failed, if any: one that failed before one cancelled (steps side by side: the failure stopped the other). */
  failedStep(): StepStatus | undefined {
    return this.status.steps.find((s) => s.state === 'failed') ?? this.status.steps.find((s) => s.state === 'cancelled');
  }

  complete(state: WorkflowStatus['state'] = 'completed'): WorkflowStatus {
    this.status.state = state;
    this.status.currentStep = undefined;
    this.status.endedAt = Date.now();
    return this.status;
  }
}
