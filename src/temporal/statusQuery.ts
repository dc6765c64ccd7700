// The status query, bounded. A query is answered by a worker; when none polls (a killed
// worker, a paused deploy) the server gives up only after 30 s. Whoever can do without the
// answer asks with a short deadline instead.
import type { WorkflowHandle } from '@temporalio/client';
import type { WorkflowStatus } from '../../workflows/status';

export function queryStatus(handle: WorkflowHandle, ms = 5000): Promise<WorkflowStatus> {
  return handle.client.connection.withDeadline(Date.now() + ms, () => handle.query<WorkflowStatus>('status'));
}
