// The saga runner every workflow runs through (docs/architecture.md, "The saga runner and the
// failure catalogue"). A step runs by its name alone: its activity, timeouts and retry policy
// come from the workflow's step table, a step that may hold waits for the operator (so does a
// fleet host's undo step that keeps failing). Each undo is registered before the step it undoes
// and runs in reverse order in a scope nothing can cancel; signals stop the run; a failure or a
// stop ends the workflow with one message: what, how it ended, on which host, in which step and
// why, and what was put back.
import {
  ActivityCancellationType,
  CancellationScope,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  type ActivityOptions,
  type ApplicationFailure,
  type RetryPolicy,
  type SignalDefinition,
} from '@temporalio/workflow';
import type { AppTarget } from '../src/model/target';
import { NON_RETRYABLE_FAILURES } from '../src/failures';
import type { DEPLOY_STEPS } from './deploySteps';
import type { HOST_DEPLOY_STEPS, HOST_ROLLBACK_STEPS } from './fleetSteps';
import { OperatorHold } from './operator';
import type { ROLLBACK_STEPS } from './rollbackSteps';
import type { StopRequest } from './signals';
import { STOPPABLE_STATES, type HeldStep, type WorkflowStatus } from './status';
import type { Activities, ActivityName, RetryClass, StepDef, StepName, StepOf, StepTable } from './stepTable';
import { rootMessage, StepTracker, type StepOutcome } from './tracker';

const retry: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '30 seconds',
  maximumAttempts: 5,
  nonRetryableErrorTypes: NON_RETRYABLE_FAILURES,
};

