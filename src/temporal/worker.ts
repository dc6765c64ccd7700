import { existsSync } from 'node:fs';
import path from 'node:path';
import { log } from '@temporalio/activity';
import { DefaultLogger, Runtime, Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type Activities, type ActivityDeps } from '../../activities';
import { systemClock } from '../../activities/deps';
import { activityCancellation, Remote } from '../../activities/remote';
import { SecretsStore } from '../config/secrets';
import { DIST_DIR } from '../distDir';
import { DEFAULT_KNOWN_HOSTS, sshOptionsFor } from '../host/ssh';
import { expandHome } from '../ssh/connection';
import { SshPool } from '../ssh/pool';
import { dataConverterFor } from './codec';
import { workerIdentity, type WorkerKind } from './connection';
import type { TemporalSettings } from './settings';

export const WORKFLOWS_PATH = path.join(DIST_DIR, 'workflows');
/** Written by `npm run build` (scripts/bundle-workflows.js) from the same compiled workflows. */
export const WORKFLOW_BUNDLE = path.join(DIST_DIR, 'workflow-bundle.js');

/** The real activities, built once per process from their dependencies; their SSH pool keeps one connection per host. */
let real: { activities: Activities; pool: SshPool } | undefined;

function realActivities(): Activities {
  if (real) return real.activities;
  const pool = new SshPool({ knownHostsFile: expandHome(DEFAULT_KNOWN_HOSTS) });
  const deps: ActivityDeps = {
    remote: (t) => new Remote(pool.get(t.server, sshOptionsFor(t)), activityCancellation()),
    secrets: (t) => new SecretsStore(t.projectRoot, t.destination).read(),
    clock: systemClock,
    log: { debug: (message, attrs) => log.debug(message, attrs) },
  };
  real = { activities: createActivities(deps), pool };
  return real.activities;
}

/** Closes the real activities' SSH connections (the worker stopped); the next worker builds them again. */
export function closeActivityConnections(): void {
  real?.pool.closeAll();
  real = undefined;
}

function workflowSource() {
  return existsSync(WORKFLOW_BUNDLE) ? { workflowBundle: { codePath: WORKFLOW_BUNDLE } } : { workflowsPath: WORKFLOWS_PATH };
}

let runtimeInstalled = false;
/** Keeps the SDK's own logging to warnings so CLI output stays readable. */
export function installQuietRuntime(level: 'WARN' | 'ERROR' | 'INFO' = 'WARN'): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    // The core's log lines (a poll retried while Temporal restarts) go through the same
    // logger, at the same level: on stderr, coloured only on a terminal — not raw on stdout.
    Runtime.install({ logger: new DefaultLogger(level), telemetryOptions: { logging: { filter: { core: level, other: 'ERROR' }, forward: {} } } });
  } catch {
    /* a Runtime already exists (tests): keep it */
  }
}

/** `activityImpl` replaces the real activities (workflow tests with recording fakes). */
export async function createWorker(
  connection: NativeConnection,
  s: TemporalSettings,
  kind: WorkerKind = 'worker',
  activityImpl: object = realActivities(),
  /** workflow tests: a heartbeat throttle short enough that an abort reaches a fake step at once */
  heartbeatThrottle?: WorkerOptions['maxHeartbeatThrottleInterval'],
): Promise<Worker> {
  return Worker.create({
    connection,
    identity: workerIdentity(kind),
    namespace: s.namespace,
    taskQueue: s.taskQueue,
    ...workflowSource(),
    activities: activityImpl,
    dataConverter: dataConverterFor(s.codecKey),
    // Cancellation (abort, rollback) reaches a running activity with its next heartbeat sent
    // to the server; the default throttle (up to 48 s) would make an abort wait that long.
    maxHeartbeatThrottleInterval: heartbeatThrottle ?? '2 seconds',
    defaultHeartbeatThrottleInterval: heartbeatThrottle ?? '2 seconds',
    // A workflow task waits this long for this worker's cache before any worker takes it: a
    // worker that died (kill -9) then delays the next step 2 s instead of the default 10 s.
    stickyQueueScheduleToStartTimeout: '2 seconds',
  });
}
