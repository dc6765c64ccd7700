// A run's description, or none: only Temporal's "not found" means there is no run. Anything
// else (a namespace that does not exist, a permission refused, a server that went away) is an
// error to show, never "no deploy yet".
import type { WorkflowExecutionDescription, WorkflowHandle } from '@temporalio/client';

/** By name, not instanceof: the CLI keeps @temporalio/client's code out of its start-up path. */
export const isErrorNamed = (e: unknown, name: 'WorkflowNotFoundError' | 'NamespaceNotFoundError'): boolean => (e as Error | undefined)?.name === name;

export async function describeIfAny(handle: Pick<WorkflowHandle, 'describe'>): Promise<WorkflowExecutionDescription | undefined> {
  try {
    return await handle.describe();
  } catch (e) {
    if (isErrorNamed(e, 'WorkflowNotFoundError')) return undefined;
    throw e;
  }
}
