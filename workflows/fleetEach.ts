// Runs one child workflow per host, all at once, for the fleet runs whose hosts do not wait on
// one another (setup, removal): a host that fails does not stop the others, and the run's
// failure names each failed host and the ones that finished. Not a workflow (workflows/index.ts
// does not export it).
import { executeChild, ParentClosePolicy, workflowInfo, type Workflow } from '@temporalio/workflow';
import { failure } from '../src/failures';
import { hostWorkflowId, type FleetHost } from '../src/model/fleet';
import type { FleetHostStatus, WorkflowStatus } from './status';
import { rootMessage } from './tracker';

/** Each host's entry in the parent's status, before anything ran. */
export const hostEntries = (hosts: FleetHost[]): FleetHostStatus[] =>
  hosts.map((h) => ({ host: h.host, roles: h.roles, workflowId: hostWorkflowId(workflowInfo().workflowId, h.host), state: 'pending' }));

/** `workflow` on every host (`argsOf` its arguments there); `done` says what finished means ("set up", "removed"). */
export async function onEachHost<W extends Workflow>(
  hosts: FleetHost[],
  entries: FleetHostStatus[],
  workflow: W,
  argsOf: (h: FleetHost) => Parameters<W>,
  done: string,
) {
  await Promise.allSettled(
    hosts.map(async (h, i) => {
      const entry = entries[i]!;
      entry.state = 'running';
      try {
        // W's arguments are checked at the call; executeChild's overloads cannot see through the generic
        const status = (await (executeChild as (w: Workflow, o: object) => Promise<unknown>)(workflow, {
          workflowId: entry.workflowId,
          args: argsOf(h),
          // a stopped parent stops its children too (each finishes its running step)
          parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
          typedSearchAttributes: workflowInfo().typedSearchAttributes,
        })) as WorkflowStatus;
        const changed = status.steps.filter((s) => s.state === 'done').length;
        Object.assign(entry, { state: 'completed', note: changed ? `${changed} step${changed > 1 ? 's' : ''} changed something` : 'nothing needed changing' });
      } catch (e) {
        Object.assign(entry, { state: 'failed', error: rootMessage(e) });
        throw e;
      }
    }),
  );
  const failed = entries.filter((h) => h.state === 'failed');
  if (failed.length) {
    const ok = entries.filter((h) => h.state === 'completed').map((h) => h.host);
    throw failure(
      'StepFailed',
      `${failed.length} of ${entries.length} hosts failed (${failed.map((h) => `${h.host}: ${h.error}`).join('; ')})${ok.length ? `; ${done}: ${ok.join(', ')}` : ''}`,
    );
  }
  return { changed: true, note: entries.map((h) => `${h.host}: ${h.note}`).join('; ') };
}
