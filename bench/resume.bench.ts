// Resume after a worker is killed mid-deploy, on the machine as it is and under added CPU load:
// one simulated host, one SQLite dev server, a long-lived `alcaide worker` that is SIGKILLed
// while createSlotJail (beside buildRelease) runs; a new one is started 0.2 s later. Per round:
//   - spawn → takeover: until it says it failed the dead attempts by id ("took over from …");
//   - spawn → polling: the new worker process until it polls (Node, the CLI, the worker side);
//   - spawn → first host command: until the killed step's retry reaches the host;
//   - how each dead attempt ended: failed by id (WorkerLost: taken over) or by its 10 s
//     heartbeat timeout.
// BENCH_BASELINE=/path/to/another/checkout (built) adds its `alcaide worker` as the replacing
// worker, round for round alternating with this tree's, so both meet the same load (the machine
// is shared: its load moves more than any change does). BENCH_LOAD (default 5) busy loops, one
// process each, make the loaded condition; the load average is recorded at each kill.
// BENCH_ROUNDS (default 3) rounds per worker and condition. Prints a table and writes
// bench/results/resume-DATE.json. No assertions: measurements.
// Run: `npm run build && node dist/bench/resume.bench.js` (root: the simulated host).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { percentile } from '../test/helpers/load';
import { CLI, REPO_ROOT } from '../test/helpers/paths';
import { Rig, sleep } from '../test/helpers/faultRig';
import { deployUntilRunning } from './midStep';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const LOAD = Number(process.env.BENCH_LOAD ?? 5);
const EventType = temporal.api.enums.v1.EventType;
const WORKERS: Record<string, string> = {
  'this tree': CLI,
  ...(process.env.BENCH_BASELINE ? { baseline: path.join(process.env.BENCH_BASELINE, 'bin', 'alcaide') } : {}),
};

const rig = new Rig('resume-bench', 'drain_timeout: 1s\n');

