// Benchmarks on one simulated FreeBSD host, one SQLite dev server and a long-lived worker, in one
// run (`npm run bench`): prints a table and writes bench/results/deploy-DATE.json.
//   - deploy wall time: `alcaide deploy` vs bench/handwritten-deploy.sh (plain sh + ssh, the
//     same steps on the same host and app), alternating, each deploying a new commit;
//   - orchestration overhead per activity, from the workflow histories, beside the floor: the
//     same gap in a workflow that only runs activities (bench/floorWorkflow.ts), same server;
//   - cold vs warm build (buildRelease with and without the build jail's deps/ and _build/);
//   - healthy-to-switched (checkHealth completed → Caddy routes to the new slot);
//   - SSH connections opened per deploy (SYNs to the host's port 22, counted in its namespace);
//   - resume latency: a worker killed mid-deploy, a new one started → its first host command.
// BENCH_ROUNDS (default 3) sets how many deploy pairs.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { Client, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { sshRun } from '../test/simhost/index';
import { percentile } from '../test/helpers/load';
import { REPO_ROOT } from '../test/helpers/paths';
import { Rig, sleep } from '../test/helpers/faultRig';
import { deployUntilRunning } from './midStep';
import { writeResults } from './results';
import type { WorkflowStatus } from '../workflows/status';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DRAIN_S = 2;
const EventType = temporal.api.enums.v1.EventType;

const median = (xs: number[]) => percentile(xs, 50);
const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;

const rig = new Rig('bench', `drain_timeout: ${DRAIN_S}s\n`);

function synCounter(): { read(): number } {
  const ns = `/proc/${rig.host.initPid}/ns/net`;
  const ipt = (...a: string[]) => execFileSync('nsenter', [`--net=${ns}`, 'iptables', ...a], { encoding: 'utf8' });
  ipt('-I', 'INPUT', '-p', 'tcp', '--dport', '22', '--syn', '-j', 'ACCEPT');
  return {
    read: () => {
      const line =
        ipt('-L', 'INPUT', '-vxn')
          .split('\n')
          .find((l) => /dpt:22 flags/.test(l)) ?? '';
      return Number(line.trim().split(/\s+/)[0] ?? NaN);
    },
  };
}

interface HistoryFigures {
  activities: number;
  /** per activity: its start minus the previous activity's end (or the timer, or the workflow start) */
  gaps: number[];
  /** per activity: scheduled → started */
  dispatch: number[];
  healthyToSwitched?: number;
  build?: number;
  total: number;
  /** the first and last event's time (ms since the epoch) */
  first: number;
  last: number;
  /** per activity type: [started, completed] (ms since the epoch; several for bake checks) */
  spans: Array<{ name: string; from: number; to: number }>;
}

async function historyFigures(h: WorkflowHandle): Promise<HistoryFigures> {
  const hist = await h.fetchHistory();
  const events = hist.events ?? [];
  const typeOf = new Map<number, string>();
  const scheduledAt = new Map<number, number>();
  const startedAt = new Map<number, number>();
  let prevEnd = ms(events[0]?.eventTime);
  const gaps: number[] = [];
  const dispatch: number[] = [];
  const completedAt: Record<string, number> = {};
  const durations: Record<string, number> = {};
  let activities = 0;
  const spans: HistoryFigures['spans'] = [];
  for (const e of events) {
    const t = ms(e.eventTime);
    const id = Number(e.eventId);
    switch (e.eventType) {
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        typeOf.set(id, e.activityTaskScheduledEventAttributes?.activityType?.name ?? '?');
        scheduledAt.set(id, t);
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const sid = Number(e.activityTaskStartedEventAttributes?.scheduledEventId);
        startedAt.set(sid, t);
        dispatch.push(t - scheduledAt.get(sid)!);
        gaps.push(t - prevEnd);
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: {
        const sid = Number(e.activityTaskCompletedEventAttributes?.scheduledEventId);
        const name = typeOf.get(sid)!;
        completedAt[name] = t;
        durations[name] = t - startedAt.get(sid)!;
        spans.push({ name, from: startedAt.get(sid)!, to: t });
        prevEnd = t;
        activities++;
        break;
      }
      case EventType.EVENT_TYPE_TIMER_FIRED:
        prevEnd = t;
        break;
    }
  }
  const total = ms(events[events.length - 1]?.eventTime) - ms(events[0]?.eventTime);
  return {
    activities,
    gaps,
    dispatch,
    healthyToSwitched: completedAt.switchTraffic !== undefined ? completedAt.switchTraffic - completedAt.checkHealth! : undefined,
    build: durations.buildRelease,
    total,
    first: ms(events[0]?.eventTime),
    last: ms(events[events.length - 1]?.eventTime),
    spans,
  };
}

