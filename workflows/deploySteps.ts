// The steps of a deploy, in order: shared by the workflow, the CLI and the tests.
import type { StepDef } from './tracker';

export const DEPLOY_STEPS = [
  { name: 'ensureBuildJail', title: 'build jail ready' },
  { name: 'uploadSource', title: 'upload the source' },
  { name: 'chooseSlot', title: 'choose the next slot' },
  // these two run at the same time: the slot jail is made while the release builds
  { name: 'buildRelease', title: 'build the release' },
  { name: 'createSlotJail', title: 'create the slot jail' },
  { name: 'installRelease', title: 'install the release' },
  { name: 'writeAppEnv', title: 'write the app environment' },
  { name: 'startApp', title: 'start the app' },
  { name: 'runMigrations', title: 'run migrations' },
  { name: 'checkHealth', title: 'health check on the slot address' },
  { name: 'switchTraffic', title: 'switch traffic' },
  { name: 'verifyThroughCaddy', title: 'verify through Caddy' },
  { name: 'bake', title: 'bake: health through Caddy' },
  { name: 'drainOldSlot', title: 'drain the old slot' },
  { name: 'stopOldSlot', title: 'stop the old slot (kept for rollback)' },
  { name: 'recordDeploy', title: 'record the deploy' },
] as const satisfies readonly StepDef[];

/** The steps in the order they run: with release.migrate_before_start, migrations before the app starts. */
export function deploySteps(migrateBeforeStart = false): readonly StepDef[] {
  if (!migrateBeforeStart) return DEPLOY_STEPS;
  const steps: StepDef[] = DEPLOY_STEPS.filter((s) => s.name !== 'runMigrations');
  steps.splice(steps.findIndex((s) => s.name === 'startApp'), 0, DEPLOY_STEPS.find((s) => s.name === 'runMigrations')!);
  return steps;
}

export type DeployStep = (typeof DEPLOY_STEPS)[number]['name'];

/** Steps after which traffic has moved: a failure from here on switches back. */
export const AFTER_SWITCH: readonly DeployStep[] = ['verifyThroughCaddy', 'bake', 'drainOldSlot', 'stopOldSlot', 'recordDeploy'];

/** Steps a deploy held for an operator can retry: all before traffic moves. */
export const HOLDABLE: readonly DeployStep[] = DEPLOY_STEPS.map((s) => s.name).slice(0, DEPLOY_STEPS.findIndex((s) => s.name === 'switchTraffic'));
