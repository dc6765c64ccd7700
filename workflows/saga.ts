// What deploy and rollback share: activity proxies with their retry policy, the undo list
// (each undo registered before the step it undoes, run in reverse in a scope nothing can
// cancel), stop requests from signals, and the drain-then-stop of the old slot.
import { ActivityCancellationType, CancellationScope, isCancellation, proxyActivities, sleep, type ActivityOptions, type RetryPolicy } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { AppTarget } from '../src/model/target';
import { NON_RETRYABLE_FAILURES } from '../src/failures';
import type { StopRequest } from './signals';
import type { StepOutcome, StepTracker } from './tracker';

const retry: RetryPolicy = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE_FAILURES };

const stepOptions = (startToCloseTimeout: ActivityOptions['startToCloseTimeout']): ActivityOptions => ({
  startToCloseTimeout,
  heartbeatTimeout: '10 seconds',
  retry,
  // A stopped deploy waits for the running step to finish or acknowledge, so undo never races it.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

export const acts = proxyActivities<Activities>(stepOptions('10 minutes'));
export const slowActs = proxyActivities<Activities>(stepOptions('60 minutes'));
export const undoActs = proxyActivities<Activities>({ startToCloseTimeout: '10 minutes', heartbeatTimeout: '10 seconds', retry: { ...retry, maximumAttempts: 10 } });
/** Bake checks: one retry for a lost connection; a wrong answer is final (it rolls back). */
export const bakeActs = proxyActivities<Activities>({ ...stepOptions('2 minutes'), retry: { ...retry, maximumAttempts: 2 } });

export interface Undo {
  name: string;
  title: string;
  fn: () => Promise<StepOutcome>;
}

export class Saga {
  private readonly undo: Undo[] = [];
  /** why the run was stopped (abort, rollback, cancel), if it was */
  stopped?: string;
  readonly scope = new CancellationScope();

  constructor(private readonly tracker: StepTracker) {}

  /** Registers an undo step; call it before the step it undoes. */
  onFailure(u: Undo): void {
    this.undo.unshift(u);
  }

  /** The changes so far are final (a rebuild's swap is done): nothing is undone from here on. */
  commit(): void {
    this.undo.length = 0;
  }

  /** A signal handler that stops the run (once, and only while it runs). */
  stopOn(verb: string) {
    // the input is optional: the Web UI's "Send Signal" may send none
    return (req: StopRequest = {}) => {
      if (this.stopped || !['running', 'held', 'baking'].includes(this.tracker.status.state)) return;
      this.stopped = `${verb}${req.by ? ` by ${req.by}` : ''}${req.reason ? ` (${req.reason})` : ''}`;
      this.tracker.status.stopped = { how: verb, by: req.by, reason: req.reason };
      this.scope.cancel();
    };
  }

  /** Runs the undo steps in reverse order; one failing does not stop the others. */
  async compensate(): Promise<{ restored: string; undoFailed: boolean }> {
    this.tracker.status.state = 'compensating';
    const results = await CancellationScope.nonCancellable(async () => {
      const out: Array<[string, boolean]> = [];
      for (const u of this.undo) out.push([u.title, await this.tracker.compensate(u.name, u.title, u.fn)]);
      return out;
    });
    const restored = results.length ? results.map(([title, ok]) => (ok ? title : `FAILED: ${title}`)).join('; ') : 'nothing had changed on the server';
    this.tracker.status.restored = restored;
    return { restored, undoFailed: results.some(([, ok]) => !ok) };
  }
}

/**
 * Waits for every step to end, then throws the first failure (a real one before a
 * cancellation it caused): steps run side by side never leave one running behind a failure.
 */
export async function allSettled(steps: Array<Promise<unknown>>): Promise<void> {
  const failed = (await Promise.allSettled(steps)).filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown);
  if (failed.length) throw failed.find((e) => !isCancellation(e)) ?? failed[0];
}

/** Lets requests in flight on the old slot finish (a durable timer), then stops it, kept for rollback. */
export async function drainAndStop(tracker: StepTracker, t: AppTarget, old: string | undefined, noOld: string): Promise<void> {
  if (!old) {
    tracker.skip('drainOldSlot', noOld);
    tracker.skip('stopOldSlot', noOld);
    return;
  }
  await tracker.run('drainOldSlot', async () => {
    await sleep(t.drainTimeoutMs);
    return { changed: true, note: `${t.drainTimeoutMs / 1000}s for requests in flight on ${old}` };
  });
  await tracker.run('stopOldSlot', () => acts.stopSlot(t, old as 'blue' | 'green'));
}
