// Every workflow's step table by the kind its status carries: what the CLI maps activities,
// resume points and docs through.
import { DEPLOY_STEPS } from './deploySteps';
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
  deploy: { workflowType: 'deployWorkflow', steps: DEPLOY_STEPS },
  rollback: { workflowType: 'rollbackWorkflow', steps: ROLLBACK_STEPS },
  rebuild: { workflowType: 'rebuildBuildJailWorkflow', steps: REBUILD_STEPS },
  remove: { workflowType: 'removeWorkflow', steps: REMOVE_STEPS },
  'fleet-setup': { workflowType: 'fleetSetupWorkflow', steps: FLEET_SETUP_STEPS },
  'fleet-deploy': { workflowType: 'fleetDeployWorkflow', steps: FLEET_DEPLOY_STEPS },
  'host-deploy': { workflowType: 'hostDeployWorkflow', steps: HOST_DEPLOY_STEPS },
  'fleet-rollback': { workflowType: 'fleetRollbackWorkflow', steps: FLEET_ROLLBACK_STEPS },
  'host-rollback': { workflowType: 'hostRollbackWorkflow', steps: HOST_ROLLBACK_STEPS },
  'fleet-remove': { workflowType: 'fleetRemoveWorkflow', steps: FLEET_REMOVE_STEPS },
  maintenance: { workflowType: 'maintenanceWorkflow', steps: MAINTENANCE_STEPS },
  pause: { workflowType: 'pauseWorkflow', steps: PAUSE_STEPS },
};
