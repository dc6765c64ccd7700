import path from 'node:path';
import { DefaultLogger, Runtime, Worker, type NativeConnection } from '@temporalio/worker';
import * as activities from '../../activities';
import type { TemporalSettings } from './settings';

export const WORKFLOWS_PATH = path.join(__dirname, '../../workflows');

let runtimeInstalled = false;
/** Keeps the SDK's own logging to warnings so CLI output stays readable. */
export function installQuietRuntime(level: 'WARN' | 'ERROR' | 'INFO' = 'WARN'): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger(level) });
  } catch {
    /* a Runtime already exists (tests): keep it */
  }
}

export async function createWorker(connection: NativeConnection, s: TemporalSettings): Promise<Worker> {
  return Worker.create({
    connection,
    namespace: s.namespace,
    taskQueue: s.taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities,
  });
}
