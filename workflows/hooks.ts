// Runs a workflow's hooks (docs/hooks.md), each as its own step: the hooks its input names,
// nothing else. A failed pre-* hook fails the run like any step (its undo steps run); a failed
// post-* hook is reported on its step (warned) and the run goes on.
import { isCancellation, patched, proxyActivities } from '@temporalio/workflow';
import { hookVariables, isPreHook, type HookContext, type HookName, type HookPlan, type HookSpec } from '../src/model/hooks';
import type { AppTarget } from '../src/model/target';
import { HOOK_STEPS, withHooks, type HookPlacement } from './hookSteps';
import { ACTIVITY_OPTIONS, type Saga } from './saga';
import type { Activities, StepDef, StepTable } from './stepTable';

/**
 * Runs that carry hooks run them. A run whose input names hooks but whose history was recorded
 * by a worker without them (an upgrade half-way: a new CLI, an old `alcaide worker`) replays
 * without them.
 */
const HOOKS_PATCH = 'hooks-as-steps';

export class Hooks {
  private readonly specs: Map<HookName, HookSpec>;

  constructor(
    plan: HookPlan | undefined,
    private readonly t: AppTarget,
    private readonly base: Pick<HookContext, 'command' | 'performer' | 'hosts'>,
    private readonly webUi = plan?.webUi,
  ) {
    this.specs = new Map(plan?.hooks.length && patched(HOOKS_PATCH) ? plan.hooks.map((h) => [h.hook, h]) : []);
  }

  /** The run's steps: `steps` with the rows of the hooks it runs, where `at` puts them. */
  order(steps: readonly StepDef[], at: HookPlacement): StepDef[] {
    return withHooks(steps, at, [...this.specs.keys()]);
  }

  /** Runs `hook` if the run has it, as its step; `now`: what is known of the run at this point. */
  async run<T extends StepTable>(saga: Saga<T>, hook: HookName, now: Pick<HookContext, 'version' | 'slot' | 'previousSlot'> = {}): Promise<void> {
    const spec = this.specs.get(hook);
    if (!spec) return;
    const status = saga.tracker.status;
    const vars = hookVariables(hook, {
      ...this.base,
      app: this.t.app,
      destination: this.t.destination,
      webUi: this.webUi,
      ...now,
      ...(!isPreHook(hook) && { runtimeSeconds: Math.round((Date.now() - status.startedAt) / 1000) }),
    });
    // its own id and summary: the Web UI's timeline says which hook each runHook is
    const { runHook } = proxyActivities<Activities>({ ...ACTIVITY_OPTIONS.hook, activityId: `hook-${hook}`, summary: `${hook} hook` });
    const step = HOOK_STEPS[hook].name as never;
    const slot = now.slot === 'blue' || now.slot === 'green' ? now.slot : undefined;
    try {
      await saga.own(step, () => runHook(this.t, { ...spec, vars, ...(slot && { slot }) }));
    } catch (e) {
      if (isPreHook(hook) || isCancellation(e)) throw e;
      saga.tracker.warn(step);
    }
  }
}
