// The steps of a removal, in order (workflows/remove.ts): forward only, no undo.
import type { StepDef } from './stepTable';

export const REMOVE_STEPS = [
  { name: 'removeAppSite', title: 'Caddy stops serving the app', activity: 'removeAppSite', retry: 'step' },
  { name: 'removeAppJails', title: 'remove the slot and build jails', activity: 'removeAppJails', retry: 'slow' },
  { name: 'removeDatabaseJail', title: 'remove the database jail (its data stays)', activity: 'removeDatabaseJail', retry: 'slow' },
  { name: 'releaseHostClaim', title: "release the app's claim on the host", activity: 'releaseHostClaim', retry: 'step' },
] as const satisfies readonly StepDef[];
