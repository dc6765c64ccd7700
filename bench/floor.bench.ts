// What the dev server's SQLite settings cost per workflow step (`node dist/bench/floor.bench.js`):
// the floor workflow (thirty 100 ms activities in a row, bench/floorWorkflow.ts) on a fresh
// file-backed dev server per setting, the settings alternating over BENCH_ROUNDS (default 3)
// cycles; per setting the median gap from one activity's completion to the next one's start.
// Prints a table and writes bench/results/floor-DATE.json.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { SQLITE_PRAGMAS } from '../src/temporal/devServer';
import { installQuietRuntime } from '../src/temporal/worker';
import { PersistentDevServer } from '../test/helpers/devServer';
import { TEST_CODEC_KEY } from '../test/helpers/temporal';
import { percentile } from '../test/helpers/load';
import { loadAverage, machine, writeResults } from './results';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ACTIVITIES = 30;
const ACTIVITY_MS = 100;
const EventType = temporal.api.enums.v1.EventType;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;

const SETTINGS: Record<string, string[]> = {
  "SQLite's default journal (before)": [],
  [`${SQLITE_PRAGMAS.join(', ')} (temporal-dev.sh)`]: SQLITE_PRAGMAS.flatMap((p) => ['--sqlite-pragma', p]),
  'journal_mode=wal, synchronous=normal (not durable across a power loss)': ['--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal'],
};

/** Gaps per activity of two floor workflows on a fresh dev server started with `flags`. */
async function gapsWith(flags: string[]): Promise<number[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'alcaide-floor-'));
  const server = await PersistentDevServer.start(path.join(dir, 'temporal.db'), [TEST_CODEC_KEY], flags);
  try {
    const connection = await Connection.connect({ address: server.address });
    const native = await NativeConnection.connect({ address: server.address });
    const taskQueue = 'floor';
    const worker = await Worker.create({
      connection: native,
      taskQueue,
      workflowsPath: require.resolve('./floorWorkflow'),
      activities: { pause: (d: number) => sleep(d) },
      stickyQueueScheduleToStartTimeout: '2 seconds',
    });
    const gaps: number[] = [];
    await worker.runUntil(async () => {
      const client = new Client({ connection });
      for (let i = 0; i < 3; i++) {
        const h = await client.workflow.start('floorWorkflow', { taskQueue, workflowId: `floor-${i}`, args: [ACTIVITIES, ACTIVITY_MS] });
        await h.result();
        if (i === 0) continue; // the server's first workflow warms it up
        let prev: number | undefined;
        for (const e of (await h.fetchHistory()).events ?? []) {
          if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED && prev !== undefined) gaps.push(ms(e.eventTime) - prev);
          if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) prev = ms(e.eventTime);
        }
      }
    });
    await native.close();
    await connection.close();
    return gaps;
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  installQuietRuntime();
  const out: Record<string, unknown> = { machine: machine(), loadavgAtStart: loadAverage(), activities: ACTIVITIES, activityMs: ACTIVITY_MS };
  const gaps = new Map<string, number[]>(Object.keys(SETTINGS).map((k) => [k, []]));
  const medians = new Map<string, number[]>(Object.keys(SETTINGS).map((k) => [k, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, flags] of Object.entries(SETTINGS)) {
      const g = await gapsWith(flags);
      gaps.get(name)!.push(...g);
      medians.get(name)!.push(Number(percentile(g, 50).toFixed(1)));
    }
  }
  const settings = [...gaps].map(([name, g]) => ({
    setting: name,
    gaps: g.length,
    median: Number(percentile(g, 50).toFixed(1)),
    p90: Number(percentile(g, 90).toFixed(1)),
    medianPerRound: medians.get(name),
  }));
  Object.assign(out, { settings, loadavgAtEnd: loadAverage() });
  console.log(`\n| dev server's SQLite | gap per activity, median | p90 | median per round |\n| --- | --- | --- | --- |`);
  for (const s of settings) console.log(`| ${s.setting} | ${s.median} ms | ${s.p90} ms | ${s.medianPerRound?.join(' / ')} ms |`);
  console.log(`load average: ${String(out.loadavgAtStart)} at start, ${String(out.loadavgAtEnd)} at end; ${String(out.machine)}`);
  console.log(`written: ${writeResults('floor', out)}`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
