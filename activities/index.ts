// Every activity the worker registers, built by one factory per module from explicit
// dependencies (./deps.ts). Each is one idempotent unit of work: check, then act. Only these
// objects are registered: the modules' helpers stay theirs. The keys are the activity type
// names workflow histories record: never rename one.
import { createAccessoryActivities } from './accessories';
import { createCanaryActivities } from './canary';
import { createDeployActivities } from './deploy';
import type { ActivityDeps } from './deps';
import { createDrainActivities } from './drain';
import { createDiagnosticsActivities } from './diagnostics';
import { createMaintenanceActivities } from './maintenance';
import { createPauseActivities } from './pause';
import { createPreflightActivities } from './preflight';
import { createDistributeActivities } from './distribute';
import { createHookActivities } from './hooks';
import { createRebuildActivities } from './rebuild';
import { createReleaseActivities } from './releases';
import { createRemoveActivities } from './remove';
import { createSetupActivities } from './setup';

export type { ActivityDeps, Clock } from './deps';
export type { WorkerInfo } from './diagnostics';

export function createActivities(deps: ActivityDeps) {
  return {
    ...createDiagnosticsActivities(),
    ...createSetupActivities(deps),
    ...createPreflightActivities(deps),
    ...createDistributeActivities(deps),
    ...createAccessoryActivities(deps),
    ...createDeployActivities(deps),
    ...createDrainActivities(deps),
    ...createCanaryActivities(deps),
    ...createReleaseActivities(deps),
    ...createRebuildActivities(deps),
    ...createRemoveActivities(deps),
    ...createMaintenanceActivities(deps),
    ...createPauseActivities(deps),
    ...createHookActivities(deps),
  };
}

/** What workflows call: the factories' return types, imported as types only. */
export type Activities = ReturnType<typeof createActivities>;