/** `n` processes that spin on the CPU until stopped. */
function cpuLoad(n: number): { stop(): Promise<void> } {
  const procs: ChildProcess[] = Array.from({ length: n }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  return {
    async stop() {
      await Promise.all(
        procs.map(async (p) => {
          const exited = once(p, 'exit');
          p.kill('SIGKILL');
          await exited;
        }),
      );
    },
  };
}

interface Round {
  loadavg1: number;
  spawnToTakeoverMs?: number;
  spawnToPollingMs: number;
  spawnToFirstCommandMs: number;
  killToFirstCommandMs: number;
  /** how the attempts running at the kill ended: WorkerLost (taken over) or timeout (heartbeat) */
  deadAttempts: string[];
}

/** A deploy whose worker is killed mid-step and replaced by `cli`'s `alcaide worker`. */
async function round(cli: string): Promise<Round> {
  const { h, logFrom } = await deployUntilRunning(rig, 'createSlotJail');
  const loadavg1 = os.loadavg()[0]!;
  const killedAt = Date.now();
  await rig.killWorker();
  await sleep(200);
  const spawnedAt = Date.now();
  const logFromWorker = rig.workerLog.length;
  let tookOverAt: number | undefined;
  const watch = setInterval(() => {
    if (tookOverAt === undefined && rig.workerLog.slice(logFromWorker).includes('took over from a worker that is gone')) tookOverAt = Date.now();
  }, 10);
  await rig.startWorker(cli);
  const pollingAt = Date.now();
  let first: number | undefined;
  while (first === undefined) {
    first = rig.commandsSince(logFrom).find((c) => c.t > spawnedAt)?.t;
    await sleep(20);
  }
  await h.result();
  clearInterval(watch);
  // the retries' ActivityTaskStarted events carry how the attempt before them ended
  const deadAttempts: string[] = [];
  for (const e of (await h.fetchHistory()).events ?? []) {
    const a = e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED ? e.activityTaskStartedEventAttributes : undefined;
    if (a && (a.attempt ?? 1) > 1) deadAttempts.push(a.lastFailure?.applicationFailureInfo?.type ?? (a.lastFailure?.timeoutFailureInfo ? 'timeout' : 'other'));
  }
  return {
    loadavg1,
    spawnToTakeoverMs: tookOverAt === undefined ? undefined : tookOverAt - spawnedAt,
    spawnToPollingMs: pollingAt - spawnedAt,
    spawnToFirstCommandMs: first - spawnedAt,
    killToFirstCommandMs: first - killedAt,
    deadAttempts,
  };
}

/** ROUNDS rounds per worker, the workers alternating. */
async function rounds(condition: string): Promise<Record<string, Round[]>> {
  const out: Record<string, Round[]> = Object.fromEntries(Object.keys(WORKERS).map((w) => [w, []]));
  for (let i = 0; i < ROUNDS; i++) {
    for (const [name, cli] of Object.entries(WORKERS)) {
      const r = await round(cli);
      console.log(
        `${condition}, ${name} ${i + 1}/${ROUNDS}: load ${r.loadavg1.toFixed(1)}, took over after ${r.spawnToTakeoverMs ?? '-'} ms, polling after ${r.spawnToPollingMs} ms, first host command ${r.spawnToFirstCommandMs} ms after the spawn; dead attempts: ${r.deadAttempts.join(', ')}`,
      );
      out[name]!.push(r);
    }
  }
  return out;
}

function summary(rs: Round[]) {
  const med = (f: (r: Round) => number) => Math.round(percentile(rs.map(f), 50));
  const max = (f: (r: Round) => number) => Math.max(...rs.map(f));
  return {
    loadavg1: rs.map((r) => Number(r.loadavg1.toFixed(2))),
    spawnToTakeoverMs: rs.map((r) => r.spawnToTakeoverMs ?? null),
    spawnToPollingMs: { median: med((r) => r.spawnToPollingMs), max: max((r) => r.spawnToPollingMs) },
    spawnToFirstCommandMs: { median: med((r) => r.spawnToFirstCommandMs), max: max((r) => r.spawnToFirstCommandMs) },
    killToFirstCommandMs: { median: med((r) => r.killToFirstCommandMs), max: max((r) => r.killToFirstCommandMs) },
    deadAttempts: rs.flatMap((r) => r.deadAttempts),
    rounds: rs,
  };
}

const s1 = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function main(): Promise<void> {
  const date = new Date().toISOString().slice(0, 10);
  await rig.start();
  const results: Record<string, Record<string, ReturnType<typeof summary>>> = {};
  try {
    await rig.startWorker();
    const s = await rig.cli(['setup']);
    if (s.code !== 0) throw new Error(s.stdout + s.stderr);
    const d = await rig.cli(['deploy']);
    if (d.code !== 0) throw new Error(d.stdout + d.stderr);
    const conditions: Array<[string, number]> = [
      ['as it is', 0],
      [`+${LOAD} busy processes`, LOAD],
    ];
    for (const [condition, n] of conditions) {
      const load = cpuLoad(n);
      try {
        if (n) await sleep(5_000); // the load average catches up a little
        const byWorker = await rounds(condition);
        results[condition] = Object.fromEntries(Object.entries(byWorker).map(([w, rs]) => [w, summary(rs)]));
      } finally {
        await load.stop();
      }
    }
  } finally {
    await rig.stop();
  }
  console.log(
    '\n| machine | worker | load average at the kills | spawn → takeover | spawn → polling (median) | spawn → first host command (median, max) | dead attempts ended by |\n| --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const [condition, byWorker] of Object.entries(results)) {
    for (const [w, x] of Object.entries(byWorker)) {
      const takeover = x.spawnToTakeoverMs.map((t) => (t === null ? '-' : s1(t))).join(', ');
      console.log(
        `| ${condition} | ${w} | ${x.loadavg1.join(', ')} | ${takeover} | ${s1(x.spawnToPollingMs.median)} | ${s1(x.spawnToFirstCommandMs.median)}, ${s1(x.spawnToFirstCommandMs.max)} | ${[...new Set(x.deadAttempts)].join(', ')} |`,
      );
    }
  }
  const dir = path.join(REPO_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `resume-${date}.json`);
  const machine = `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? '?'}`;
  writeFileSync(file, JSON.stringify({ date, machine, rounds: ROUNDS, loadProcesses: LOAD, baseline: process.env.BENCH_BASELINE, results }, null, 2) + '\n');
  console.log(`written: ${path.relative(REPO_ROOT, file)}`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
