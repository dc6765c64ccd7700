// `alcaide schedule`: the nightly build jail rebuild as a Temporal Schedule.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { Client, ScheduleDescription, ScheduleHandle } from '@temporalio/client';
import { type AppTarget } from '../../model/target';
import { toAppTarget } from '../../config/target';
import { UserError } from '../../errors';
import type { RunOutcome } from '../../temporal/schedules';
import { webUiBase, workflowUiUrl, type TemporalSettings } from '../../temporal/settings';
import { DEFAULT_CONFIG_FILE } from '../../config/load';
import { buildHostConfigFor, configFor, globals, temporalFor } from '../context';
import { color, mark } from '../output';
import { driving, startedBy } from './deploy';

const WORKER_HINT = "scheduled runs need a long-lived `alcaide worker` on the task queue (the CLI's own worker ends with the command)";

async function withClient<T>(s: TemporalSettings, fn: (client: Client) => Promise<T>): Promise<T> {
  const { connectClient } = await import('../../temporal/connection');
  const client = await connectClient(s);
  try {
    return await fn(client);
  } finally {
    await client.connection.close();
  }
}

interface Nightly {
  target: AppTarget;
  s: TemporalSettings;
  client: Client;
  id: string;
  handle: ScheduleHandle;
  /** its description (an error if the app has no nightly schedule) */
  before: ScheduleDescription;
}

/** Runs `fn` on the app's existing nightly schedule (pause, resume, trigger, delete). */
async function withNightly(cmd: Command, fn: (n: Nightly) => Promise<void>): Promise<void> {
  const config = buildHostConfigFor(cmd, 'the nightly build jail rebuild');
  const target = toAppTarget(config);
  const s = temporalFor(config);
  await withClient(s, async (client) => {
    const { describeNightly, nightlyScheduleId } = await import('../../temporal/schedules');
    const before = await describeNightly(client, target);
    const id = nightlyScheduleId(target);
    await fn({ target, s, client, id, handle: client.schedule.getHandle(id), before });
  });
}

async function warnIfNoWorker(client: Client, s: TemporalSettings, json?: boolean): Promise<boolean> {
  const { hasWorkflowPollers } = await import('../../temporal/connection');
  const polling = await hasWorkflowPollers(client, s).catch(() => true);
  if (!polling && !json) console.log(`${mark.warn()} no worker polls task queue ${s.taskQueue}: ${WORKER_HINT}`);
  return polling;
}

/** "2026-11-24 02:18 Europe/Madrid" for an ISO time. */
function inZone(iso: string, timeZone = 'UTC'): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(iso));
  const p = Object.fromEntries(parts.map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute} ${timeZone}`;
}

function outcomeColor(o: string): string {
  if (o === 'rebuilt') return color.green(o);
  if (o === 'skipped' || o === 'running') return color.yellow(o);
  return color.red(o);
}

function runLine(r: RunOutcome, s: TemporalSettings): string {
  const url = workflowUiUrl(s, r.rebuild?.workflowId ?? r.workflowId, r.rebuild?.runId ?? r.runId);
  return `  ${r.takenAt}  ${outcomeColor(r.outcome.padEnd(9))}${r.note ? ` ${r.note.split('\n')[0]}` : ''}${url ? `\n    ${color.dim(url)}` : ''}`;
}

export function registerSchedule(program: Command): void {
  const schedule = program
    .command('schedule')
    .description('the nightly rebuild of the build jail (a Temporal Schedule run by `alcaide worker`)')
    .addHelpText(
      'after',
      `
The nightly run rebuilds the build jail from the base template with the build packages
upgraded, proves it with a test build of the deployed commit and swaps it in; a failure
keeps the old one. It never runs beside a deploy or rollback of the same app: if one holds
the app's lock, that night is skipped. Scheduled runs need a long-lived \`alcaide worker\`.

Examples:
  $ alcaide schedule nightly --at 03:00 --timezone Europe/Madrid
  $ alcaide schedule describe
  $ alcaide schedule trigger --wait
  $ alcaide schedule pause --note "migrating the server"`,
    );

  schedule
    .command('nightly')
    .description('create or update the nightly rebuild schedule of this app and destination')
    .option('--at <HH:MM>', 'time of day (24 h)', '03:00')
    .option('--timezone <TZ>', "IANA time zone of --at (default: this machine's)")
    .option('--jitter <duration>', 'random delay after --at, so many apps do not start at once', '10m')
    .option('--catchup-window <duration>', 'a run missed while Temporal was down still starts within this window', '1h')
    .option('--json', 'print the schedule as JSON')
    .addHelpText(
      'after',
      `
The schedule starts nightlyRebuildWorkflow with the configuration as it is now: run this
again after changing deploy.yml. Overlap policy: skip (a night whose rebuild still runs is
skipped).

