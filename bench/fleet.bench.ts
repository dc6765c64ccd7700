// A fleet against one host, in one run (`npm run bench:fleet`, also run by `npm run bench`): the
// same app deployed to a 4-host fleet and to one host, alternately, each deploy a new commit, on
// simulated hosts with one SQLite dev server and a long-lived worker. Five simulated hosts: four
// for the fleet (`deploy.yml`, `servers:`, boot.limit 1 as docs/configuration.md defaults it) and
// one for the one-host destination (`deploy.one.yml`, `server:`), so neither shares a host's jails
// with the other; both build once, in their build host's jail.
//   - the figure: median 4-host wall time / median 1-host wall time (`alcaide deploy`, target ≤ 1.3);
//   - the release copy: the release's bytes, the copyRelease step's seconds (build host → worker →
//     the three other hosts) against bytes / link rate — the rate of the unthrottled link measured
//     with OpenSSH's `ssh HOST cat RELEASE`, and one more fleet deploy with every fleet host's link
//     throttled to BENCH_LINK (100mbit by default), whose copy moves the bytes twice (down, then up);
//   - each step's median time on both sides, and the load average at each deploy;
//   - where the time goes on this machine (bench/cpu.ts, bench/timeline.ts): the machine's CPU busy
//     time during each deploy and each step (from /proc/stat; the background before each deploy
//     measured on its own), the CPU-bound lower bound of the figure (the fleet's own CPU-seconds on
//     2 cores against one host's wall time), each host's steps side by side (the spread between
//     hosts), and the gaps where no activity runs in the parent or any child.
// BENCH_ROUNDS (default 3) deploys of each. Prints a table and writes bench/results/fleet-DATE.json.
// Run: `npm run bench:fleet` (root: the simulated hosts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { temporal } from '@temporalio/proto';
import type { WorkflowHandle } from '@temporalio/client';
import { sshArgs, sshRun, startSimHosts, type SimHost, type SimHosts } from '../test/simhost/index';
import { runCliAsync, tempProject, type CliResult } from '../test/helpers/cli';
import { PersistentDevServer } from '../test/helpers/devServer';
import { fleetYml } from '../test/helpers/e2eProject';
import { MAKE_APP, MASTER_KEY } from '../test/helpers/faultRig';
import { percentile } from '../test/helpers/load';
import { WorkerProcess } from '../test/helpers/workerProcess';
import { codecKey } from '../src/temporal/codec';
import { DEFAULT_BASE_PATH, releaseArtifact } from '../src/freebsd/layout';
import type { WorkflowStatus } from '../workflows/status';
import { CpuSampler, type CpuWindow } from './cpu';
import { loadAverage, machine, writeResults } from './results';
import { fetchTimes, gaps, spreads, type Gap, type StepSpread, type WorkflowTimes } from './timeline';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const LINK = process.env.BENCH_LINK ?? '100mbit';
const FLEET = 4;
const QUEUE = 'fleet-bench';
const EventType = temporal.api.enums.v1.EventType;
const median = (xs: number[]) => percentile(xs, 50);
const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;
const s1 = (msValue: number) => (msValue / 1000).toFixed(1);

/** A rate such as 100mbit, 512kbit or 1gbit in bytes per second. */
function bytesPerSecond(rate: string): number {
  const m = /^(\d+(?:\.\d+)?)(k|m|g)bit$/i.exec(rate);
  if (!m) throw new Error(`BENCH_LINK=${rate}: expected a rate such as 100mbit`);
  return (Number(m[1]) * { k: 1e3, m: 1e6, g: 1e9 }[m[2]!.toLowerCase() as 'k' | 'm' | 'g']) / 8;
}

class FleetRig {
  sim!: SimHosts;
  temporal!: PersistentDevServer;
  worker?: WorkerProcess;
  readonly project = tempProject('alcaide-fleet-bench-');
  readonly app = path.join(this.project.dir, 'hello');
  private n = 0;

  get fleet(): SimHost[] {
    return this.sim.hosts.slice(0, FLEET);
  }
  get single(): SimHost {
    return this.sim.hosts[FLEET]!;
  }

