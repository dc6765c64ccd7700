// The step of `alcaide maintenance on|off` (workflows/maintenance.ts): forward only, no undo.
import type { StepDef } from './stepTable';

export const MAINTENANCE_STEPS = [
  { name: 'setMaintenance', title: 'the maintenance page on every web host', activity: 'setMaintenance', retry: 'step' },
] as const satisfies readonly StepDef[];
