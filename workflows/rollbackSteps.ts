// The steps of a rollback, in order (workflows/rollback.ts).
import { SWITCH_TRAFFIC } from './deploySteps';
import { undo, type StepDef } from './stepTable';

export const ROLLBACK_STEPS = [
  { name: 'chooseRollback', title: 'find the previous release', activity: 'chooseRollback', retry: 'step' },
  { name: 'startSlot', title: 'start the previous slot', activity: 'startSlot', retry: 'step', undo: undo('stopSlot', (_t, slot) => `stop ${slot} again`) },
  { name: 'checkHealth', title: 'health check on the slot address', activity: 'checkHealth', retry: 'step' },
  SWITCH_TRAFFIC,
  { name: 'verifyThroughCaddy', title: 'verify through Caddy', activity: 'verifyThroughCaddy', retry: 'step' },
  { name: 'drainOldSlot', title: 'drain the rolled-back slot', activity: 'drainSlot', retry: 'slow' },
  { name: 'stopOldSlot', title: 'stop the rolled-back slot', activity: 'stopSlot', retry: 'step' },
  { name: 'recordDeploy', title: 'record the rollback', activity: 'recordDeploy', retry: 'step' },
] as const satisfies readonly StepDef[];
