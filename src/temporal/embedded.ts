import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { connectWorker, deadLocalWorker, hasWorkflowPollers } from './connection';
import type { TemporalSettings } from './settings';

/** How long a task of the workflow may wait for a worker before this process runs one. */
export const STALL_MS = 5_000;
const WATCH_EVERY_MS = 1_000;

// the enums' numbers (the CLI bundle does not load @temporalio/proto's enums for three numbers)
const WORKFLOW_TASK_SCHEDULED = 1;
const ACTIVITY_SCHEDULED = 1;
const ACTIVITY_STARTED = 2;
const ACTIVITY_CANCEL_REQUESTED = 3;

export interface DriveOptions {
  /** the workflow `fn` waits on: when no worker picks up its tasks, this process runs one */
  workflowId?: string;
  /** what it is called in the line printed then ("deploy of hello") */
  what?: string;
  /** prints that line (stderr by default) */
  say?: (line: string) => void;
  /** called when this process runs a worker */
  onEmbedded?: () => void;
}

type Description = Pick<temporal.api.workflowservice.v1.IDescribeWorkflowExecutionResponse, 'pendingWorkflowTask' | 'pendingActivities'>;

const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);

/**
 * Why the workflow waits for a worker that is not there, or undefined. A task waits when it
 * is scheduled (not in a retry's backoff) and not started; `seen` keeps, per task, when this
 * process first saw it waiting (this machine's clock, never compared with the server's), and
 * is updated in place. A step still running on an alcaide worker of this machine whose
 * process is gone (kill -9) waits for nothing but its heartbeat timeout: at once.
 */
export function stallOf(
  d: Description,
  seen: Map<string, number>,
  now: number,
  what: string,
  isDead: (identity?: string | null) => boolean = deadLocalWorker,
): string | undefined {
  const waiting: string[] = [];
  const wt = d.pendingWorkflowTask;
  if (wt && Number(wt.state) === WORKFLOW_TASK_SCHEDULED) waiting.push(`workflow task ${String(wt.attempt)} ${ms(wt.scheduledTime)}`);
  for (const a of d.pendingActivities ?? []) {
    const state = Number(a.state);
    if ((state === ACTIVITY_STARTED || state === ACTIVITY_CANCEL_REQUESTED) && isDead(a.lastWorkerIdentity)) {
      return `the worker running ${a.activityType?.name ?? 'the step'} (${a.lastWorkerIdentity}) is gone`;
    }
    if (state === ACTIVITY_SCHEDULED && !a.nextAttemptScheduleTime) waiting.push(`activity ${a.activityId} ${String(a.attempt)}`);
  }
  for (const k of [...seen.keys()]) if (!waiting.includes(k)) seen.delete(k);
  for (const k of waiting) if (!seen.has(k)) seen.set(k, now);
  const oldest = Math.min(...seen.values());
  return now - oldest >= STALL_MS ? `no worker picked up the ${what} within ${STALL_MS / 1000} s` : undefined;
}

/** Resolves with why the workflow waits for a worker that is not there; undefined once `stop` is aborted. */
async function watchForStall(client: Client, s: TemporalSettings, workflowId: string, what: string, stop: AbortSignal): Promise<string | undefined> {
  const seen = new Map<string, number>();
  while (!stop.aborted) {
    const d = await client.workflowService.describeWorkflowExecution({ namespace: s.namespace, execution: { workflowId } }).catch(() => undefined); // not started yet, or a blip: look again
    if (stop.aborted) return undefined;
    const why = d ? stallOf(d, seen, Date.now(), what) : undefined;
    if (why) return why;
    await sleep(WATCH_EVERY_MS, undefined, { signal: stop }).catch(() => undefined);
  }
  return undefined;
}

/**
 * Runs `fn` with a worker behind it: the long-lived `alcaide worker` if one is polling the
 * task queue, otherwise a worker embedded in this process for as long as `fn` runs. When
 * `fn` drives a workflow (`opts.workflowId`), the CLI never waits on a worker that is not
 * there: a poller the server still lists may have stopped (cleanly, or on another machine)
 * or die on the way, so while `fn` runs the workflow is watched, and a task of it that no
 * worker picks up within STALL_MS (or a step of a worker of this machine that is gone)
 * starts a worker here, with one line saying so.
 */
export async function withWorkerIfNone<T>(client: Client, s: TemporalSettings, fn: () => Promise<T>, opts: DriveOptions | (() => void) = {}): Promise<T> {
  const o = typeof opts === 'function' ? { onEmbedded: opts } : opts;
  // `fn` (a workflow's start) goes out with the look for pollers, not a round trip after it:
  // the start does not need the answer. A look that fails counts as no poller seen.
  const running = fn();
  running.catch(() => undefined); // the caller gets its outcome, maybe only after the look's answer
  const polled = hasWorkflowPollers(client, s).catch(() => false);
  if (!(await polled)) return runEmbedded(client, s, running, o);
  if (!o.workflowId) return running;
  const stop = new AbortController();
  const ended = running.then(
    () => undefined,
    () => undefined,
  );
  const why = await Promise.race([ended, watchForStall(client, s, o.workflowId, o.what ?? 'workflow', stop.signal)]);
  stop.abort();
  if (!why) return running;
  (o.say ?? ((line: string) => console.error(line)))(`${why}: running one in this process`);
  return runEmbedded(client, s, running, o);
}

/** A worker in this process until `running` settles; it first takes over the steps of dead local workers. */
async function runEmbedded<T>(client: Client, s: TemporalSettings, running: Promise<T>, o: DriveOptions): Promise<T> {
  let settled = false;
  void running.then(
    () => (settled = true),
    () => (settled = true), // handled here too: `running` may fail before the worker exists
  );
  // before the worker side loads: a dead attempt's retry then waits in the queue for this worker
  const { takeOver } = await import('./takeover');
  await takeOver(client, s);
  // the worker side (Temporal's worker package, activities, SSH) is loaded only when needed
  const { closeActivityConnections, createWorker, installQuietRuntime } = await import('./worker');
  if (settled) return running; // refused before it needed a worker (another deploy runs)
  installQuietRuntime('ERROR');
  o.onEmbedded?.();
  const connection = await connectWorker(s);
  try {
    const worker = await createWorker(connection, s, 'embedded');
    return await worker.runUntil(running);
  } finally {
    closeActivityConnections();
    await connection.close();
  }
}