  async start(): Promise<void> {
    [this.sim, this.temporal] = await Promise.all([
      startSimHosts({ hosts: FLEET + 1 }),
      PersistentDevServer.start(path.join(this.project.dir, 'temporal.db'), [codecKey(MASTER_KEY, 'fleet bench master key')]),
    ]);
    assert.equal(spawnSync('sh', [MAKE_APP, this.app, '1.0.0']).status, 0);
    // one known_hosts for all five hosts; the destination names its one server and its key
    const knownHosts = path.join(this.project.dir, 'known_hosts');
    writeFileSync(path.join(this.app, 'deploy.yml'), fleetYml(this.fleet, knownHosts, { drain_timeout: '2s' }));
    appendFileSync(knownHosts, readFileSync(this.single.knownHostsFile, 'utf8').trim() + '\n');
    writeFileSync(
      path.join(this.app, 'deploy.one.yml'),
      stringify({ servers: null, server: { host: this.single.host }, ssh: { keys: [this.single.privateKey] } }),
    );
    this.git('add', '-A');
    this.git('commit', '-qm', 'config');
    this.worker = await WorkerProcess.start({ cwd: this.app, env: { ...process.env, ...this.env() } });
  }

  async stop(): Promise<void> {
    await this.worker?.kill();
    await this.sim?.down();
    await this.temporal?.close();
    this.project.cleanup();
  }

  env(): NodeJS.ProcessEnv {
    return {
      TEMPORAL_ADDRESS: this.temporal.address,
      ALCAIDE_TASK_QUEUE: QUEUE,
      SSH_AUTH_SOCK: '',
      ALCAIDE_MASTER_KEY: MASTER_KEY.toString('base64'),
      NO_COLOR: '1',
    };
  }

  git(...a: string[]) {
    return spawnSync('git', ['-C', this.app, '-c', 'user.name=t', '-c', 'user.email=t@t', ...a], { encoding: 'utf8' });
  }

  /** A new version of the fixture app committed; its commit. */
  commitVersion(): string {
    const v = `2.${++this.n}.0`;
    const tmp = path.join(this.project.dir, `v-${v}`);
    assert.equal(spawnSync('sh', [MAKE_APP, tmp, v]).status, 0);
    spawnSync('sh', [
      '-c',
      `rm -rf "${this.app}/lib" "${this.app}/priv" "${this.app}/VERSION" && cp -R "${tmp}/lib" "${tmp}/priv" "${tmp}/VERSION" "${this.app}/" && rm -rf "${tmp}"`,
    ]);
    this.git('add', '-A');
    assert.equal(this.git('commit', '-qm', `v${v}`).status, 0);
    return this.git('rev-parse', 'HEAD').stdout.trim();
  }

  cli(args: string[]): Promise<CliResult> {
    return runCliAsync(args, { cwd: this.app, env: this.env(), timeoutMs: 600_000 });
  }
}

const rig = new FleetRig();
const cpu = new CpuSampler();
/** How long the machine is watched before each deploy, for its background load (the hosts' idle BEAMs and Caddies, other processes). */
const QUIET_MS = 2000;
/** Gaps shorter than this are the SDK's own turnaround, not listed one by one. */
const GAP_MIN_MS = 20;

type Kind = 'one' | 'fleet';

interface Phase extends CpuWindow {
  phase: string;
}

interface Deploy {
  kind: Kind;
  version: string;
  wallMs: number;
  loadavg1: number;
  steps: Array<{ name: string; ms: number }>;
  /** the fleet's copyRelease step: its first attempt's start to its last copy's end */
  copyMs?: number;
  /** the machine over the CLI's run, and in the quiet window just before it */
  cpu: CpuWindow;
  backgroundBusyCores: number;
  /** the machine over each step of the run's status (a fleet: the parent's) */
  phases: Phase[];
  /** the CLI before the workflow started and after it closed */
  cliMs: { beforeStart: number; afterClose: number };
  /** the workflow's run, and the gaps in it where no activity runs in the parent or any child */
  runStartedAt: number;
  runMs: number;
  gaps: Gap[];
  /** a fleet: each child's steps, host by host */
  spread?: StepSpread[];
  /** a fleet: the parent's start of each child → the child's first activity */
  childStartMs?: number[];
}

const sleep = (msValue: number) => new Promise((r) => setTimeout(r, msValue));

