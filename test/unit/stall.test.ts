// When the CLI stops trusting the listed pollers and runs a worker itself: a task of its
// workflow that waits for a worker 5 s by this machine's clock, or a step still "running" on a
// local worker whose process is gone. The descriptions are shaped as the dev server returns them;
// the processes are real.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { test } from 'node:test';
import Long from 'long';
import type { Client } from '@temporalio/client';
import { deadLocalWorker } from '../../src/temporal/connection';
import { stallOf, STALL_MS, withWorkerIfNone } from '../../src/temporal/embedded';
import type { TemporalSettings } from '../../src/temporal/settings';
import { within } from '../helpers/within';

const ts = (ms: number) => ({ seconds: Long.fromNumber(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 });
const dead = (id?: string | null) => id === 'alcaide-worker:1@here';

test('a scheduled workflow task or activity nobody starts stalls after 5 s of this clock, not of the server', () => {
  const seen = new Map<string, number>();
  // the server's scheduled time is an hour old: it is never compared with this clock
  const d = { pendingWorkflowTask: { state: 1, scheduledTime: ts(1_000), attempt: 1 }, pendingActivities: [] };
  assert.equal(stallOf(d, seen, 10_000_000, 'deploy of x', dead), undefined, 'just seen');
  assert.equal(stallOf(d, seen, 10_000_000 + STALL_MS - 1, 'deploy of x', dead), undefined);
  assert.equal(stallOf(d, seen, 10_000_000 + STALL_MS, 'deploy of x', dead), 'no worker picked up the deploy of x within 5 s');

  const a = new Map<string, number>();
  const act = (attempt: number, extra = {}) => ({
    pendingActivities: [{ activityId: '7', activityType: { name: 'buildRelease' }, state: 1, attempt, ...extra }],
  });
  assert.equal(stallOf(act(1), a, 0, 'deploy of x', dead), undefined);
  assert.equal(stallOf(act(1), a, STALL_MS, 'deploy of x', dead), 'no worker picked up the deploy of x within 5 s');
});

test('a task that is picked up, or a new attempt, starts the count again', () => {
  const seen = new Map<string, number>();
  const scheduled = (attempt: number) => ({ pendingWorkflowTask: { state: 1, scheduledTime: ts(attempt * 1000), attempt } });
  assert.equal(stallOf(scheduled(1), seen, 0, 'w', dead), undefined);
  assert.equal(stallOf({ pendingWorkflowTask: { state: 2, scheduledTime: ts(1000), attempt: 1 } }, seen, 4_000, 'w', dead), undefined, 'started');
  assert.equal(stallOf(scheduled(2), seen, 6_000, 'w', dead), undefined, 'a new task: counted from now');
  assert.equal(stallOf(scheduled(2), seen, 6_000 + STALL_MS, 'w', dead), 'no worker picked up the w within 5 s');
});

test("a retry's backoff is not a wait for a worker; a running step of a live or remote worker is not a stall", () => {
  const seen = new Map<string, number>();
  const backoff = { pendingActivities: [{ activityId: '7', state: 1, attempt: 2, nextAttemptScheduleTime: ts(99_000) }] };
  assert.equal(stallOf(backoff, seen, 0, 'w', dead), undefined);
  assert.equal(stallOf(backoff, seen, 60_000, 'w', dead), undefined);
  const running = (identity: string) => ({
    pendingActivities: [{ activityId: '7', activityType: { name: 'buildRelease' }, state: 2, attempt: 1, lastWorkerIdentity: identity }],
  });
  assert.equal(stallOf(running('alcaide-worker:2@here'), seen, 0, 'w', dead), undefined);
  assert.equal(stallOf(running('alcaide-worker:2@here'), seen, 60_000, 'w', dead), undefined, 'a long step of a live worker');
});

test('a step still running on a local worker whose process is gone stalls at once, and says whose', () => {
  const d = (state: number) => ({
    pendingActivities: [{ activityId: '7', activityType: { name: 'buildRelease' }, state, attempt: 1, lastWorkerIdentity: 'alcaide-worker:1@here' }],
  });
  assert.equal(stallOf(d(2), new Map(), 0, 'w', dead), 'the worker running buildRelease (alcaide-worker:1@here) is gone');
  assert.equal(stallOf(d(3), new Map(), 0, 'w', dead), 'the worker running buildRelease (alcaide-worker:1@here) is gone', 'cancel requested');
});

test('a worker process killed but not yet reaped by its parent (a zombie) is gone; a live one is not', async () => {
  // sh's child exits once sh has become sleep, which never waits for it: a zombie while sleep runs
  const parent = spawn('sh', ['-c', 'sh -c "sleep 0.3" & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const [line] = (await once(parent.stdout!, 'data')) as [Buffer];
    const zombie = Number(line.toString().trim());
    const state = () => readFileSync(`/proc/${zombie}/stat`, 'utf8').replace(/^.*\) /s, '')[0];
    for (let i = 0; i < 500 && state() !== 'Z'; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(state(), 'Z');
    assert.doesNotThrow(() => process.kill(zombie, 0), 'kill(0) still finds it');
    assert.equal(deadLocalWorker(`alcaide-worker:${zombie}@${os.hostname()}`), true);
    assert.equal(deadLocalWorker(`alcaide-worker:${parent.pid}@${os.hostname()}`), false);
  } finally {
    parent.kill('SIGKILL');
  }
});

/** A client whose task queue lists one fresh long-lived worker of another machine, once `answer` is called (or fails then). */
function lookingClient(fail = false) {
  let answer = () => {};
  const asked = new Promise<void>((r) => (answer = r));
  const poller = { identity: 'alcaide-worker:1@elsewhere', lastAccessTime: { seconds: Math.floor(Date.now() / 1000) } };
  const client = {
    workflowService: {
      describeTaskQueue: async () => {
        await asked;
        if (fail) throw new Error('PERMISSION_DENIED');
        return { pollers: [poller] };
      },
    },
  } as unknown as Client;
  return { client, answer };
}

const settings = { namespace: 'default', taskQueue: 'q' } as TemporalSettings;

test("the start goes out without waiting for the task queue's pollers: their answer comes after it", async () => {
  const { client, answer } = lookingClient();
  let started = 0;
  const fn = async () => {
    started++;
    answer(); // the server answers the look only once the start is out
    return 'started';
  };
  assert.equal(await within(5000, 'the start, before the look is answered', withWorkerIfNone(client, settings, fn)), 'started');
  assert.equal(started, 1);
});

test('a look for pollers that fails leaves the command its outcome (counted as no poller: a worker of this process drives it)', async () => {
  const { client, answer } = lookingClient(true);
  let started = 0;
  const fn = async () => {
    started++;
    answer();
    return 'started';
  };
  assert.equal(await within(30_000, 'the outcome', withWorkerIfNone(client, settings, fn)), 'started');
  assert.equal(started, 1);
});
