// What activities depend on, given to their factories (createDeployActivities(deps) …) by the
// worker (src/temporal/worker.ts), which builds them once; tests give their own.
import type { AppTarget } from '../src/model/target';
import type { Remote } from './remote';

export interface Clock {
  /** milliseconds since the epoch */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export interface ActivityLog {
  debug(message: string, attrs?: Record<string, unknown>): void;
}

export interface ActivityDeps {
  /** A session on the target's host for the running activity: its commands heartbeat and end with it. */
  remote(t: AppTarget): Remote;
  /** The decrypted secrets of the target's project and destination, read on the worker only (docs/architecture.md rule 5). */
  secrets(t: AppTarget): Record<string, string>;
  clock: Clock;
  log: ActivityLog;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};
