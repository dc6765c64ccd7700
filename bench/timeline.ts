// Where a deploy's time goes, read from its workflows' histories (the parent's and, for a fleet,
// each host's child): every activity's run (started → closed) and every timer, on the Temporal
// server's clock (epoch ms). From them: each host's steps side by side (the spread between
// hosts), and the gaps where no activity runs in any of the workflows — orchestration (a
// workflow task, a signal, a child's start) or a deliberate wait (a timer: the drain).
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

const EventType = temporal.api.enums.v1.EventType;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;

export interface Run {
  /** 'parent' or the host of a child */
  who: string;
  /** an activity type, or `timer` */
  what: string;
  from: number;
  to: number;
}

export interface WorkflowTimes {
  who: string;
  startedAt: number;
  closedAt: number;
  activities: Run[];
  timers: Run[];
  /** signals received: name and time */
  signals: Array<{ name: string; at: number }>;
}

/** The activities, timers and signals of one workflow's history. */
export function readHistory(who: string, events: HistoryEvent[]): WorkflowTimes {
  const scheduled = new Map<number, { type: string; at: number }>();
  const started = new Map<number, number>();
  const timerStarts = new Map<number, number>();
  const out: WorkflowTimes = { who, startedAt: NaN, closedAt: NaN, activities: [], timers: [], signals: [] };
  for (const e of events) {
    const at = ms(e.eventTime);
    switch (e.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        out.startedAt = at;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
        out.closedAt = at;
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        scheduled.set(Number(e.eventId), { type: e.activityTaskScheduledEventAttributes?.activityType?.name ?? '?', at });
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
        started.set(Number(e.activityTaskStartedEventAttributes?.scheduledEventId), at);
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
      case EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
      case EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
      case EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED: {
        const a =
          e.activityTaskCompletedEventAttributes ??
          e.activityTaskFailedEventAttributes ??
          e.activityTaskTimedOutEventAttributes ??
          e.activityTaskCanceledEventAttributes;
        const id = Number(a?.scheduledEventId);
        const s = scheduled.get(id);
        if (s) out.activities.push({ who, what: s.type, from: started.get(id) ?? s.at, to: at });
        break;
      }
      case EventType.EVENT_TYPE_TIMER_STARTED:
        timerStarts.set(Number(e.eventId), at);
        break;
      case EventType.EVENT_TYPE_TIMER_FIRED:
      case EventType.EVENT_TYPE_TIMER_CANCELED: {
        const id = Number((e.timerFiredEventAttributes ?? e.timerCanceledEventAttributes)?.startedEventId);
        const from = timerStarts.get(id);
        if (from !== undefined) out.timers.push({ who, what: 'timer', from, to: at });
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        out.signals.push({ name: e.workflowExecutionSignaledEventAttributes?.signalName ?? '?', at });
        break;
    }
  }
  return out;
}

export async function fetchTimes(who: string, h: WorkflowHandle): Promise<WorkflowTimes> {
  return readHistory(who, (await h.fetchHistory()).events ?? []);
}

export interface Gap {
  from: number;
  to: number;
  /** the run that ended last before the gap, and the one that began at its end */
  after: string;
  before: string;
  /** the part of the gap a timer covered (a deliberate wait, not orchestration) */
  timerMs: number;
}

const label = (r: Run | undefined) => (r ? `${r.who} ${r.what}` : '-');

/** The gaps in [from, to] where no activity of `runs` runs, each with what a timer covered of it. */
export function gaps(runs: Run[], timers: Run[], from: number, to: number): Gap[] {
  const sorted = [...runs].sort((a, b) => a.from - b.from);
  const out: Gap[] = [];
  let cursor = from;
  let last: Run | undefined;
  for (const r of sorted) {
    if (r.from > cursor) out.push({ from: cursor, to: r.from, after: label(last), before: label(r), timerMs: 0 });
    if (r.to > cursor) {
      cursor = r.to;
      last = r;
    }
  }
  if (to > cursor) out.push({ from: cursor, to, after: label(last), before: 'the workflow closes', timerMs: 0 });
  for (const g of out) g.timerMs = covered(timers, g.from, g.to);
  return out;
}

/** How much of [from, to] the union of `runs` covers. */
export function covered(runs: Run[], from: number, to: number): number {
  const parts = runs
    .map((r) => [Math.max(from, r.from), Math.min(to, r.to)] as const)
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let sum = 0;
  let end = from;
  for (const [a, b] of parts) {
    if (b <= end) continue;
    sum += b - Math.max(a, end);
    end = b;
  }
  return sum;
}

export interface StepSpread {
  step: string;
  /** each host's first start and last end of the step, ms from the parent's start */
  hosts: Array<{ host: string; startMs: number; endMs: number }>;
  /** latest start − earliest start, latest end − earliest end */
  startSpreadMs: number;
  endSpreadMs: number;
}

/** Each activity type the children ran: when it began and ended on each host, relative to `t0`. */
export function spreads(children: WorkflowTimes[], t0: number): StepSpread[] {
  const steps = [...new Set(children.flatMap((c) => c.activities.map((a) => a.what)))];
  return steps.map((step) => {
    const hosts = children.flatMap((c) => {
      const runs = c.activities.filter((a) => a.what === step);
      if (!runs.length) return [];
      return [{ host: c.who, startMs: Math.round(Math.min(...runs.map((r) => r.from)) - t0), endMs: Math.round(Math.max(...runs.map((r) => r.to)) - t0) }];
    });
    const starts = hosts.map((h) => h.startMs);
    const ends = hosts.map((h) => h.endMs);
    return { step, hosts, startSpreadMs: Math.max(...starts) - Math.min(...starts), endSpreadMs: Math.max(...ends) - Math.min(...ends) };
  });
}