Examples:
  $ alcaide schedule nightly
  $ alcaide schedule nightly --at 04:30 --timezone UTC --jitter 30m
  $ alcaide -d production schedule nightly --at 02:15 --timezone America/New_York`,
    )
    .action(async (opts: { at: string; timezone?: string; jitter: string; catchupWindow: string; json?: boolean }, cmd: Command) => {
      const sched = await import('../../temporal/schedules');
      // bad input fails here, before Temporal is contacted
      const at = sched.parseAt(opts.at);
      const timezone = sched.checkTimezone(opts.timezone ?? sched.localTimezone());
      const jitterMs = sched.parseDurationOption('--jitter', opts.jitter, 12 * 3_600_000);
      const catchupWindowMs = sched.parseDurationOption('--catchup-window', opts.catchupWindow, 7 * 24 * 3_600_000);
      if (catchupWindowMs < 10_000) throw new UserError(`--catchup-window: expected at least 10s, got ${JSON.stringify(opts.catchupWindow)}`, 2);
      const config = buildHostConfigFor(cmd, 'schedule nightly');
      const target = toAppTarget(config);
      const s = temporalFor(config);
      await withClient(s, async (client) => {
        const what = await sched.upsertNightly(client, sched.nightlySchedule(target, s, { ...at, timezone, jitterMs, catchupWindowMs }, startedBy()));
        const view = await sched.nightlyView(client, target);
        if (opts.json) {
          const { hasWorkflowPollers } = await import('../../temporal/connection');
          console.log(JSON.stringify({ ...view, result: what, workerPolling: await hasWorkflowPollers(client, s) }, null, 2));
          return;
        }
        console.log(
          `${mark.ok()} ${what} ${view.scheduleId}: rebuild ${target.app}'s build jail every night at ${view.at} ${view.timezone} (jitter up to ${view.jitter}, overlap: skip, catch-up window ${view.catchupWindow})`,
        );
        if (view.nextRuns[0]) console.log(`  next run: ${inZone(view.nextRuns[0], view.timezone)}`);
        await warnIfNoWorker(client, s);
      });
    });

  schedule
    .command('list')
    .description('every nightly rebuild schedule in the namespace')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  $ alcaide schedule list\n  $ alcaide schedule list --json')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      // every app's schedules: deploy.yml only for its temporal section, if there is one
      const g = globals(cmd);
      const hasConfig = g.config !== undefined || existsSync(path.resolve(DEFAULT_CONFIG_FILE));
      const s = temporalFor(hasConfig ? configFor(cmd) : undefined);
      await withClient(s, async (client) => {
        const rows: Array<{ scheduleId: string; app?: string; destination?: string; paused: boolean; nextRun?: string }> = [];
        for await (const sc of client.schedule.list()) {
          if (!sc.scheduleId.startsWith('alcaide-nightly-')) continue;
          rows.push({
            scheduleId: sc.scheduleId,
            app: sc.memo?.app as string | undefined,
            destination: sc.memo?.destination as string | undefined,
            paused: sc.state.paused,
            nextRun: sc.info?.nextActionTimes?.[0]?.toISOString(),
          });
        }
        rows.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
        if (opts.json) {
          console.log(JSON.stringify(rows, null, 2));
          return;
        }
        if (!rows.length) {
          console.log(color.dim('no nightly rebuilds scheduled (alcaide schedule nightly creates one)'));
          return;
        }
        for (const r of rows) console.log(`${r.scheduleId.padEnd(32)} ${r.paused ? color.yellow('paused') : color.green('active')}  next ${r.nextRun ?? '-'}`);
      });
    });

  schedule
    .command('describe')
    .description('the schedule: when, policies, paused or not, next runs, the last runs and their outcome')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  $ alcaide schedule describe\n  $ alcaide -d staging schedule describe --json')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const config = buildHostConfigFor(cmd, 'schedule describe');
      const target = toAppTarget(config);
      const s = temporalFor(config);
      await withClient(s, async (client) => {
        const { nightlyView } = await import('../../temporal/schedules');
        const v = await nightlyView(client, target);
        if (opts.json) {
          console.log(JSON.stringify(v, null, 2));
          return;
        }
        console.log(`${color.bold(v.scheduleId)} — nightly rebuild of ${target.app}'s build jail`);
        console.log(`  at ${v.at ?? '?'} ${v.timezone ?? 'UTC'} (jitter up to ${v.jitter ?? '0'}), overlap: ${v.overlap}, catch-up window ${v.catchupWindow}`);
        console.log(`  state: ${v.paused ? color.yellow(`paused${v.note ? ` (${v.note})` : ''}`) : color.green('active')}`);
        if (!v.paused && v.nextRuns.length)
          console.log(
            `  next runs: ${v.nextRuns
              .slice(0, 3)
              .map((x) => inZone(x, v.timezone))
              .join(', ')}`,
          );
        console.log(
          `  runs started: ${v.runsTaken}, skipped (previous still running): ${v.skippedOverlap}, missed (catch-up window): ${v.missedCatchupWindow}`,
        );
        console.log(v.recentRuns.length ? 'recent runs (newest first):' : color.dim('no runs yet'));
        for (const r of v.recentRuns) console.log(runLine(r, s));
        await warnIfNoWorker(client, s);
        const base = webUiBase(s);
        const url = base ? `${base}/namespaces/${encodeURIComponent(s.namespace)}/schedules/${encodeURIComponent(v.scheduleId)}` : undefined;
        if (url) console.log(color.dim(url));
      });
    });

  schedule
    .command('pause')
    .description('pause the nightly rebuild (a running one finishes)')
    .option('--note <text>', 'why, shown by describe and in the UI')
    .addHelpText('after', '\nExamples:\n  $ alcaide schedule pause\n  $ alcaide schedule pause --note "server migration until Friday"')
    .action(async (opts: { note?: string }, cmd: Command) => {
      await withNightly(cmd, async ({ handle, id }) => {
        await handle.pause(opts.note ?? `paused by ${startedBy()}`);
        console.log(`${mark.ok()} paused ${id} (alcaide schedule resume starts it again)`);
      });
    });

  schedule
    .command('resume')
    .description('resume a paused nightly rebuild')
    .addHelpText('after', '\nExamples:\n  $ alcaide schedule resume')
    .action(async (_o: unknown, cmd: Command) => {
      await withNightly(cmd, async ({ handle, id, client, s }) => {
        await handle.unpause(`resumed by ${startedBy()}`);
        console.log(`${mark.ok()} resumed ${id}`);
        await warnIfNoWorker(client, s);
      });
    });

  schedule
    .command('trigger')
    .description('run the nightly rebuild now (skipped if one is still running)')
    .option('--wait', 'wait for the run and print its outcome (a worker runs in this command if none polls)')
    .option('--json', 'print the outcome as JSON (with --wait)')
    .addHelpText('after', '\nExamples:\n  $ alcaide schedule trigger\n  $ alcaide schedule trigger --wait')
    .action(async (opts: { wait?: boolean; json?: boolean }, cmd: Command) => {
      await withNightly(cmd, async ({ target, s, client, id, handle: schedule, before }) => {
        const { runOutcome } = await import('../../temporal/schedules');
        const { ScheduleOverlapPolicy } = await import('@temporalio/client');
        // the schedule's own policy: a trigger while a run is going is skipped, like a night would be
        await schedule.trigger(ScheduleOverlapPolicy.SKIP);
        let taken: { workflowId: string; runId: string } | undefined;
        let skipped = false;
        for (let i = 0; i < 100 && !taken && !skipped; i++) {
          const d = await schedule.describe();
          if (d.info.numActionsTaken > before.info.numActionsTaken) {
            const a = d.info.recentActions[d.info.recentActions.length - 1]!.action.workflow;
            taken = { workflowId: a.workflowId, runId: a.firstExecutionRunId };
          } else if (d.info.numActionsSkippedOverlap > before.info.numActionsSkippedOverlap) skipped = true;
          else await new Promise((r) => setTimeout(r, 100));
        }
        if (skipped) {
          if (opts.json) console.log(JSON.stringify({ outcome: 'skipped', note: 'the previous run is still running' }));
          else console.log(`${mark.warn()} skipped: the previous nightly run of ${target.app} is still running (overlap policy: skip)`);
          return;
        }
        if (!taken) throw new UserError(`the schedule ${id} did not start a run within 10s`, 1, 'check the schedule in the Web UI (alcaide schedule describe)');
        const url = workflowUiUrl(s, taken.workflowId, taken.runId);
        if (!opts.wait) {
          if (!opts.json) console.log(`${mark.ok()} started ${taken.workflowId}${url ? `: ${url}` : ''}`);
          else console.log(JSON.stringify({ outcome: 'started', ...taken }));
          await warnIfNoWorker(client, s, opts.json);
          return;
        }
        if (!opts.json) console.log(color.dim(`started ${taken.workflowId}${url ? `: ${url}` : ''}`));
        const { withWorkerIfNone } = await import('../../temporal/embedded');
        const handle = client.workflow.getHandle(taken.workflowId, taken.runId);
        await withWorkerIfNone(
          client,
          s,
          () => handle.result().catch(() => undefined),
          driving(taken.workflowId, `nightly run of ${target.app}`, opts.json ? 'json' : 'plain'),
        );
        const o = await runOutcome(client, taken.workflowId, taken.runId);
        if (opts.json) console.log(JSON.stringify(o, null, 2));
        else
          console.log(
            `${o.outcome === 'rebuilt' ? mark.ok() : o.outcome === 'skipped' ? mark.warn() : mark.fail()} ${o.outcome}${o.note ? `: ${o.note}` : ''}`,
          );
        if (o.outcome === 'failed')
          throw new UserError(
            `the nightly rebuild of ${target.app} failed; the build jail in service is the old one`,
            1,
            'alcaide status shows each step; fix the cause and run alcaide schedule trigger again',
          );
      });
    });

  schedule
    .command('delete')
    .description('delete the nightly rebuild schedule (a running rebuild finishes)')
    .addHelpText('after', '\nExamples:\n  $ alcaide schedule delete\n  $ alcaide -d staging schedule delete')
    .action(async (_o: unknown, cmd: Command) => {
      await withNightly(cmd, async ({ handle, id }) => {
        await handle.delete();
        console.log(`${mark.ok()} deleted ${id}`);
      });
    });
}
