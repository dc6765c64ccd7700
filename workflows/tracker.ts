// Runs steps in order and records their progress for the status query. Deterministic:
// time comes from the workflow clock.
import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import { statusQuery, type StepStatus, type WorkflowStatus } from './status';

export interface StepDef {
  name: string;
  title: string;
}

export interface StepOutcome {
  changed: boolean;
  note: string;
}

/** The message of the innermost cause: the activity's own error, not Temporal's wrapper. */
export function rootMessage(e: unknown): string {
  let cur = e as { message?: string; cause?: unknown } | undefined;
  while (cur?.cause) cur = cur.cause as typeof cur;
  return cur?.message ?? String(e);
}

export class StepTracker {
  readonly status: WorkflowStatus;

  constructor(base: Omit<WorkflowStatus, 'state' | 'startedAt' | 'steps'>, steps: readonly StepDef[]) {
    this.status = { ...base, state: 'running', startedAt: Date.now(), steps: steps.map((s) => ({ ...s, state: 'pending' })) };
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

  async run(name: string, fn: () => Promise<StepOutcome>): Promise<StepOutcome> {
    const s = this.step(name);
    Object.assign(s, { state: 'running', startedAt: Date.now() });
    this.status.currentStep = name;
    try {
      const out = await fn();
      Object.assign(s, { state: out.changed ? 'done' : 'unchanged', endedAt: Date.now(), note: out.note });
      return out;
    } catch (e) {
      const message = rootMessage(e);
      Object.assign(s, { state: 'failed', endedAt: Date.now(), error: message });
      this.status.state = 'failed';
      this.status.error = `${s.title} failed on ${this.status.host}: ${message}`;
      this.status.endedAt = Date.now();
      throw ApplicationFailure.create({ message: this.status.error, type: 'StepFailed', nonRetryable: true, details: [this.status], cause: e as Error });
    }
  }

  complete(): WorkflowStatus {
    this.status.state = 'completed';
    this.status.currentStep = undefined;
    this.status.endedAt = Date.now();
    return this.status;
  }
}
