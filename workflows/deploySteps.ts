// The steps of a deploy, in order: the workflow, resume points, the CLI and the tests read them here.
import { undo, type StepDef } from './stepTable';

/** Traffic to the new slot, undone by putting it back on the old one: a deploy's and a rollback's. */
export const SWITCH_TRAFFIC = {
  name: 'switchTraffic',
  title: 'switch traffic',
  activity: 'switchTraffic',
  retry: 'step',
  undo: undo('restoreTraffic', (_t, prev) => (prev ? `traffic back to ${prev}` : 'close the new slot to traffic')),
} as const satisfies StepDef;

/** `rollback --to`: the kept release is on the host and whole, instead of an upload and a build. */
export const KEPT_RELEASE = {
  name: 'checkKeptRelease',
  title: 'check the kept release',
  activity: 'checkKeptRelease',
  retry: 'step',
} as const satisfies StepDef;

/** The releases beyond `retain` removed on the host, never the live or the kept slot's. */
export const PRUNE_RELEASES = {
  name: 'pruneReleases',
  title: 'remove releases beyond retain',
  activity: 'pruneReleases',
  retry: 'step',
} as const satisfies StepDef;

/**
 * A canary (docs/canary.md): the new slot takes a share of clients at a time, watched, before
 * switchTraffic gives it all; traffic back on the old slot (switchTraffic's undo) on a breach.
 */
export const CANARY = {
  name: 'canary',
  title: 'canary: a share of clients on the new slot',
  activity: 'setCanaryShare',
  retry: 'step',
} as const satisfies StepDef;

export const DEPLOY_STEPS = [
  { name: 'ensureBuildJail', title: 'build jail ready', activity: 'ensureBuildJail', retry: 'step', holds: true },
  // `rollback --to` a kept release only (deploySteps): it is installed as it was built
  KEPT_RELEASE,
  { name: 'uploadSource', title: 'upload the source', activity: 'uploadSource', retry: 'slow', holds: true },
  { name: 'chooseSlot', title: 'choose the next slot', activity: 'chooseSlot', retry: 'step', holds: true },
  // these two run at the same time: the slot jail is made while the release builds
  { name: 'buildRelease', title: 'build the release', activity: 'buildRelease', retry: 'slow', holds: true },
  {
    name: 'createSlotJail',
    title: 'create the slot jail',
    activity: 'createSlotJail',
    retry: 'slow',
    holds: true,
    undo: undo('destroySlot', (_t, slot) => `remove the ${slot} slot`),
  },
  { name: 'installRelease', title: 'install the release', activity: 'installRelease', retry: 'step', holds: true },
  { name: 'writeAppEnv', title: 'write the app environment', activity: 'writeAppEnv', retry: 'step', holds: true },
  { name: 'startApp', title: 'start the app', activity: 'startApp', retry: 'step', holds: true },
  { name: 'runMigrations', title: 'run migrations', activity: 'runMigrations', retry: 'slow', holds: true },
  { name: 'checkHealth', title: 'health check on the slot address', activity: 'checkHealth', retry: 'step', holds: true },
  // traffic moves: from here a failure switches back at once, never holds
  // a canary's deploy only (deploySteps)
  CANARY,
  SWITCH_TRAFFIC,
  { name: 'verifyThroughCaddy', title: 'verify through Caddy', activity: 'verifyThroughCaddy', retry: 'step' },
  // a check every few seconds on durable timers until the bake window ends
  { name: 'bake', title: 'bake: health through Caddy', activity: 'bakeCheck', retry: 'bake' },
  // until Caddy has no request in flight to the old slot, at most drain_timeout (runs started before: a timer)
  { name: 'drainOldSlot', title: 'drain the old slot', activity: 'drainSlot', retry: 'slow' },
  { name: 'stopOldSlot', title: 'stop the old slot (kept for rollback)', activity: 'stopSlot', retry: 'step' },
  { name: 'recordDeploy', title: 'record the deploy', activity: 'recordDeploy', retry: 'step' },
  // after the deploy is recorded: a failure is reported and undoes nothing (workflows/releases.ts)
  PRUNE_RELEASES,
] as const satisfies readonly StepDef[];

/**
 * The steps in the order they run: with release.migrate_before_start, migrations before the app
 * starts; the kept release's check only in a deploy of a kept release (`rollback --to`); the
 * canary only in a canary's deploy.
 */
export function deploySteps(migrateBeforeStart = false, keptRelease = false, canary = false): readonly StepDef[] {
  const steps = DEPLOY_STEPS.filter((s) => (keptRelease || s.name !== KEPT_RELEASE.name) && (canary || s.name !== CANARY.name));
  return migrateBeforeStart ? migrationsBeforeStart(steps) : steps;
}

/** `steps` with runMigrations moved before startApp (an app that reads new tables as it boots). */
export function migrationsBeforeStart(steps: readonly StepDef[]): StepDef[] {
  const out = steps.filter((s) => s.name !== 'runMigrations');
  out.splice(
    out.findIndex((s) => s.name === 'startApp'),
    0,
    steps.find((s) => s.name === 'runMigrations')!,
  );
  return out;
}

export type DeployStep = (typeof DEPLOY_STEPS)[number]['name'];

/** Steps a deploy held for an operator can retry: all before traffic moves. */
export const HOLDABLE: readonly DeployStep[] = DEPLOY_STEPS.filter((s) => 'holds' in s && s.holds).map((s) => s.name);
