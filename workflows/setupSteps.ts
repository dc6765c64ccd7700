// The steps of setup, in order: the workflow, `alcaide setup --dry-run` and the tests read them here.
// Each step's activity has the step's name and converges the host from any state.
import type { StepDef } from './stepTable';

export const SETUP_STEPS = [
  { name: 'verifyHost', title: 'verify FreeBSD 14+ and architecture', activity: 'verifyHost', retry: 'setup' },
  { name: 'enableJails', title: 'enable the jail subsystem', activity: 'enableJails', retry: 'setup' },
  { name: 'setupJailNetwork', title: 'jail network (cloned loopback)', activity: 'setupJailNetwork', retry: 'setup' },
  { name: 'enableLinuxulator', title: 'Linux binary compatibility', activity: 'enableLinuxulator', retry: 'setup' },
  { name: 'configurePf', title: 'pf NAT for the jail subnet', activity: 'configurePf', retry: 'setup' },
  { name: 'prepareBaseTemplate', title: 'FreeBSD base template', activity: 'prepareBaseTemplate', retry: 'setup' },
  { name: 'setupCaddy', title: 'Caddy on the host', activity: 'setupCaddy', retry: 'setup' },
  { name: 'setupPostgres', title: 'PostgreSQL accessory jail', activity: 'setupPostgres', retry: 'setup' },
  { name: 'setupBuildJail', title: 'build jail with Elixir, Erlang, Node, git', activity: 'setupBuildJail', retry: 'setup' },
] as const satisfies readonly StepDef[];

export type SetupStep = (typeof SETUP_STEPS)[number]['name'];
