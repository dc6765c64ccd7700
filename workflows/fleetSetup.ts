// FleetSetupWorkflow: `alcaide setup` for an app on several hosts. Every host is checked first
// (nothing changes anywhere if one is unreachable or unfit), then each is set up by its own
// setup workflow, a child of this one, all at once; a host that fails does not stop the others.
import { ParentClosePolicy, executeChild, workflowInfo } from '@temporalio/workflow';
import type { AppTarget } from '../src/model/target';
import { fleetOf, fleetProblems, hostWorkflowId, onHost, type FleetHost, type HostCheck } from '../src/model/fleet';
import { failure } from '../src/failures';
import { FLEET_SETUP_STEPS } from './fleetSteps';
import { runSaga, type Saga } from './saga';
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
      await saga.own('preflight', () => preflight(saga, chosen, target, { setUp: false }));
      await saga.own('setupHosts', () => setUpEach(chosen, hosts, target));
    },
  );
}

/** Checks every host at once; any problem on any host stops the run before anything changes. */
async function preflight(saga: Saga<typeof FLEET_SETUP_STEPS>, chosen: FleetHost[], t: AppTarget, o: { setUp: boolean }) {
  const check = saga.act('preflight');
  const checks: HostCheck[] = await Promise.all(
    chosen.map((h) => check(onHost(t, h), o).catch((e: unknown) => ({ host: h.host, problems: [`unreachable or refused: ${rootMessage(e)}`] }))),
  );
  const problems = fleetProblems(checks);
  if (problems.length) throw failure('PreconditionFailed', `nothing was changed on any host:\n  ${problems.join('\n  ')}`);
  const c = checks[0]!;
  return { changed: false, note: `${checks.length} host${checks.length > 1 ? 's' : ''}: FreeBSD ${c.major} ${c.arch}` };
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
