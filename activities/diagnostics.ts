import os from 'node:os';
import { VERSION } from '../src/version';

export interface WorkerInfo {
  hostname: string;
  pid: number;
  alcaideVersion: string;
  nodeVersion: string;
}

/** Reports which worker ran it: proves a workflow task and an activity task round-tripped. */
export async function workerInfo(): Promise<WorkerInfo> {
  return { hostname: os.hostname(), pid: process.pid, alcaideVersion: VERSION, nodeVersion: process.version };
}