async function alcaideDeploy(): Promise<{
  wallMs: number;
  h: WorkflowHandle;
  fig: HistoryFigures;
  syns: number;
  commands: number;
  log: Array<{ t: number }>;
  cli: { beforeStart: number; afterEnd: number };
  status: WorkflowStatus;
}> {
  rig.commitVersion();
  const logFrom = rig.logLength();
  const syn = synCounter();
  const before = syn.read();
  const t0 = performance.now();
  const startedAt = Date.now();
  const r = await rig.cli(['deploy']);
  const wallMs = performance.now() - t0;
  const endedAt = Date.now();
  if (r.code !== 0) throw new Error(`alcaide deploy failed:\n${r.stdout}\n${r.stderr}`);
  const syns = syn.read() - before;
  const commands = rig.logLength() - logFrom;
  const h = rig.handle((await rig.handle().describe()).runId);
  const log = rig.commandsSince(logFrom);
  const fig = await historyFigures(h);
  return {
    wallMs,
    h,
    fig,
    syns,
    commands,
    log,
    cli: { beforeStart: fig.first - startedAt, afterEnd: endedAt - fig.last },
    status: (await h.result()) as WorkflowStatus,
  };
}

/** How long a deploy's drain took (its activity; 0 for a first deploy). */
const drainOf = (f: HistoryFigures) => f.spans.filter((x) => x.name === 'drainSlot').reduce((a, x) => a + x.to - x.from, 0);

/** Per step of the alcaide deploys: median time and remote commands (commands started within the activity). */
function stepTable(deploys: Array<{ fig: HistoryFigures; log: Array<{ t: number }> }>): Array<{ step: string; ms: number; commands: number }> {
  const by = new Map<string, { ms: number[]; commands: number[] }>();
  for (const d of deploys) {
    const seen = new Map<string, { ms: number; commands: number }>();
    for (const s of d.fig.spans) {
      const acc = seen.get(s.name) ?? { ms: 0, commands: 0 };
      acc.ms += s.to - s.from;
      acc.commands += d.log.filter((c) => c.t >= s.from && c.t <= s.to).length;
      seen.set(s.name, acc);
    }
    for (const [name, v] of seen) {
      const e = by.get(name) ?? { ms: [], commands: [] };
      e.ms.push(v.ms);
      e.commands.push(v.commands);
      by.set(name, e);
    }
  }
  return [...by].map(([step, v]) => ({ step, ms: Math.round(median(v.ms)), commands: median(v.commands) }));
}

const SCRIPT_STEPS = [
  'upload',
  'build',
  'create the slot jail',
  'install + environment',
  'start',
  'migrations',
  'health on the slot address',
  'switch + wait for Caddy',
  'drain + stop the old slot',
];
const scriptCommands: number[] = [];
/** per script command (one per step): start of the next command (or the end) minus its start */
const scriptStepMs: number[][] = [];