async function deploy(kind: Kind): Promise<Deploy> {
  const version = rig.commitVersion();
  const quietFrom = Date.now();
  await sleep(QUIET_MS);
  const backgroundBusyCores = cpu.window(quietFrom, Date.now()).busyCores;
  const loadavg1 = os.loadavg()[0]!;
  const t0 = performance.now();
  const from = Date.now();
  const r = await rig.cli(kind === 'one' ? ['-d', 'one', 'deploy'] : ['deploy']);
  const wallMs = performance.now() - t0;
  const to = Date.now();
  if (r.code !== 0) throw new Error(`alcaide deploy (${kind}) failed:\n${r.stdout}\n${r.stderr}`);
  const h = rig.temporal.client.workflow.getHandle(kind === 'one' ? 'alcaide-hello-one' : 'alcaide-hello');
  const status = (await h.result()) as WorkflowStatus;
  assert.equal(status.version, version);
  const steps = status.steps.filter((s) => s.startedAt !== undefined && s.endedAt !== undefined).map((s) => ({ name: s.name, ms: s.endedAt! - s.startedAt! }));

  const parent = await fetchTimes('parent', h);
  const children: WorkflowTimes[] = [];
  for (const c of status.hosts ?? []) children.push(await fetchTimes(c.host, rig.temporal.client.workflow.getHandle(c.workflowId)));
  const all = [parent, ...children];
  const activities = all.flatMap((w) => w.activities);
  const timers = all.flatMap((w) => w.timers);
  const phases: Phase[] = status.steps
    .filter((s) => s.startedAt !== undefined && s.endedAt !== undefined)
    .map((s) => ({ phase: s.name, ...cpu.window(s.startedAt!, s.endedAt!) }));
  if (kind === 'fleet') {
    // the build as one phase, and what prepareHosts does after the last copy
    const at = (name: string) => status.steps.find((s) => s.name === name);
    const [ensure, build, copy, prepare] = [at('ensureBuildJail'), at('buildRelease'), at('copyRelease'), at('prepareHosts')];
    if (ensure?.startedAt && build?.endedAt) phases.push({ phase: 'build (ensureBuildJail → buildRelease)', ...cpu.window(ensure.startedAt, build.endedAt) });
    if (copy?.endedAt && prepare?.endedAt) phases.push({ phase: 'prepareHosts after the copy', ...cpu.window(copy.endedAt, prepare.endedAt) });
  }
  return {
    kind,
    version,
    wallMs,
    loadavg1,
    steps,
    copyMs: kind === 'fleet' ? await copySpan(h) : undefined,
    cpu: cpu.window(from, to),
    backgroundBusyCores,
    phases,
    cliMs: { beforeStart: parent.startedAt - from, afterClose: to - parent.closedAt },
    runStartedAt: parent.startedAt,
    runMs: parent.closedAt - parent.startedAt,
    gaps: gaps(activities, timers, parent.startedAt, parent.closedAt),
    ...(kind === 'fleet' && {
      spread: spreads(children, parent.startedAt),
      childStartMs: children.map((c) => Math.min(...c.activities.map((a) => a.from)) - c.startedAt),
    }),
  };
}

/** From the first copyRelease activity's start to the last one's completion, by the parent's history. */
async function copySpan(h: WorkflowHandle): Promise<number> {
  const events = (await h.fetchHistory()).events ?? [];
  const copies = new Set<number>();
  let from = Infinity;
  let to = -Infinity;
  for (const e of events) {
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED && e.activityTaskScheduledEventAttributes?.activityType?.name === 'copyRelease')
      copies.add(Number(e.eventId));
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED && copies.has(Number(e.activityTaskStartedEventAttributes?.scheduledEventId)))
      from = Math.min(from, ms(e.eventTime));
    if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED && copies.has(Number(e.activityTaskCompletedEventAttributes?.scheduledEventId)))
      to = Math.max(to, ms(e.eventTime));
  }
  assert.ok(copies.size === FLEET - 1 && to > from, `${copies.size} copyRelease activities in the fleet's history`);
  return to - from;
}

const artifactPath = (version: string) => `${DEFAULT_BASE_PATH}/hello_build${releaseArtifact('hello', version)}`;

/** The release's size on the fleet's build host (its first host). */
async function releaseBytes(version: string): Promise<number> {
  const r = await sshRun(rig.fleet[0]!, `wc -c < ${artifactPath(version)}`);
  assert.equal(r.code, 0, r.stderr);
  return Number(r.stdout.trim());
}

/** The unthrottled link's rate: OpenSSH streams the release from the build host to this machine (median of 3, bytes/s). */
function linkRate(version: string, bytes: number): number {
  const rates: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const r = spawnSync('ssh', sshArgs(rig.fleet[0]!, `cat ${artifactPath(version)}`), { maxBuffer: 1 << 30 });
    const s = (performance.now() - t0) / 1000;
    assert.equal(r.status, 0, String(r.stderr));
    assert.equal(r.stdout.length, bytes);
    rates.push(bytes / s);
  }
  return median(rates);
}

