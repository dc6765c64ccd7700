// FleetSetupWorkflow: `alcaide setup` for an app on several hosts. Every host is checked first
// (nothing changes anywhere if one is unreachable or unfit), then each is set up by its own
// setup workflow, a child of this one, all at once; a host that fails does not stop the others.
import type { AppTarget } from '../src/model/target';
import { fleetOf, onHost } from '../src/model/fleet';
import { hostEntries, onEachHost } from './fleetEach';
import { preflightHosts } from './fleetPreflight';
import { FLEET_SETUP_STEPS } from './fleetSteps';
import { runSaga } from './saga';
import { setupWorkflow } from './setup';
import type { WorkflowStatus } from './status';

export interface FleetSetupInput {
  target: AppTarget;
  /** the hosts to set up (-H/--roles), by name; all of the fleet's when empty */
  hosts?: string[];
}

export async function fleetSetupWorkflow({ target, hosts: only }: FleetSetupInput): Promise<WorkflowStatus> {
  const chosen = fleetOf(target).hosts.filter((h) => !only?.length || only.includes(h.host));
  const hosts = hostEntries(chosen);
  return runSaga(
    {
      table: FLEET_SETUP_STEPS,
      status: { kind: 'fleet-setup', app: target.app, destination: target.destination, host: chosen.map((h) => h.host).join(', '), hosts },
      forwardOnly: '',
    },
    async (saga) => {
      await saga.own('preflight', () => preflightHosts(saga.act('preflight'), chosen, target, { setUp: false }));
      await saga.own('setupHosts', () => onEachHost(chosen, hosts, setupWorkflow, (h) => [{ target: onHost(target, h) }] as const, 'set up'));
    },
  );
}