async function scriptDeploy(): Promise<number> {
  const [, commit] = rig.commitVersion();
  const live = (await sshRun(rig.host, 'cat /var/db/alcaide/hello/active')).stdout.trim();
  const logFrom = rig.logLength();
  const slot = live === 'blue' ? 'green' : 'blue';
  const t0 = performance.now();
  const p = spawn('sh', [path.join(REPO_ROOT, 'bench', 'handwritten-deploy.sh'), rig.app, commit, slot, live], {
    env: {
      ...process.env,
      HOST: rig.host.host,
      KEY: rig.host.privateKey,
      KNOWN_HOSTS: rig.host.knownHostsFile,
      CONTROL_DIR: rig.project.dir,
      DRAIN: String(DRAIN_S),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  p.stderr.on('data', (d) => (err += d));
  const [code] = (await once(p, 'exit')) as [number];
  const wall = performance.now() - t0;
  scriptCommands.push(rig.logLength() - logFrom);
  const starts = rig.commandsSince(logFrom).map((c) => c.t);
  const end = Date.now() - (performance.now() - t0 - wall);
  scriptStepMs.push(starts.map((t, i) => (starts[i + 1] ?? end) - t));
  if (code !== 0) throw new Error(`handwritten-deploy.sh failed (${code}): ${err}`);
  const served = await rig.through();
  if (!served.endsWith(`slot=${slot}`)) throw new Error(`after the script Caddy serves ${served}`);
  return wall;
}

async function resumeLatency(waitBeforeRestartMs: number): Promise<number> {
  const { h, logFrom } = await deployUntilRunning(rig, 'createSlotJail');
  await rig.killWorker();
  await sleep(waitBeforeRestartMs);
  const spawned = await rig.startWorker();
  let first: number | undefined;
  while (first === undefined) {
    first = rig.commandsSince(logFrom).find((c) => c.t > spawned)?.t;
    await sleep(20);
  }
  await h.result();
  return first - spawned;
}

/**
 * A dependency to compile: the fixture has none (no hex registry offline), so a cold build would
 * cost what a warm one does. A path dependency of generated modules stands in for a real app's
 * deps (cold: compiled once into _build; warm: kept with it).
 */
function addHeavyDependency(modules = 120): void {
  const dir = path.join(rig.app, 'vendor', 'heavy');
  mkdirSync(path.join(dir, 'lib'), { recursive: true });
  writeFileSync(
    path.join(dir, 'mix.exs'),
    'defmodule Heavy.MixProject do\n  use Mix.Project\n  def project, do: [app: :heavy, version: "0.1.0", elixir: "~> 1.14", deps: []]\n  def application, do: []\nend\n',
  );
  for (let i = 0; i < modules; i++) {
    let f = `defmodule Heavy.M${i} do\n  @moduledoc false\n`;
    for (let j = 0; j < 30; j++) {
      f += `  def f${j}(%{a: a, b: b} = m) when is_integer(a), do: Map.put(m, :c, a * ${j} + b)\n  def f${j}(x) when is_list(x), do: Enum.map(x, &(&1 + ${i}))\n  def f${j}(x), do: {x, "${i}-${j}"}\n`;
    }
    writeFileSync(path.join(dir, 'lib', `m${i}.ex`), `${f}end\n`);
  }
  const mix = path.join(rig.app, 'mix.exs');
  writeFileSync(mix, readFileSync(mix, 'utf8').replace('deps: [],', 'deps: [{:heavy, path: "vendor/heavy"}],'));
  rig.git('add', '-A');
  rig.git('commit', '-qm', 'a dependency to compile');
}

const FLOOR_ACTIVITIES = 30;
/** Activities of the floor workflow last this long, as a deploy's steps do (an instant one costs
 *  more: its workflow task is queued before the worker polls again). */
const FLOOR_ACTIVITY_MS = 100;

/** Gaps per activity of floorWorkflow on the rig's dev server: what Temporal costs here. */
async function temporalFloor(): Promise<number[]> {
  const connection = await NativeConnection.connect({ address: rig.temporal.address });
  const taskQueue = `floor-${process.pid}`;
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowsPath: require.resolve('./floorWorkflow'),
    activities: { pause: (msDelay: number) => sleep(msDelay) },
    stickyQueueScheduleToStartTimeout: '2 seconds',
  });
  const gaps: number[] = [];
  try {
    await worker.runUntil(async () => {
      const client = new Client({ connection: rig.temporal.client.connection });
      for (let i = 0; i < 3; i++) {
        const h = await client.workflow.start('floorWorkflow', { taskQueue, workflowId: `${taskQueue}-${i}`, args: [FLOOR_ACTIVITIES, FLOOR_ACTIVITY_MS] });
        await h.result();
        // the first gap is the workflow's own start
        if (i > 0) gaps.push(...(await historyFigures(h)).gaps.slice(1));
      }
    });
  } finally {
    await connection.close();
  }
  return gaps;
}

async function main(): Promise<void> {
  const load = os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  await rig.start();
  addHeavyDependency();
  const out: Record<string, unknown> = { machine: `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? '?'}`, loadavgAtStart: load };
  try {
    await rig.startWorker();
    const s = await rig.cli(['setup']);
    if (s.code !== 0) throw new Error(s.stdout + s.stderr);

    // cold: the very first build in a fresh build jail
    const first = await alcaideDeploy();
    const cold = [first.fig.build!];
    const alcaide: Awaited<ReturnType<typeof alcaideDeploy>>[] = [];
    const script: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      alcaide.push(await alcaideDeploy());
      script.push(await scriptDeploy());
    }
    // one more cold build: the build jail's deps/ and _build/ removed first
    await sshRun(rig.host, 'rm -rf /usr/local/jails/hello_build/usr/local/alcaide/build/hello');
    const cold2 = await alcaideDeploy();
    cold.push(cold2.fig.build!);

    const floor = await temporalFloor();
    const resumeLate = await resumeLatency(12_000);
    const resumeNow = await resumeLatency(200);

    const all = [first, ...alcaide, cold2];
    const gaps = all.flatMap((d) => d.fig.gaps);
    const warm = alcaide.map((d) => d.fig.build!);
    const fig = {
      deployWallMs: { alcaide: alcaide.map((d) => Math.round(d.wallMs)), script: script.map(Math.round) },
      deployRatio: median(alcaide.map((d) => d.wallMs)) / median(script),
      // the same without either drain: alcaide's ends once Caddy has no request in flight to the
      // old slot (none here), the script sleeps DRAIN_S as a hand-written one would
      drainMs: { alcaide: alcaide.map((d) => Math.round(drainOf(d.fig))), script: DRAIN_S * 1000 },
      deployRatioWithoutDrain: median(alcaide.map((d) => d.wallMs - drainOf(d.fig))) / median(script.map((w) => w - DRAIN_S * 1000)),
      remoteCommandsPerDeploy: { alcaide: alcaide.map((d) => d.commands), script: scriptCommands },
      workflowMs: alcaide.map((d) => Math.round(d.fig.total)),
      overheadPerActivityMs: {
        median: median(gaps),
        p90: percentile(gaps, 90),
        dispatchMedian: median(all.flatMap((d) => d.fig.dispatch)),
        activitiesPerDeploy: alcaide[0]?.fig.activities,
        floor: { median: median(floor), p90: percentile(floor, 90), activities: floor.length, activityMs: FLOOR_ACTIVITY_MS },
      },
      buildMs: { cold: cold.map(Math.round), warm: warm.map(Math.round), warmOverCold: median(warm) / median(cold) },
      healthyToSwitchedMs: all
        .map((d) => d.fig.healthyToSwitched)
        .filter((x): x is number => x !== undefined)
        .map(Math.round),
      sshConnectionsPerDeploy: { longLivedWorker: all.map((d) => d.syns) },
      resumeMs: { restartAfter12s: resumeLate, restartAt200ms: resumeNow },
      alcaideSteps: stepTable(alcaide),
      cliOutsideWorkflowMs: median(alcaide.map((d) => d.wallMs - d.fig.total)),
      cliBeforeStartMs: median(alcaide.map((d) => d.cli.beforeStart)),
      cliAfterEndMs: median(alcaide.map((d) => d.cli.afterEnd)),
      scriptSteps: SCRIPT_STEPS.map((step, i) => ({ step, ms: Math.round(median(scriptStepMs.map((s) => s[i] ?? NaN))) })),
    };
    Object.assign(out, fig, {
      loadavgAtEnd: os
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(' '),
    });

    const h2s = median(fig.healthyToSwitchedMs);
    const rows: Array<[string, string, string, string]> = [
      [
        'deploy wall time, alcaide / hand-written script',
        `${fig.deployRatio.toFixed(2)} (median ${(median(alcaide.map((d) => d.wallMs)) / 1000).toFixed(1)} s / ${(median(script) / 1000).toFixed(1)} s)`,
        '≤ 1.0',
        fig.deployRatio <= 1.0 ? 'met' : 'MISSED',
      ],
      [
        '  the same without either drain (alcaide: until no request is in flight; the script: sleep)',
        `${fig.deployRatioWithoutDrain.toFixed(2)} (alcaide's drain: median ${median(fig.drainMs.alcaide)} ms; the script's: ${fig.drainMs.script} ms)`,
        '',
        '',
      ],
      ['remote commands per deploy (SSH sessions), alcaide / script', `${median(fig.remoteCommandsPerDeploy.alcaide)} / ${median(scriptCommands)}`, '', ''],
      [
        'orchestration overhead per activity (median)',
        `${fig.overheadPerActivityMs.median.toFixed(0)} ms (p90 ${fig.overheadPerActivityMs.p90.toFixed(0)} ms)`,
        '≤ 15 ms',
        fig.overheadPerActivityMs.median <= 15 ? 'met' : 'MISSED',
      ],
      [
        `  the floor: a workflow of ${FLOOR_ACTIVITY_MS} ms activities only, same server`,
        `${fig.overheadPerActivityMs.floor.median.toFixed(0)} ms (p90 ${fig.overheadPerActivityMs.floor.p90.toFixed(0)} ms)`,
        '',
        '',
      ],
      [
        'warm build / cold build',
        `${(fig.buildMs.warmOverCold * 100).toFixed(0)} % (${(median(warm) / 1000).toFixed(1)} s / ${(median(cold) / 1000).toFixed(1)} s)`,
        '≤ 35 %',
        fig.buildMs.warmOverCold <= 0.35 ? 'met' : 'MISSED',
      ],
      ['healthy → switched (median)', `${(h2s / 1000).toFixed(2)} s`, '≤ 0.5 s', h2s <= 500 ? 'met' : 'MISSED'],
      [
        'SSH connections opened per deploy (long-lived worker)',
        fig.sshConnectionsPerDeploy.longLivedWorker.join(', '),
        '1',
        fig.sshConnectionsPerDeploy.longLivedWorker.every((n) => n <= 1) ? 'met' : 'MISSED',
      ],
      ['resume: worker restarted 12 s after kill → first host command', `${(resumeLate / 1000).toFixed(1)} s`, '≤ 5 s', resumeLate <= 5000 ? 'met' : 'MISSED'],
      ['resume: worker restarted 0.2 s after kill → first host command', `${(resumeNow / 1000).toFixed(1)} s`, '≤ 5 s', resumeNow <= 5000 ? 'met' : 'MISSED'],
    ];
    console.log(`\n| figure | measured | target | |\n| --- | --- | --- | --- |\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}`);
    console.log(
      `\nalcaide, per step (median of ${ROUNDS}; CLI outside the workflow ${Math.round(fig.cliOutsideWorkflowMs)} ms: ${Math.round(fig.cliBeforeStartMs)} before its start, ${Math.round(fig.cliAfterEndMs)} after its end):`,
    );
    console.log(fig.alcaideSteps.map((x) => `  ${x.step.padEnd(22)} ${String(x.ms).padStart(6)} ms  ${x.commands} commands`).join('\n'));
    console.log('  (buildRelease and createSlotJail run side by side: each counts the commands sent while it ran)');
    console.log('hand-written script, per step:');
    console.log(fig.scriptSteps.map((x) => `  ${x.step.padEnd(28)} ${String(x.ms).padStart(6)} ms`).join('\n'));
    console.log(`load average: ${load} at start, ${String(out.loadavgAtEnd)} at end; ${String(out.machine)}`);
  } finally {
    await rig.stop();
  }
  console.log(`written: ${writeResults('deploy', out)}`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
