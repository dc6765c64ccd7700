// The steps of setup, in order: shared by the workflow and `alcaide setup --dry-run`.
import type { StepDef } from './tracker';

export const SETUP_STEPS = [
  { name: 'verifyHost', title: 'verify FreeBSD 14+ and architecture' },
  { name: 'enableJails', title: 'enable the jail subsystem' },
  { name: 'setupJailNetwork', title: 'jail network (cloned loopback)' },
  { name: 'enableLinuxulator', title: 'Linux binary compatibility' },
  { name: 'configurePf', title: 'pf NAT for the jail subnet' },
  { name: 'prepareBaseTemplate', title: 'FreeBSD base template' },
  { name: 'setupCaddy', title: 'Caddy on the host' },
  { name: 'setupPostgres', title: 'PostgreSQL accessory jail' },
  { name: 'setupBuildJail', title: 'build jail with Elixir, Erlang, Node, git' },
] as const satisfies readonly StepDef[];

export type SetupStep = (typeof SETUP_STEPS)[number]['name'];
