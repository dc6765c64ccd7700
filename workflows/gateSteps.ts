// The gates' step rows (docs/approvals.md): a deploy's wait for approval and its wait for the
// cut-over time, each a step of its own — in the status, the live progress and the Web UI — only
// in a run whose input asks for it. Plain data: safe in workflow code and cheap for the CLI.
import type { GatePlan } from '../src/model/gates';
import type { StepDef } from './stepTable';

/** Both are the workflow's own durable waits (no activity): a signal or a timer ends them. */
export const GATE_STEPS = {
  approval: { name: 'awaitApproval', title: 'wait for approval' },
  cutover: { name: 'awaitCutover', title: 'wait for the cut-over time' },
} as const satisfies Record<keyof GatePlan, StepDef>;

export type GateStep = (typeof GATE_STEPS)[keyof GatePlan]['name'];

/**
 * Where the gates go: right after the new slot's health check, so what is approved is a slot
 * that answers, and before the pre-switch hook, so that hook runs right before traffic moves.
 * The approval comes first, then the time: approved while people are there, switched in the quiet hour.
 */
export const DEPLOY_GATES_AFTER = 'checkHealth';
/** A fleet: once every host is prepared, before the first switch order. */
export const FLEET_GATES_AFTER = 'prepareHosts';

/** `steps` with the rows of the gates `plan` asks for (every gate when absent) after the step `after`. */
export function withGates(steps: readonly StepDef[], after: string, plan?: GatePlan): StepDef[] {
  const rows = (Object.keys(GATE_STEPS) as Array<keyof GatePlan>).filter((g) => !plan || plan[g]).map((g) => GATE_STEPS[g]);
  const out = [...steps];
  const anchor = out.findIndex((s) => s.name === after);
  if (anchor < 0) throw new Error(`gates: no step ${after}`);
  out.splice(anchor + 1, 0, ...rows);
  return out;
}