/**
 * The deploy's own CPU-seconds: the machine's over the run, less the background at `backgroundCores`
 * (the median of every quiet window of the bench: one window alone catches whatever else the shared
 * machine runs at that moment).
 */
const ownCpuSeconds = (d: Deploy, backgroundCores: number) => Math.max(0, d.cpu.cpuSeconds - (backgroundCores * d.wallMs) / 1000);

/** A run's label without its host: `parent buildRelease`, `host installRelease`. */
const withoutHost = (label: string) => label.replace(/^(\S+) /, (_, who: string) => (who === 'parent' ? 'parent ' : 'host '));
/** A gap's kind: what ended before it and what began after (`parent buildRelease → host installRelease`). */
const gapKind = (g: Gap) => `${withoutHost(g.after)} → ${withoutHost(g.before)}`;

/** Where the time of the deploys of one kind goes: CPU, each phase's CPU, the gaps. */
function timeGoes(deploys: Deploy[], backgroundCores: number) {
  const phaseNames = [...new Set(deploys.flatMap((d) => d.phases.map((p) => p.phase)))];
  const kinds = [...new Set(deploys.flatMap((d) => d.gaps.map(gapKind)))];
  const gapSum = (d: Deploy, f: (g: Gap) => number) => d.gaps.reduce((a, g) => a + f(g), 0);
  return {
    wallMs: Math.round(median(deploys.map((d) => d.wallMs))),
    runMs: Math.round(median(deploys.map((d) => d.runMs))),
    cliMs: { beforeStart: Math.round(median(deploys.map((d) => d.cliMs.beforeStart))), afterClose: Math.round(median(deploys.map((d) => d.cliMs.afterClose))) },
    busyCores: +median(deploys.map((d) => d.cpu.busyCores)).toFixed(2),
    backgroundBusyCores: +median(deploys.map((d) => d.backgroundBusyCores)).toFixed(2),
    cpuSeconds: +median(deploys.map((d) => d.cpu.cpuSeconds)).toFixed(2),
    ownCpuSeconds: +median(deploys.map((d) => ownCpuSeconds(d, backgroundCores))).toFixed(2),
    phases: phaseNames.map((phase) => {
      const ps = deploys.flatMap((d) => d.phases.filter((p) => p.phase === phase));
      return {
        phase,
        wallMs: Math.round(median(ps.map((p) => p.wallMs))),
        busyCores: +median(ps.map((p) => p.busyCores)).toFixed(2),
        cpuSeconds: +median(ps.map((p) => p.cpuSeconds)).toFixed(2),
      };
    }),
    /** no activity in any workflow of the run: in all, and less what a timer (the drain) covered */
    gapsMs: {
      total: Math.round(median(deploys.map((d) => gapSum(d, (g) => g.to - g.from)))),
      withoutTimers: Math.round(median(deploys.map((d) => gapSum(d, (g) => g.to - g.from - g.timerMs)))),
      byKind: kinds
        .map((kind) => ({
          kind,
          count: median(deploys.map((d) => d.gaps.filter((g) => gapKind(g) === kind).length)),
          ms: Math.round(median(deploys.map((d) => gapSum(d, (g) => (gapKind(g) === kind ? g.to - g.from - g.timerMs : 0))))),
        }))
        .filter((k) => k.ms >= GAP_MIN_MS)
        .sort((a, b) => b.ms - a.ms),
    },
  };
}

/** One deploy's timeline, in ms from its workflow's start: gaps of GAP_MIN_MS and more, each host's steps. */
function timeline(d: Deploy) {
  return {
    version: d.version,
    childStartMs: d.childStartMs?.map(Math.round),
    spread: d.spread,
    gaps: d.gaps
      .filter((g) => g.to - g.from >= GAP_MIN_MS)
      .map((g) => ({
        atMs: Math.round(g.from - d.runStartedAt),
        ms: Math.round(g.to - g.from),
        timerMs: Math.round(g.timerMs),
        after: g.after,
        before: g.before,
      })),
  };
}

function stepMedians(deploys: Deploy[]): Array<{ step: string; ms: number }> {
  const names = [...new Set(deploys.flatMap((d) => d.steps.map((s) => s.name)))];
  return names.map((step) => ({ step, ms: Math.round(median(deploys.flatMap((d) => d.steps.filter((s) => s.name === step).map((s) => s.ms)))) }));
}

