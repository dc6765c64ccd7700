// Every workflow's step table by the kind its status carries: what the CLI maps activities,
// resume points and docs through. A deploy's and a rollback's include every hook they may run
// (workflows/hookSteps.ts) and gate (workflows/gateSteps.ts); a run's status lists only those its input names.
import { DEPLOY_STEPS } from './deploySteps';
import { DEPLOY_GATES_AFTER, FLEET_GATES_AFTER, withGates } from './gateSteps';
import { DEPLOY_HOOKS, FLEET_DEPLOY_HOOKS, FLEET_ROLLBACK_HOOKS, ROLLBACK_HOOKS, withHooks } from './hookSteps';
import { FLEET_DEPLOY_STEPS, FLEET_REMOVE_STEPS, FLEET_ROLLBACK_STEPS, FLEET_SETUP_STEPS, HOST_DEPLOY_STEPS, HOST_ROLLBACK_STEPS } from './fleetSteps';
import { MAINTENANCE_STEPS } from './maintenanceSteps';
import { PAUSE_STEPS } from './pauseSteps';
import { REBUILD_STEPS } from './rebuildSteps';
import { REMOVE_STEPS } from './removeSteps';
import { ROLLBACK_STEPS } from './rollbackSteps';
import { SETUP_STEPS } from './setupSteps';
import type { WorkflowStatus } from './status';
import type { StepTable } from './stepTable';

export const STEP_TABLES: Record<WorkflowStatus['kind'], { workflowType: string; steps: StepTable }> = {
  setup: { workflowType: 'setupWorkflow', steps: SETUP_STEPS },
  deploy: { workflowType: 'deployWorkflow', steps: withHooks(withGates(DEPLOY_STEPS, DEPLOY_GATES_AFTER), DEPLOY_HOOKS) },
  rollback: { workflowType: 'rollbackWorkflow', steps: withHooks(ROLLBACK_STEPS, ROLLBACK_HOOKS) },
  rebuild: { workflowType: 'rebuildBuildJailWorkflow', steps: REBUILD_STEPS },
  remove: { workflowType: 'removeWorkflow', steps: REMOVE_STEPS },
  'fleet-setup': { workflowType: 'fleetSetupWorkflow', steps: FLEET_SETUP_STEPS },
  'fleet-deploy': { workflowType: 'fleetDeployWorkflow', steps: withHooks(withGates(FLEET_DEPLOY_STEPS, FLEET_GATES_AFTER), FLEET_DEPLOY_HOOKS) },
  'host-deploy': { workflowType: 'hostDeployWorkflow', steps: HOST_DEPLOY_STEPS },
  'fleet-rollback': { workflowType: 'fleetRollbackWorkflow', steps: withHooks(FLEET_ROLLBACK_STEPS, FLEET_ROLLBACK_HOOKS) },
  'host-rollback': { workflowType: 'hostRollbackWorkflow', steps: HOST_ROLLBACK_STEPS },
  'fleet-remove': { workflowType: 'fleetRemoveWorkflow', steps: FLEET_REMOVE_STEPS },
  maintenance: { workflowType: 'maintenanceWorkflow', steps: MAINTENANCE_STEPS },
  pause: { workflowType: 'pauseWorkflow', steps: PAUSE_STEPS },
};
