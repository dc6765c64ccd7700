// What an operator can do to a running deploy beyond abort and rollback: a held failure
// (on_failure: hold) waits for `retry` (run the failed step again) or abort (compensate), and
// compensates by itself at hold_timeout; a fleet host's undo step that keeps failing waits for
// `retry` the same way, up to hold_timeout; a bake window watches the new slot through Caddy on
// durable timers and rolls back on the first failed check.
import { condition, isCancellation, setHandler, sleep } from '@temporalio/workflow';
import { formatDuration } from '../src/model/duration';
import type { AppTarget } from '../src/model/target';
import { retrySignal } from './signals';
import type { HeldStep, StepStatus } from './status';
import type { StepOutcome, StepTracker } from './tracker';

export class OperatorHold {
  private retryRequested = false;

  constructor(
    private readonly tracker: StepTracker,
    private readonly t: AppTarget,
  ) {
    setHandler(
      retrySignal,
      () => {
        // only meaningful while held; a stray retry (an old UI tab) must not retry a later failure
        if (this.tracker.status.state === 'held') this.retryRequested = true;
      },
      { description: "A deploy (or a fleet host's undo step) held for an operator runs the failed step again (fix the cause first). No input needed." },
    );
  }

  /** Runs a step; with on_failure: hold a failure waits for the operator instead of throwing. */
  async run<T extends StepOutcome>(name: string, fn: () => Promise<T>): Promise<T> {
    for (let retries = 0; ; retries++) {
      try {
        return await this.tracker.run(name, fn);
      } catch (e) {
        if (this.t.onFailure !== 'hold' || isCancellation(e)) throw e;
        if (!(await this.waitForDecision(name, retries))) throw e;
      }
    }
  }

  /** true: retry; false: the hold timed out (the step's error says so). An abort cancels the wait. */
  private waitForDecision(name: string, retries: number): Promise<boolean> {
    const step = this.tracker.step(name);
    return this.decide({ step: name, title: step.title, error: step.error ?? '', retries }, (note) => (step.error = `${step.error ?? 'failed'}${note}`));
  }

  /**
   * A fleet host's undo step whose attempts all failed (its entry `c` in the compensations), the
   * undo of step `undoOf`: true when the operator asks for a retry, false at hold_timeout (its
   * error says so). `held` hears of the hold as soon as it begins.
   */
  holdUndo(c: StepStatus, undoOf: string, retries: number, held: (h: HeldStep) => Promise<void>): Promise<boolean> {
    return this.decide({ step: c.name, title: c.title, undoOf, error: c.error ?? '', retries }, (note) => (c.error = `${c.error ?? 'failed'}${note}`), held);
  }

  private async decide(what: Omit<HeldStep, 'since' | 'until'>, timedOut: (note: string) => void, held?: (h: HeldStep) => Promise<void>): Promise<boolean> {
    const s = this.tracker.status;
    const was = s.state;
    const since = Date.now();
    s.state = 'held';
    s.currentStep = what.step;
    s.held = { ...what, since, until: since + this.t.holdTimeoutMs };
    this.retryRequested = false;
    try {
      await held?.(s.held);
      const retry = await condition(() => this.retryRequested, this.t.holdTimeoutMs);
      if (!retry) timedOut(` (held ${formatDuration(this.t.holdTimeoutMs)} for an operator; no retry came)`);
      return retry;
    } finally {
      s.state = was;
      s.held = undefined;
    }
  }
}

/** How often the bake window checks: about ten checks, between every 1 s and every 30 s. */
export const bakeInterval = (bakeMs: number) => Math.min(30_000, Math.max(1_000, Math.round(bakeMs / 10)));

/** Watches the live slot through Caddy with `check` until the bake window ends; a failed check throws (and rolls back). */
export async function bake(
  tracker: StepTracker,
  t: AppTarget,
  slot: 'blue' | 'green',
  check: (t: AppTarget, slot: 'blue' | 'green') => Promise<unknown>,
): Promise<StepOutcome> {
  const s = tracker.status;
  const until = Date.now() + t.bakeMs;
  const every = bakeInterval(t.bakeMs);
  let checks = 0;
  s.state = 'baking';
  s.bakeUntil = until;
  try {
    while (Date.now() < until) {
      await sleep(Math.min(every, until - Date.now()));
      await check(t, slot);
      checks++;
    }
  } finally {
    if (s.state === 'baking') s.state = 'running';
    s.bakeUntil = undefined;
  }
  return { changed: false, note: `${checks} checks through Caddy in ${formatDuration(t.bakeMs)}, all healthy` };
}
