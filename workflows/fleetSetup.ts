// FleetSetupWorkflow: `alcaide setup` for an app on several hosts. Every host is checked first
// (nothing changes anywhere if one is unreachable or unfit), then each is set up by its own
// setup workflow, a child of this one, all at once; a host that fails does not stop the others.
import { ParentClosePolicy, executeChild, workflowInfo } from '@temporalio/workflow';
import type { AppTarget } from '../src/model/target';
import { fleetOf, hostWorkflowId, onHost, type FleetHost } from '../src/model/fleet';
import { preflightHosts } from './fleetPreflight';
import { failure } from '../src/failures';
import { FLEET_SETUP_STEPS } from './fleetSteps';
import { runSaga } from './saga';
import { setupWorkflow } from './setup';
import type { FleetHostStatus, WorkflowStatus } from './status';
import { rootMessage } from './tracker';

export interface FleetSetupInput {
  target: AppTarget;
  /** the hosts to set up (-H/--roles), by name; all of the fleet's when empty */
  hosts?: string[];
}

export async function fleetSetupWorkflow({ target, hosts: only }: FleetSetupInput): Promise<WorkflowStatus> {
  const chosen = fleetOf(target).hosts.filter((h) => !only?.length || only.includes(h.host));
  const hosts: FleetHostStatus[] = chosen.map((h) => ({
    host: h.host,
    roles: h.roles,
    workflowId: hostWorkflowId(workflowInfo().workflowId, h.host),
    state: 'pending',
  }));
  return runSaga(
    {
      table: FLEET_SETUP_STEPS,
      status: { kind: 'fleet-setup', app: target.app, destination: target.destination, host: chosen.map((h) => h.host).join(', '), hosts },
      forwardOnly: '',
    },
    async (saga) => {
      await saga.own('preflight', () => preflightHosts(saga.act('preflight'), chosen, target, { setUp: false }));
      await saga.own('setupHosts', () => setUpEach(chosen, hosts, target));
    },
  );
}

async function setUpEach(chosen: FleetHost[], hosts: FleetHostStatus[], t: AppTarget) {
  await Promise.allSettled(
    chosen.map(async (h, i) => {
      const entry = hosts[i]!;
      entry.state = 'running';
      try {
        const done = await executeChild(setupWorkflow, {
          workflowId: entry.workflowId,
          args: [{ target: onHost(t, h) }],
          // a stopped parent stops its children too (each finishes its running step)
          parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
          typedSearchAttributes: workflowInfo().typedSearchAttributes,
        });
        const changed = done.steps.filter((s) => s.state === 'done').length;
        Object.assign(entry, { state: 'completed', note: changed ? `${changed} step${changed > 1 ? 's' : ''} changed something` : 'nothing needed changing' });
      } catch (e) {
        Object.assign(entry, { state: 'failed', error: rootMessage(e) });
        throw e;
      }
    }),
  );
  const failed = hosts.filter((h) => h.state === 'failed');
  if (failed.length) {
    const ok = hosts.filter((h) => h.state === 'completed').map((h) => h.host);
    throw failure(
      'StepFailed',
      `${failed.length} of ${hosts.length} hosts failed (${failed.map((h) => `${h.host}: ${h.error}`).join('; ')})${ok.length ? `; set up: ${ok.join(', ')}` : ''}`,
    );
  }
  return { changed: true, note: hosts.map((h) => `${h.host}: ${h.note}`).join('; ') };
}
