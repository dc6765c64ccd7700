// The fleet benchmark's arithmetic (bench/cpu.ts, bench/timeline.ts): /proc/stat's busy and total
// jiffies, the gaps where no activity runs in any workflow of a deploy, what a timer covers of
// them, and each host's steps side by side.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { procStat } from '../../bench/cpu';
import { covered, gaps, spreads, type Run, type WorkflowTimes } from '../../bench/timeline';

test('procStat: busy is user+nice+system+irq+softirq, the total adds idle, iowait and steal; guest is in user already', () => {
  const text = ['cpu  100 5 30 800 20 3 2 7 50 0', 'cpu0 50 2 15 400 10 1 1 3 25 0', 'cpu1 50 3 15 400 10 2 1 4 25 0', 'intr 1'].join('\n');
  assert.deepEqual(procStat(text), { busy: 140, total: 967, cores: 2 });
});

const run = (who: string, what: string, from: number, to: number): Run => ({ who, what, from, to });

test('gaps: where no activity of any workflow runs, labelled by what ended before and what began after; overlaps merge', () => {
  const runs = [
    run('parent', 'build', 10, 50),
    run('h1', 'slot', 20, 60),
    run('h2', 'install', 80, 100),
    run('h1', 'install', 90, 95),
    run('h2', 'stop', 130, 150),
  ];
  const timers = [run('h2', 'timer', 100, 125)];
  assert.deepEqual(gaps(runs, timers, 0, 160), [
    { from: 0, to: 10, after: '-', before: 'parent build', timerMs: 0 },
    { from: 60, to: 80, after: 'h1 slot', before: 'h2 install', timerMs: 0 },
    { from: 100, to: 130, after: 'h2 install', before: 'h2 stop', timerMs: 25 },
    { from: 150, to: 160, after: 'h2 stop', before: 'the workflow closes', timerMs: 0 },
  ]);
});

test('covered: the union of runs within a window, each instant counted once', () => {
  assert.equal(covered([run('a', 't', 0, 10), run('b', 't', 5, 20), run('b', 't', 6, 8), run('c', 't', 30, 40)], 2, 35), 23);
  assert.equal(covered([], 0, 10), 0);
});

test("spreads: each host's first start and last end of a step (retries included), and the spread between hosts", () => {
  const child = (who: string, activities: Run[]): WorkflowTimes => ({ who, startedAt: 0, closedAt: 0, activities, timers: [], signals: [] });
  const s = spreads(
    [
      child('h1', [run('h1', 'install', 1010, 1100), run('h1', 'install', 1200, 1300)]),
      child('h2', [run('h2', 'install', 1050, 1500), run('h2', 'migrate', 1500, 1600)]),
    ],
    1000,
  );
  assert.deepEqual(s, [
    {
      step: 'install',
      hosts: [
        { host: 'h1', startMs: 10, endMs: 300 },
        { host: 'h2', startMs: 50, endMs: 500 },
      ],
      startSpreadMs: 40,
      endSpreadMs: 200,
    },
    { step: 'migrate', hosts: [{ host: 'h2', startMs: 500, endMs: 600 }], startSpreadMs: 0, endSpreadMs: 0 },
  ]);
});
