// The nightly build jail rebuild as a Temporal Schedule: its id, spec and policies, checked
// input, and what `alcaide schedule describe` shows of its recent runs.
import {
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  WorkflowFailedError,
  type Client,
  type ScheduleDescription,
  type ScheduleOptions,
} from '@temporalio/client';
import { appWorkflowId, type AppTarget } from '../model/target';
import { formatDuration, parseDuration } from '../model/duration';
import { UserError } from '../errors';
import type { NightlyResult } from '../../workflows/nightly';
import { SEARCH_ATTRIBUTES } from '../model/searchAttributes';
import type { TemporalSettings } from './settings';
import { queryStatus } from './statusQuery';

export const NIGHTLY_WORKFLOW = 'nightlyRebuildWorkflow';

/** alcaide-nightly-APP[-DEST]: one schedule per app and destination. */
export const nightlyScheduleId = (t: { app: string; destination?: string }) => appWorkflowId(t).replace(/^alcaide-/, 'alcaide-nightly-');

export interface NightlyOptions {
  hour: number;
  minute: number;
  timezone: string;
  jitterMs: number;
  catchupWindowMs: number;
}

/** "HH:MM" (24 h) → hour and minute; a usage error (exit 2) otherwise. */
export function parseAt(at: string): { hour: number; minute: number } {
  const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(at.trim());
  if (!m) throw new UserError(`--at: expected a time of day as HH:MM (00:00 to 23:59), got ${JSON.stringify(at)}`, 2);
  return { hour: Number(m[1]), minute: Number(m[2]) };
}

/** An IANA time zone name the runtime knows ("Europe/Madrid", "UTC"); a usage error otherwise. */
export function checkTimezone(tz: string): string {
  try {
    // throws RangeError for an unknown zone; the name is kept as given (the server's tz database
    // may not know a newer canonical spelling)
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return tz;
  } catch {
    throw new UserError(`--timezone: expected an IANA time zone such as "UTC" or "Europe/Madrid", got ${JSON.stringify(tz)}`, 2);
  }
}

export function parseDurationOption(name: string, v: string, maxMs: number): number {
  const ms = parseDuration(v);
  if (ms === undefined || ms > maxMs)
    throw new UserError(`${name}: expected a duration such as 10m or 1h (at most ${human(maxMs)}), got ${JSON.stringify(v)}`, 2);
  return ms;
}

/** The operator's zone, or UTC when the runtime has none. */
export const localTimezone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

/** 1h rather than 60m. */
const human = (ms: number) => (ms >= 3_600_000 && ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : formatDuration(ms));

const pad = (n: number) => String(n).padStart(2, '0');
export const formatAt = (o: { hour: number; minute: number }) => `${pad(o.hour)}:${pad(o.minute)}`;

/** Everything the schedule is made of (create and update use the same). */
export function nightlySchedule(t: AppTarget, s: TemporalSettings, o: NightlyOptions, createdBy: string): ScheduleOptions {
  const id = nightlyScheduleId(t);
  const sa = [
    { key: SEARCH_ATTRIBUTES.app, value: t.app },
    { key: SEARCH_ATTRIBUTES.destination, value: t.destination ?? 'default' },
  ];
  return {
    scheduleId: id,
    spec: {
      calendars: [{ hour: o.hour, minute: o.minute, comment: `nightly rebuild of ${t.app}'s build jail at ${formatAt(o)}` }],
      timezone: o.timezone,
      jitter: o.jitterMs,
    },
    action: {
      type: 'startWorkflow',
      workflowType: NIGHTLY_WORKFLOW,
      // the server appends the scheduled time to this id; the rebuild itself runs as a child under the app's lock id
      workflowId: id,
      taskQueue: s.taskQueue,
      args: [{ target: t }],
      memo: { startedBy: `schedule ${id}` },
      typedSearchAttributes: sa,
      workflowRunTimeout: '6 hours',
    },
    policies: {
      // a night whose rebuild still runs (or waits for a worker) is skipped, not queued
      overlap: ScheduleOverlapPolicy.SKIP,
      catchupWindow: o.catchupWindowMs,
      pauseOnFailure: false,
    },
    memo: { app: t.app, destination: t.destination ?? 'default', createdBy },
    typedSearchAttributes: sa,
  };
}

/** Creates the schedule, or updates the one already there (same id). */
export async function upsertNightly(client: Client, opts: ScheduleOptions): Promise<'created' | 'updated'> {
  const handle = client.schedule.getHandle(opts.scheduleId);
  try {
    await handle.describe();
  } catch (e) {
    if (!(e instanceof ScheduleNotFoundError)) throw e;
    await client.schedule.create(opts);
    return 'created';
  }
  await handle.update((prev) => ({ ...prev, spec: opts.spec, action: opts.action, policies: { ...prev.policies, ...opts.policies } }));
  return 'updated';
}

/** The schedule's description, or a clear error when there is none. */
export async function describeNightly(client: Client, t: { app: string; destination?: string }): Promise<ScheduleDescription> {
  try {
    return await client.schedule.getHandle(nightlyScheduleId(t)).describe();
  } catch (e) {
    if (e instanceof ScheduleNotFoundError) {
      throw new UserError(
        `no nightly rebuild is scheduled for ${t.app}${t.destination ? ` (${t.destination})` : ''}`,
        1,
        `create it with: alcaide${t.destination ? ` -d ${t.destination}` : ''} schedule nightly --at 03:00`,
      );
    }
    throw e;
  }
}