const stepOptions = (startToCloseTimeout: ActivityOptions['startToCloseTimeout']): ActivityOptions => ({
  startToCloseTimeout,
  heartbeatTimeout: '10 seconds',
  retry,
  // A stopped deploy waits for the running step to finish or acknowledge, so undo never races it.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

/** How each retry class of the step tables schedules its activity; undo steps run as `undo`. */
export const ACTIVITY_OPTIONS: Record<RetryClass | 'undo', ActivityOptions> = {
  step: stepOptions('10 minutes'),
  slow: stepOptions('60 minutes'),
  /** one retry for a lost connection; a wrong answer is final (it rolls back) */
  bake: { ...stepOptions('2 minutes'), retry: { ...retry, maximumAttempts: 2 } },
  setup: { startToCloseTimeout: '45 minutes', heartbeatTimeout: '10 seconds', retry: { ...retry, maximumAttempts: 3 } },
  /** a hook's exit is final (HookFailed); a worker lost mid-hook runs it again (docs/hooks.md: hooks are idempotent) */
  hook: { ...stepOptions('2 hours'), retry: { ...retry, maximumAttempts: 3 } },
  undo: { startToCloseTimeout: '10 minutes', heartbeatTimeout: '10 seconds', retry: { ...retry, maximumAttempts: 10 } },
};

type AnyActivity = (...args: unknown[]) => Promise<StepOutcome>;
const proxies = Object.fromEntries(Object.entries(ACTIVITY_OPTIONS).map(([c, o]) => [c, proxyActivities<Activities>(o)])) as unknown as Record<
  RetryClass | 'undo',
  Record<ActivityName, AnyActivity>
>;

type ActivityOf<T extends StepTable, N extends StepName<T>> = StepOf<T, N> extends { activity: infer A extends ActivityName } ? A : never;
type UndoOf<T extends StepTable, N extends StepName<T>> = StepOf<T, N> extends { undo: { activity: infer A extends ActivityName } } ? A : never;
/** Steps that have an undo. */
type UndoableStep<T extends StepTable> = Extract<T[number], { undo: object }>['name'];

export interface SagaSpec<T extends StepTable> {
  table: T;
  status: Omit<WorkflowStatus, 'state' | 'startedAt' | 'steps'>;
  /** the steps in the order they run, when it differs from the table's (deploySteps) */
  order?: readonly StepDef[];
  /** names the run in its failure message ("deploy of shop 0123456789ab"); without it the failed step does (setup) */
  what?: () => string;
  /** the run in "during the deploy", when no step was running */
  noun?: string;
  /** the signals that stop the run */
  stops?: Array<{ signal: SignalDefinition<[StopRequest?]>; verb: string; description?: string }>;
  /** with on_failure: hold in this target, a failed step that `holds` waits for the operator */
  hold?: AppTarget;
  /**
   * A fleet's host (docs/fleets.md): an undo step still failing after its attempts waits for the
   * operator's retry, up to `target`'s hold_timeout, so no host is left behind unnoticed;
   * `report` tells the parent when it holds (the held step) and when a retry lets it go on.
   */
  holdUndo?: { target: AppTarget; report: (held?: HeldStep) => Promise<void> };
  /**
   * A forward-only run (removal, setup) undoes nothing: a stop takes effect before the next step
   * and its failure message ends with this instead of what was restored.
   */
  forwardOnly?: string;
  /** appended to "Restored: …" */
  restoredNote?: string;
}

interface Undo {
  /** the undo activity, or the name of an undo that is the workflow's own work (a fleet's children) */
  activity: ActivityName | string;
  /** the title of the step it undoes */
  of: string;
  args: () => unknown[];
  title: (...args: unknown[]) => string;
  own?: () => Promise<StepOutcome>;
}

export class Saga<T extends StepTable> {
  readonly tracker: StepTracker;
  readonly scope = new CancellationScope();
  /** why the run was stopped (abort, rollback, cancel), if it was */
  stopped?: string;
  /** a forward-only run stopped before this step */
  private stoppedBefore?: string;
  private readonly undo: Undo[] = [];
  /** the operator's decisions: a held step (spec.hold) or a held undo step (spec.holdUndo) */
  private readonly operator?: OperatorHold;
  /** a held undo step timed out: no operator came, the remaining undo steps do not wait again */
  private undoHoldTimedOut = false;

  constructor(private readonly spec: SagaSpec<T>) {
    this.tracker = new StepTracker(spec.status, spec.order ?? spec.table);
    for (const s of spec.stops ?? []) setHandler(s.signal, this.stopOn(s.verb), s.description ? { description: s.description } : undefined);
    const holdFor = spec.hold ?? spec.holdUndo?.target;
    if (holdFor) this.operator = new OperatorHold(this.tracker, holdFor);
  }

  private def(name: string): StepDef {
    // a run's own steps beyond its table: the hooks it runs (workflows/hooks.ts)
    const d = this.spec.table.find((s) => s.name === name) ?? this.spec.order?.find((s) => s.name === name);
    if (!d) throw new Error(`unknown step ${name}`);
    return d;
  }

  /** The activity of a step, scheduled with the step's retry class (the bake's checks call it). */
  act<N extends StepName<T>>(name: N): Activities[ActivityOf<T, N>] {
    const d = this.def(name);
    if (!d.activity || !d.retry) throw new Error(`step ${name} schedules no activity`);
    return proxies[d.retry][d.activity] as unknown as Activities[ActivityOf<T, N>];
  }

  /** Runs a step: its activity with `args`. */
  run<N extends StepName<T>>(name: N, ...args: Parameters<Activities[ActivityOf<T, N>]>): Promise<Awaited<ReturnType<Activities[ActivityOf<T, N>]>>> {
    const fn = this.act(name) as unknown as AnyActivity;
    return this.own(name, () => fn(...args)) as Promise<Awaited<ReturnType<Activities[ActivityOf<T, N>]>>>;
  }

  /** Runs a step whose work is the workflow's own (the drain's timer, the bake's checks). */
  async own<R extends StepOutcome>(name: StepName<T>, fn: () => Promise<R>): Promise<R> {
    if (this.spec.forwardOnly !== undefined && this.stopped) {
      this.stoppedBefore = this.def(name).title;
      for (const s of this.tracker.status.steps) if (s.state === 'pending') this.tracker.skip(s.name, this.stopped);
      throw new Error(`${this.stopped} before ${name}`);
    }
    return this.def(name).holds && this.spec.hold && this.operator ? this.operator.run(name, fn) : this.tracker.run(name, fn);
  }

  skip(name: StepName<T>, note: string): void {
    this.tracker.skip(name, note);
  }

  /** Registers the undo of step `name`: call it before the step runs. `args` are read when the undo runs. */
  willUndo<N extends UndoableStep<T>>(name: N, args: () => Parameters<Activities[UndoOf<T, N>]>): void {
    const d = this.def(name);
    const u = d.undo!;
    this.undo.unshift({ activity: u.activity, of: d.title, args, title: u.title });
  }

  /** Registers an undo that is the workflow's own work (a fleet parent taking its hosts back), named `name`. */
  willUndoOwn(name: string, title: () => string, fn: () => Promise<StepOutcome>): void {
    this.undo.unshift({ activity: name, of: name, args: () => [], title, own: fn });
  }

  /** The changes so far are final (a rebuild's swap is done): nothing is undone from here on. */
  commit(): void {
    this.undo.length = 0;
  }

  /** A signal handler that stops the run (once, and only while it runs). */
  private stopOn(verb: string) {
    // the input is optional: the Web UI's "Send Signal" may send none
    return (req: StopRequest = {}) => {
      if (this.stopped || !STOPPABLE_STATES.includes(this.tracker.status.state)) return;
      this.stopped = `${verb}${req.by ? ` by ${req.by}` : ''}${req.reason ? ` (${req.reason})` : ''}`;
      this.tracker.status.stopped = { how: verb, by: req.by, reason: req.reason };
      // a forward-only run finishes its running step and stops before the next
      if (this.spec.forwardOnly === undefined) this.scope.cancel();
    };
  }

  /** Runs the undo steps in reverse order; one failing does not stop the others. */
  private async compensate(): Promise<{ restored: string; undoFailed: boolean }> {
    this.tracker.status.state = 'compensating';
    const results = await CancellationScope.nonCancellable(async () => {
      const out: Array<[string, boolean]> = [];
      for (const u of this.undo) {
        const args = u.args();
        const title = u.title(...args);
        const undo = u.own ?? (() => proxies.undo[u.activity as ActivityName](...args));
        let ok = await this.tracker.compensate(u.activity, title, undo);
        for (let retries = 0; !ok && this.holdsUndo(); retries++) {
          const entry = this.tracker.status.compensations!.at(-1)!;
          if (!(await this.operator!.holdUndo(entry, u.of, retries, (held) => this.spec.holdUndo!.report(held)))) {
            this.undoHoldTimedOut = true;
            break;
          }
          await this.spec.holdUndo!.report();
          ok = await this.tracker.compensate(u.activity, title, undo, entry);
        }
        // a fleet parent's own undo says which hosts it could not take back
        out.push([ok || !u.own ? title : `${title} (${this.tracker.status.compensations!.at(-1)!.error})`, ok]);
      }
      return out;
    });
    const restored = results.length ? results.map(([title, ok]) => (ok ? title : `FAILED: ${title}`)).join('; ') : 'nothing had changed on the server';
    this.tracker.status.restored = restored;
    return { restored, undoFailed: results.some(([, ok]) => !ok) };
  }

  /** A failed undo step waits for the operator: a fleet's host, in runs started since holds for undo steps exist. */
  private holdsUndo(): boolean {
    return this.spec.holdUndo !== undefined && !this.undoHoldTimedOut && patched(UNDO_HOLD_PATCH);
  }

  /** After a failure or a stop: undo what was done, then the failure the workflow ends with (UndoFailed when an undo step failed). */
  async fail(e: unknown): Promise<ApplicationFailure> {
    const stop = this.stopped ?? (isCancellation(e) ? 'cancelled' : undefined);
    let after = this.spec.forwardOnly;
    let undoFailed = false;
    if (after === undefined) {
      const undone = await this.compensate();
      undoFailed = undone.undoFailed;
      after = `Restored: ${undone.restored}${this.spec.restoredNote ?? ''}.${undoFailed ? ` ${UNDO_FAILED_NOTE}: check the server (alcaide status) before deploying again.` : ''}`;
    }
    return this.tracker.failure(this.message(e, stop, after), undoFailed ? 'UndoFailed' : 'StepFailed');
  }

  private message(e: unknown, stop: string | undefined, after: string): string {
    const { host } = this.tracker.status;
    const failed = this.tracker.failedStep();
    const why = `${failed?.title ?? 'a step'} failed`;
    const error = failed?.error ?? rootMessage(e);
    if (!this.spec.what) return `${why} on ${host}: ${error}${after ? ` ${after}` : ''}`;
    const what = this.spec.what();
    if (this.stoppedBefore) return `${what} ${stop} before "${this.stoppedBefore}" on ${host}. ${after}`;
    if (stop) return `${what} ${stop} on ${host}: during ${failed?.title ?? `the ${this.spec.noun ?? 'run'}`}. ${after}`;
    return `${what} failed on ${host}: ${why}: ${error}. ${after}`;
  }
}

/** What a failure message says when an undo step failed too (the run then ends with the failure type UndoFailed). */
export const UNDO_FAILED_NOTE = 'Some undo steps failed';

/** A fleet host's failed undo step holds for the operator (docs/architecture.md, "Changing workflow code"). */
const UNDO_HOLD_PATCH = 'fleet-host-holds-failed-undo';

/** Runs a workflow's body as a saga: its status when it completes, else the failure `fail` composes. */
export async function runSaga<T extends StepTable>(spec: SagaSpec<T>, body: (saga: Saga<T>) => Promise<void>): Promise<WorkflowStatus> {
  const saga = new Saga(spec);
  try {
    await saga.scope.run(() => body(saga));
    return saga.tracker.complete();
  } catch (e) {
    throw await saga.fail(e);
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

/** Runs started before the drain watched Caddy's figures wait out drain_timeout on a timer (docs/architecture.md, "Changing workflow code"). */
const DRAIN_PATCH = 'drain-until-idle';

/** Lets requests in flight on the old slot finish (until Caddy has none to it, at most drain_timeout), then stops it, kept for rollback. */
export async function drainAndStop(
  saga: Saga<typeof DEPLOY_STEPS> | Saga<typeof ROLLBACK_STEPS> | Saga<typeof HOST_DEPLOY_STEPS> | Saga<typeof HOST_ROLLBACK_STEPS>,
  t: AppTarget,
  old: 'blue' | 'green' | undefined,
  noOld: string,
): Promise<void> {
  // the tables have the two steps, with the same activity
  const s = saga as Saga<typeof DEPLOY_STEPS>;
  if (!old) {
    s.skip('drainOldSlot', noOld);
    s.skip('stopOldSlot', noOld);
    return;
  }
  if (patched(DRAIN_PATCH)) await s.run('drainOldSlot', t, old);
  else
    await s.own('drainOldSlot', async () => {
      await sleep(t.drainTimeoutMs);
      return { changed: true, note: `${t.drainTimeoutMs / 1000}s for requests in flight on ${old}` };
    });
  await s.run('stopOldSlot', t, old);
}
