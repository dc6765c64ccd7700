// FleetRemoveWorkflow: `alcaide remove` of an app on several hosts, under the app's lock. Every
// host is reached first (nothing is removed anywhere if one cannot be); then each host's
// removal runs in its own child (removeWorkflow), all at once. Forward only, as on one host:
// running it again finishes a removal that stopped.
import type { AppTarget } from '../src/model/target';
import { fleetOf, onHost } from '../src/model/fleet';
import { hostEntries, onEachHost } from './fleetEach';
import { preflightHosts } from './fleetPreflight';
import { FLEET_REMOVE_STEPS } from './fleetSteps';
import { removeWorkflow } from './remove';
import { runSaga } from './saga';
import { abortSignal } from './signals';
import type { WorkflowStatus } from './status';

export interface FleetRemoveInput {
  target: AppTarget;
  startedBy: string;
}

export async function fleetRemoveWorkflow({ target, startedBy }: FleetRemoveInput): Promise<WorkflowStatus> {
  const all = fleetOf(target).hosts;
  const hosts = hostEntries(all);
  return runSaga(
    {
      table: FLEET_REMOVE_STEPS,
      status: { kind: 'fleet-remove', app: target.app, destination: target.destination, host: all.map((h) => h.host).join(', '), hosts },
      what: () => `removal of ${target.app} (started by ${startedBy})`,
      stops: [{ signal: abortSignal, verb: 'aborted' }],
      forwardOnly: 'What was removed stays removed; `alcaide remove` again finishes it.',
    },
    async (saga) => {
      await saga.own('preflight', () => preflightHosts(saga.act('preflight'), all, target, { setUp: false }));
      await saga.own('removeHosts', () => onEachHost(all, hosts, removeWorkflow, (h) => [{ target: onHost(target, h), startedBy }] as const, 'removed'));
    },
  );
}
