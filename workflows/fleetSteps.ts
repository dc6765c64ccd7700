// The steps of a fleet's workflows: what each parent does itself, and each host's own steps in
// its child workflow (the deploy's rows, with the waits for the rest of the fleet between them).
import { DEPLOY_STEPS, migrationsBeforeStart, type DeployStep } from './deploySteps';
import { ROLLBACK_STEPS } from './rollbackSteps';
import { rowOf, type StepDef } from './stepTable';

const deployRow = <N extends DeployStep>(name: N) => rowOf(DEPLOY_STEPS, name);
const rollbackRow = <N extends (typeof ROLLBACK_STEPS)[number]['name']>(name: N) => rowOf(ROLLBACK_STEPS, name);

/** Every host is reached and checked, read-only, before any host changes. */
export const PREFLIGHT = { name: 'preflight', title: 'reach and check every host', activity: 'preflightHost', retry: 'step' } as const satisfies StepDef;

export const FLEET_SETUP_STEPS = [PREFLIGHT, { name: 'setupHosts', title: 'set up every host (a child workflow each)' }] as const satisfies readonly StepDef[];

export const FLEET_REMOVE_STEPS = [
  PREFLIGHT,
  { name: 'removeHosts', title: 'remove the app from every host (a child workflow each)' },
] as const satisfies readonly StepDef[];

export const FLEET_DEPLOY_STEPS = [
  PREFLIGHT,
  // one build, on the build host
  deployRow('ensureBuildJail'),
  deployRow('uploadSource'),
  deployRow('buildRelease'),
  { name: 'copyRelease', title: 'copy the release to every other host', activity: 'copyRelease', retry: 'slow' },
  // each host in its child workflow (HOST_DEPLOY_STEPS); the parent orders them on
  { name: 'prepareHosts', title: 'prepare every host: slot jail, install, start, health' },
  { name: 'switchHosts', title: 'switch the web hosts in batches, each verified through its Caddy' },
  { name: 'finishHosts', title: 'drain and stop the old slots, record the deploy' },
] as const satisfies readonly StepDef[];

/** A host in no web role has no HTTP to check: its release must stay up, one process, instead. */
const CHECK_RUNNING = {
  name: 'checkRunning',
  title: 'the release stays up (a host without Caddy)',
  activity: 'checkRunning',
  retry: 'step',
} as const satisfies StepDef;

/** The fleet parent's undo: every host back to its previous slot (each child undoes its own steps). */
export const UNDO_HOSTS = 'undoHosts';

export const HOST_DEPLOY_STEPS = [
  deployRow('chooseSlot'),
  deployRow('createSlotJail'),
  // the slot jail is made while the parent builds and copies the release
  { name: 'awaitRelease', title: 'wait until the release is on this host' },
  deployRow('installRelease'),
  deployRow('writeAppEnv'),
  deployRow('startApp'),
  deployRow('runMigrations'),
  deployRow('checkHealth'),
  CHECK_RUNNING,
  { name: 'awaitSwitch', title: 'wait until every host is prepared' },
  deployRow('switchTraffic'),
  deployRow('verifyThroughCaddy'),
  { name: 'awaitFinish', title: 'wait until every host has switched' },
  deployRow('drainOldSlot'),
  deployRow('stopOldSlot'),
  deployRow('recordDeploy'),
  deployRow('pruneReleases'),
] as const satisfies readonly StepDef[];

/** A host's steps in the order they run. */
export const hostDeploySteps = (migrateBeforeStart = false): readonly StepDef[] =>
  migrateBeforeStart ? migrationsBeforeStart(HOST_DEPLOY_STEPS) : HOST_DEPLOY_STEPS;

export const FLEET_ROLLBACK_STEPS = [
  PREFLIGHT,
  { name: 'findPrevious', title: 'find the previous release on every host', activity: 'chooseRollback', retry: 'step' },
  { name: 'prepareHosts', title: "start every host's previous slot and check its health" },
  { name: 'switchHosts', title: 'switch the web hosts back in batches, each verified through its Caddy' },
  { name: 'finishHosts', title: 'drain and stop the rolled-back slots, record the rollback' },
] as const satisfies readonly StepDef[];

export const HOST_ROLLBACK_STEPS = [
  rollbackRow('startSlot'),
  rollbackRow('checkHealth'),
  CHECK_RUNNING,
  { name: 'awaitSwitch', title: 'wait until every host is prepared' },
  rollbackRow('switchTraffic'),
  rollbackRow('verifyThroughCaddy'),
  { name: 'awaitFinish', title: 'wait until every host has switched' },
  rollbackRow('drainOldSlot'),
  rollbackRow('stopOldSlot'),
  rollbackRow('recordDeploy'),
] as const satisfies readonly StepDef[];