/** Deletes the app's nightly schedule; its id when there was one. */
export async function deleteNightly(client: Client, t: { app: string; destination?: string }): Promise<string | undefined> {
  const id = nightlyScheduleId(t);
  try {
    await client.schedule.getHandle(id).delete();
    return id;
  } catch (e) {
    if (e instanceof ScheduleNotFoundError) return undefined;
    throw e;
  }
}

export interface RunOutcome {
  workflowId: string;
  runId: string;
  scheduledAt: string;
  takenAt: string;
  /** running | rebuilt | skipped | failed | cancelled | terminated | timed out */
  outcome: string;
  note?: string;
  /** the rebuild the run started, if any */
  rebuild?: { workflowId: string; runId: string };
}

/** The outcome of one run the schedule started (its result or failure). */
export async function runOutcome(client: Client, workflowId: string, runId: string): Promise<Omit<RunOutcome, 'scheduledAt' | 'takenAt'>> {
  const handle = client.workflow.getHandle(workflowId, runId);
  const d = await handle.describe();
  const base = { workflowId, runId };
  switch (d.status.name) {
    case 'RUNNING':
      return { ...base, outcome: 'running' };
    case 'COMPLETED': {
      const r = (await handle.result()) as NightlyResult;
      return { ...base, outcome: r.outcome, note: r.note, rebuild: r.rebuild };
    }
    case 'FAILED': {
      const err = await handle.result().then(
        () => undefined,
        (e: unknown) => e,
      );
      const cause = err instanceof WorkflowFailedError ? err.cause : undefined;
      const rebuild = (cause as { details?: unknown[] } | undefined)?.details?.[0] as RunOutcome['rebuild'];
      return { ...base, outcome: 'failed', note: cause?.message ?? (err as Error | undefined)?.message, rebuild };
    }
    default:
      return { ...base, outcome: d.status.name.toLowerCase().replace('_', ' ') };
  }
}

/** Where the rebuild a running nightly run started is (its child under the app's lock id), if it runs. */
async function runningRebuild(
  client: Client,
  t: { app: string; destination?: string },
  nightlyId: string,
): Promise<Pick<RunOutcome, 'note' | 'rebuild'> | undefined> {
  const handle = client.workflow.getHandle(appWorkflowId(t));
  const d = await handle.describe().catch(() => undefined);
  if (!d || d.type !== 'rebuildBuildJailWorkflow' || d.status.name !== 'RUNNING' || d.parentExecution?.workflowId !== nightlyId) return undefined;
  const status = await queryStatus(handle, 3000).catch(() => undefined);
  const step = status?.steps.find((s) => s.name === status.currentStep);
  return { note: step ? `rebuilding: ${step.title}` : 'rebuilding', rebuild: { workflowId: d.workflowId, runId: d.runId } };
}

/** Recent runs, newest first, each with its outcome. */
export async function recentRuns(client: Client, d: ScheduleDescription, t: { app: string; destination?: string }): Promise<RunOutcome[]> {
  const out: RunOutcome[] = [];
  for (const a of [...d.info.recentActions].reverse()) {
    const { workflowId, firstExecutionRunId } = a.action.workflow;
    let o: Omit<RunOutcome, 'scheduledAt' | 'takenAt'> = await runOutcome(client, workflowId, firstExecutionRunId).catch((e: Error) => ({
      workflowId,
      runId: firstExecutionRunId,
      outcome: 'unknown',
      note: e.message,
    }));
    if (o.outcome === 'running') o = { ...o, ...(await runningRebuild(client, t, workflowId)) };
    out.push({ ...o, scheduledAt: a.scheduledAt.toISOString(), takenAt: a.takenAt.toISOString() });
  }
  return out;
}

/** What `schedule describe --json` prints. */
export interface NightlyView {
  scheduleId: string;
  app: string;
  destination?: string;
  at?: string;
  timezone?: string;
  jitter?: string;
  overlap: string;
  catchupWindow: string;
  paused: boolean;
  note?: string;
  nextRuns: string[];
  runsTaken: number;
  skippedOverlap: number;
  missedCatchupWindow: number;
  running: Array<{ workflowId: string; runId: string }>;
  recentRuns: RunOutcome[];
}

export async function nightlyView(client: Client, t: { app: string; destination?: string }): Promise<NightlyView> {
  const d = await describeNightly(client, t);
  const cal = d.spec.calendars?.[0];
  const first = <T>(v: unknown): T | undefined => (Array.isArray(v) ? (v[0] as { start?: T } | undefined)?.start : undefined);
  const hour = first<number>(cal?.hour);
  const minute = first<number>(cal?.minute);
  return {
    scheduleId: d.scheduleId,
    app: t.app,
    destination: t.destination,
    at: hour !== undefined && minute !== undefined ? formatAt({ hour, minute }) : undefined,
    timezone: d.spec.timezone,
    jitter: d.spec.jitter !== undefined ? human(d.spec.jitter) : undefined,
    overlap: String(d.policies.overlap).toLowerCase(),
    catchupWindow: human(d.policies.catchupWindow),
    paused: d.state.paused,
    note: d.state.note,
    nextRuns: d.info.nextActionTimes.map((x) => x.toISOString()),
    runsTaken: d.info.numActionsTaken,
    skippedOverlap: d.info.numActionsSkippedOverlap,
    missedCatchupWindow: d.info.numActionsMissedCatchupWindow,
    running: d.info.runningActions.map((a) => ({ workflowId: a.workflow.workflowId, runId: a.workflow.firstExecutionRunId })),
    recentRuns: await recentRuns(client, d, t),
  };
}
