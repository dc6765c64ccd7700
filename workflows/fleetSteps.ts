// The steps of a fleet's parent workflows: what the parent itself does; each host's own steps
// are its child workflow's (setupSteps.ts).
import type { StepDef } from './stepTable';

/** Every host is reached and checked, read-only, before any host changes. */
export const PREFLIGHT = { name: 'preflight', title: 'reach and check every host', activity: 'preflightHost', retry: 'step' } as const satisfies StepDef;

export const FLEET_SETUP_STEPS = [PREFLIGHT, { name: 'setupHosts', title: 'set up every host (a child workflow each)' }] as const satisfies readonly StepDef[];
