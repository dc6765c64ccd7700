import type { Client } from '@temporalio/client';
import { connectWorker, hasWorkflowPollers } from './connection';
import type { TemporalSettings } from './settings';

/**
 * Runs `fn` with a worker behind it: the long-lived `alcaide worker` if one is polling the
 * task queue, otherwise a worker embedded in this process for as long as `fn` runs.
 */
export async function withWorkerIfNone<T>(
  client: Client,
  s: TemporalSettings,
  fn: () => Promise<T>,
  onEmbedded?: () => void,
): Promise<T> {
  if (await hasWorkflowPollers(client, s)) return fn();
  // the worker side (Temporal's worker package, activities, SSH) is loaded only when needed
  const [{ closeSshPool }, { takeOverInBackground }, { createWorker, installQuietRuntime }] = await Promise.all([
    import('../../activities/remote'),
    import('./takeover'),
    import('./worker'),
  ]);
  installQuietRuntime('ERROR');
  onEmbedded?.();
  const connection = await connectWorker(s);
  try {
    const worker = await createWorker(connection, s, 'embedded');
    const running = worker.runUntil(fn());
    takeOverInBackground(s, () => undefined, client);
    return await running;
  } finally {
    closeSshPool();
    await connection.close();
  }
}
