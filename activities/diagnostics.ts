import os from 'node:os';
import { VERSION } from '../src/version';

export interface WorkerInfo {
  hostname: string;
  pid: number;
  alcaideVersion: string;
  nodeVersion: string;
}

/** `alcaide doctor`'s activity: it reports which worker ran it, proof that a workflow task and an activity task round-tripped. */
export function createDiagnosticsActivities() {
  return {
    async workerInfo(): Promise<WorkerInfo> {
      return { hostname: os.hostname(), pid: process.pid, alcaideVersion: VERSION, nodeVersion: process.version };
    },
  };
}
