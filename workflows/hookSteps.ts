// The hooks' step rows (docs/hooks.md) and where each workflow runs them. A hook is a step of
// its own — in the status, the live progress and the Web UI — only in a run whose input names
// it: the rows of the others are left out of its status. Plain data: safe in workflow code.
import { HOOK_NAMES, type HookName } from '../src/model/hooks';
import type { StepDef } from './stepTable';

const hookRow = <N extends string>(hook: HookName, name: N) => ({ name, title: `${hook} hook`, activity: 'runHook', retry: 'hook' }) as const satisfies StepDef;

/** Each hook's row; the activity is the same for all (runHook), the step name its own. */
export const HOOK_STEPS = {
  'pre-connect': hookRow('pre-connect', 'preConnectHook'),
  'pre-build': hookRow('pre-build', 'preBuildHook'),
  'pre-deploy': hookRow('pre-deploy', 'preDeployHook'),
  'pre-switch': hookRow('pre-switch', 'preSwitchHook'),
  'post-switch': hookRow('post-switch', 'postSwitchHook'),
  'post-deploy': hookRow('post-deploy', 'postDeployHook'),
  'post-rollback': hookRow('post-rollback', 'postRollbackHook'),
} as const satisfies Record<HookName, StepDef>;

/** Where a workflow runs its hooks: each just before or just after one of its steps (before the first of a list that the run has). */
export type HookPlacement = Partial<Record<HookName, { before: string | readonly string[] } | { after: string }>>;

/**
 * A deploy: pre-connect before any SSH; pre-build before the source goes up; pre-deploy before
 * the slot jail is touched (it is made while the release builds, so before the build too);
 * pre-switch before traffic moves; post-switch once Caddy serves the new slot; post-deploy last.
 */
export const DEPLOY_HOOKS: HookPlacement = {
  'pre-connect': { before: 'ensureBuildJail' },
  'pre-build': { before: 'uploadSource' },
  'pre-deploy': { before: 'buildRelease' },
  // a canary moves traffic first (docs/canary.md)
  'pre-switch': { before: ['canary', 'switchTraffic'] },
  'post-switch': { after: 'verifyThroughCaddy' },
  'post-deploy': { after: 'pruneReleases' },
  // rollback --to (a kept release, through the deploy's steps)
  'post-rollback': { after: 'pruneReleases' },
};

export const ROLLBACK_HOOKS: HookPlacement = {
  'pre-connect': { before: 'chooseRollback' },
  'pre-switch': { before: 'switchTraffic' },
  'post-switch': { after: 'verifyThroughCaddy' },
  'post-rollback': { after: 'recordDeploy' },
};

/** A fleet runs each hook once, in the parent: pre-switch before the first batch, post-switch after the last. */
export const FLEET_DEPLOY_HOOKS: HookPlacement = {
  'pre-connect': { before: 'preflight' },
  // the hosts make their slot jails while the release builds: both hooks before either
  'pre-build': { before: 'ensureBuildJail' },
  'pre-deploy': { before: 'ensureBuildJail' },
  'pre-switch': { before: 'switchHosts' },
  'post-switch': { after: 'switchHosts' },
  'post-deploy': { after: 'finishHosts' },
};

export const FLEET_ROLLBACK_HOOKS: HookPlacement = {
  'pre-connect': { before: 'preflight' },
  'pre-switch': { before: 'switchHosts' },
  'post-switch': { after: 'switchHosts' },
  'post-rollback': { after: 'finishHosts' },
};

/** `steps` with the rows of the hooks in `run` (every placed hook when absent) where `at` puts them. */
export function withHooks(steps: readonly StepDef[], at: HookPlacement, run?: readonly HookName[]): StepDef[] {
  const out = [...steps];
  for (const hook of HOOK_NAMES) {
    const where = at[hook];
    if (!where || (run && !run.includes(hook))) continue;
    const names = 'before' in where ? [where.before].flat() : [where.after];
    const anchor = out.findIndex((s) => s.name === names.find((n) => out.some((o) => o.name === n)));
    if (anchor < 0) throw new Error(`hook ${hook}: no step ${names.join(' or ')}`);
    out.splice('before' in where ? anchor : anchor + 1, 0, HOOK_STEPS[hook]);
  }
  return out;
}
