// Runs steps (in order, or two side by side) and records their progress for the status query. Deterministic:
// time comes from the workflow clock.
import { isCancellation, setHandler, type ApplicationFailure } from '@temporalio/workflow';
import { failure, type FailureType } from '../src/failures';
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

/**
 * A run ended with one of its undo steps failed: its failure type says so (UndoFailed). A run that
 * ended before that type existed says so in its status (the failure's details): a fleet parent in
 * flight across the upgrade still reads its hosts right.
 */
export function undoFailedIn(e: unknown): boolean {
  if (rootFailureType(e) === 'UndoFailed') return true;
  let cur = e as { details?: unknown[]; cause?: unknown } | undefined;
  while (cur?.cause && !cur.details?.length) cur = cur.cause as typeof cur;
  const status = cur?.details?.[0] as Partial<WorkflowStatus> | undefined;
  return status?.compensations?.some((c) => c.state === 'failed') ?? false;
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

  /** A step whose failure is reported and not fatal (a post-* hook, docs/hooks.md): it stays in the status as warned. */
  warn(name: string): void {
    this.step(name).state = 'warned';
  }

  /**
   * Runs an undo step; it is recorded in `compensations` and its failure does not stop the others.
   * `again`: the entry of its earlier, failed run (a held undo retried), run again in place.
   */
  async compensate(name: string, title: string, fn: () => Promise<StepOutcome>, again?: StepStatus): Promise<boolean> {
    const c: StepStatus = again ?? { name, title, state: 'running', startedAt: Date.now() };
    if (again) Object.assign(c, { state: 'running', startedAt: Date.now(), endedAt: undefined, error: undefined, errorType: undefined });
    else (this.status.compensations ??= []).push(c);
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
  failure(message: string, type: FailureType = 'StepFailed'): ApplicationFailure {
    this.status.state = 'failed';
    this.status.currentStep = undefined;
    this.status.error = message;
    this.status.endedAt = Date.now();
    return failure(type, message, { details: [this.status] });
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