async function main(): Promise<void> {
  const loadAtStart = loadAverage();
  await rig.start();
  const out: Record<string, unknown> = { machine: machine(), loadavgAtStart: loadAtStart, rounds: ROUNDS, hosts: FLEET, boot: { limit: 1, wait: 0 } };
  try {
    for (const args of [['setup'], ['-d', 'one', 'setup']]) {
      const s = await rig.cli(args);
      if (s.code !== 0) throw new Error(`alcaide ${args.join(' ')} failed:\n${s.stdout}\n${s.stderr}`);
    }
    // the first build of each is cold (a fresh build jail): not timed
    await deploy('one');
    await deploy('fleet');
    const runs: Deploy[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      // alternate which goes first: neither always follows the other
      const order: Kind[] = i % 2 === 0 ? ['one', 'fleet'] : ['fleet', 'one'];
      for (const k of order) runs.push(await deploy(k));
    }
    const one = runs.filter((d) => d.kind === 'one');
    const fleet = runs.filter((d) => d.kind === 'fleet');
    const lastFleet = fleet[fleet.length - 1]!;
    const bytes = await releaseBytes(lastFleet.version);
    const rate = linkRate(lastFleet.version, bytes);

    // one more fleet deploy with every fleet host's link throttled: the copy against a known rate
    for (const h of rig.fleet) await rig.sim.slowLink(h.name, LINK);
    let throttled: Deploy;
    try {
      throttled = await deploy('fleet');
    } finally {
      for (const h of rig.fleet) await rig.sim.slowLink(h.name);
    }
    const throttledBytes = await releaseBytes(throttled.version);
    const limit = bytesPerSecond(LINK);

    const ratio = median(fleet.map((d) => d.wallMs)) / median(one.map((d) => d.wallMs));
    // where the time goes: on this machine all four hosts share its cores, so the fleet's own
    // CPU-seconds over the cores is as fast as its deploy can be here, whatever the orchestration
    const backgroundCores = +median(runs.map((d) => d.backgroundBusyCores)).toFixed(2);
    const where = { cores: cpu.cores, backgroundBusyCores: backgroundCores, one: timeGoes(one, backgroundCores), fleet: timeGoes(fleet, backgroundCores) };
    const oneWallMs = median(one.map((d) => d.wallMs));
    const cpuBound = (where.fleet.ownCpuSeconds * 1000) / where.cores / oneWallMs;
    // the same with the machine's whole busy time (the background competes for the cores too)
    const cpuBoundWithBackground = (where.fleet.cpuSeconds * 1000) / where.cores / oneWallMs;
    // one host's deploy, plus the fleet's extra CPU-seconds on every core: the figure if CPU were the only cost
    const cpuModel = (oneWallMs + ((where.fleet.ownCpuSeconds - where.one.ownCpuSeconds) * 1000) / where.cores) / oneWallMs;
    const copy = {
      releaseBytes: bytes,
      copyReleaseMs: fleet.map((d) => Math.round(d.copyMs!)),
      unthrottled: {
        linkBytesPerSecond: Math.round(rate),
        // down from the build host once, then up to the other hosts side by side, each on its own link
        bytesOverRateMs: Math.round(((2 * bytes) / rate) * 1000),
      },
      throttled: {
        link: LINK,
        releaseBytes: throttledBytes,
        copyReleaseMs: Math.round(throttled.copyMs!),
        bytesOverRateMs: Math.round(((2 * throttledBytes) / limit) * 1000),
      },
    };
    Object.assign(out, {
      wallMs: { one: one.map((d) => Math.round(d.wallMs)), fleet: fleet.map((d) => Math.round(d.wallMs)) },
      fleetOverOne: ratio,
      cpuBoundFleetOverOne: cpuBound,
      cpuBoundFleetOverOneWithBackground: cpuBoundWithBackground,
      cpuModelFleetOverOne: cpuModel,
      whereTimeGoes: where,
      timeline: { one: timeline(one[one.length - 1]!), fleet: timeline(lastFleet) },
      loadavg1AtDeploys: runs.map((d) => ({ kind: d.kind, loadavg1: d.loadavg1 })),
      copy,
      steps: { one: stepMedians(one), fleet: stepMedians(fleet), fleetThrottled: throttled.steps },
      loadavgAtEnd: loadAverage(),
    });

    const mcopy = median(copy.copyReleaseMs);
    const rows: Array<[string, string, string, string]> = [
      [
        `deploy wall time, ${FLEET} hosts / 1 host`,
        `${ratio.toFixed(2)} (median ${s1(median(fleet.map((d) => d.wallMs)))} s / ${s1(median(one.map((d) => d.wallMs)))} s; ${ROUNDS} each)`,
        '≤ 1.3',
        ratio <= 1.3 ? 'met' : 'MISSED',
      ],
      [
        `CPU-bound lower bound of that figure on ${where.cores} cores`,
        `${cpuBound.toFixed(2)} (the fleet's own ${where.fleet.ownCpuSeconds.toFixed(1)} CPU-s / ${where.cores} cores = ${s1((where.fleet.ownCpuSeconds * 1000) / where.cores)} s / ${s1(oneWallMs)} s); with the background ${cpuBoundWithBackground.toFixed(2)}; 1 host + the fleet's extra CPU-s on every core: ${cpuModel.toFixed(2)}`,
        '',
        '',
      ],
      ['release', `${(bytes / 1048576).toFixed(1)} MiB`, '', ''],
      [
        `copyRelease (to ${FLEET - 1} hosts), unthrottled`,
        `${s1(mcopy)} s (median); bytes / rate ×2 = ${s1(copy.unthrottled.bytesOverRateMs)} s at ${(rate / 1048576).toFixed(0)} MiB/s (ssh cat)`,
        '',
        '',
      ],
      [`copyRelease, links throttled to ${LINK}`, `${s1(copy.throttled.copyReleaseMs)} s; bytes / rate ×2 = ${s1(copy.throttled.bytesOverRateMs)} s`, '', ''],
    ];
    console.log(`\n| figure | measured | target | |\n| --- | --- | --- | --- |\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}`);
    const steps = out.steps as { one: Array<{ step: string; ms: number }>; fleet: Array<{ step: string; ms: number }> };
    console.log(`\n1 host, per step (median of ${ROUNDS}):`);
    console.log(steps.one.map((x) => `  ${x.step.padEnd(22)} ${String(x.ms).padStart(6)} ms`).join('\n'));
    console.log(`${FLEET} hosts, per step (median of ${ROUNDS}):`);
    console.log(steps.fleet.map((x) => `  ${x.step.padEnd(22)} ${String(x.ms).padStart(6)} ms`).join('\n'));
    for (const k of ['one', 'fleet'] as const) {
      const w = where[k];
      console.log(
        `\n${k === 'one' ? '1 host' : `${FLEET} hosts`}: CLI ${s1(w.wallMs)} s (before the workflow ${w.cliMs.beforeStart} ms, after it ${w.cliMs.afterClose} ms); ` +
          `${w.busyCores} cores busy of ${where.cores} = ${w.cpuSeconds} CPU-s, ${w.ownCpuSeconds} its own (less the bench's background, ${where.backgroundBusyCores} cores); ` +
          `no activity anywhere ${s1(w.gapsMs.total)} s of the run's ${s1(w.runMs)} s, ${s1(w.gapsMs.withoutTimers)} s without a timer`,
      );
      console.log(
        w.phases
          .map((p) => `  ${p.phase.padEnd(40)} ${String(p.wallMs).padStart(6)} ms  ${p.busyCores.toFixed(2)} cores  ${p.cpuSeconds.toFixed(2)} CPU-s`)
          .join('\n'),
      );
      console.log('  gaps without a timer, by kind (median ms per deploy):');
      console.log(w.gapsMs.byKind.map((g) => `    ${String(g.ms).padStart(5)} ms  ×${g.count}  ${g.kind}`).join('\n'));
    }
    console.log(`\n${FLEET} hosts, each host's steps (the last deploy; ms from the workflow's start, start–end per host):`);
    for (const st of lastFleet.spread ?? [])
      console.log(
        `  ${st.step.padEnd(20)} starts spread ${String(st.startSpreadMs).padStart(5)} ms, ends ${String(st.endSpreadMs).padStart(5)} ms: ${st.hosts.map((x) => `${x.startMs}–${x.endMs}`).join(', ')}`,
      );
    console.log(`  a child's start → its first activity: ${(lastFleet.childStartMs ?? []).map((x) => Math.round(x)).join(', ')} ms`);
    console.log(`load average: ${loadAtStart} at start, ${String(out.loadavgAtEnd)} at end; ${String(out.machine)}`);
  } finally {
    cpu.stop();
    await rig.stop();
  }
  console.log(`written: ${writeResults('fleet', out)}`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
