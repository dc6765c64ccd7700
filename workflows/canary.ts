// A deploy's canary (docs/canary.md): the new slot takes each share of clients in turn for the
// plan's interval, through Caddy's canary routes; every check reads both slots' figures from
// Caddy's access logs on the host. A breach fails the step (CanaryBreach): the deploy's undo puts
// all traffic back on the old slot at once. `promote` (a signal) ends the wait and the deploy
// goes on to give the new slot every client (switchTraffic).
import { condition, proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import { failure } from '../src/failures';
import { formatDuration } from '../src/model/duration';
import { addFigures, canaryBreach, describeFigures, NO_FIGURES, type CanaryPlan, type CanaryStatus } from '../src/model/canary';
import type { AppTarget } from '../src/model/target';
import type { DEPLOY_STEPS } from './deploySteps';
import { ACTIVITY_OPTIONS, type Saga } from './saga';
import { promoteSignal, type StopRequest } from './signals';
import type { Activities } from './stepTable';
import type { StepOutcome } from './tracker';

type Slot = 'blue' | 'green';

/** After a breach sent every client back: how long the new slot's requests in flight have to end and reach its log. */
const FINAL_COUNT_DELAY_MS = 2_000;

export class Canary {
  private promotedBy?: string;
  private running = false;

  constructor(
    private readonly saga: Saga<typeof DEPLOY_STEPS>,
    private readonly plan: CanaryPlan,
  ) {
    setHandler(
      promoteSignal,
      (req: StopRequest = {}) => {
        // only while the canary runs: a stray promote (an old UI tab) must not skip a later one
        if (this.running && this.promotedBy === undefined) this.promotedBy = req.by ?? 'the promote signal';
      },
      { description: 'A canary deploy gives the new slot every client now, without the remaining steps. Input optional: {"by": "..."}' },
    );
  }

  /** The canary step: each share in turn, watched; throws CanaryBreach when the new slot fails more than the old. */
  run(t: AppTarget, to: Slot, from: Slot): Promise<StepOutcome> {
    return this.saga.own('canary', async () => {
      const status = this.saga.tracker.status;
      const view: CanaryStatus = { share: 0, steps: this.plan.steps, figures: NO_FIGURES };
      status.canary = view;
      const { canaryFigures } = proxyActivities<Activities>({ ...ACTIVITY_OPTIONS.bake, summary: 'canary figures' });
      const setShare = this.saga.act('canary');
      let since = Date.now();
      this.running = true;
      try {
        for (const share of this.plan.steps) {
          if (this.promotedBy !== undefined) break;
          await setShare(t, to, from, share);
          view.share = share;
          const until = Date.now() + this.plan.intervalMs;
          view.stepUntil = until;
          while (this.promotedBy === undefined && Date.now() < until) {
            await condition(() => this.promotedBy !== undefined, Math.min(this.plan.checkIntervalMs, until - Date.now()));
            const f = await canaryFigures(t, to, from, since);
            since = f.until;
            view.figures = addFigures(view.figures, f);
            const breach = canaryBreach(this.plan, view.figures, to, from);
            if (breach) {
              view.breach = breach;
              // every client back on the old slot now, not after the undo steps before it; then the
              // last count, once the new slot's requests in flight ended (the logs count whole seconds)
              await setShare(t, to, from, 0);
              view.share = 0;
              await sleep(FINAL_COUNT_DELAY_MS);
              view.figures = addFigures(view.figures, await canaryFigures(t, to, from, since));
              throw failure(
                'CanaryBreach',
                `at ${share}% of clients ${breach}; ${view.figures.canary.errors} requests were answered 5xx by ${to} before traffic went back`,
              );
            }
          }
        }
      } finally {
        this.running = false;
        view.stepUntil = undefined;
      }
      view.promotedBy = this.promotedBy;
      const how = this.promotedBy
        ? `promoted by ${this.promotedBy} at ${view.share}%`
        : `${this.plan.steps.join('%, ')}% for ${formatDuration(this.plan.intervalMs)} each`;
      return { changed: true, note: `${how}: ${describeFigures(view.figures, to, from)}` };
    });
  }
}
