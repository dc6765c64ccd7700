// `alcaide schedule` (the real CLI) against the real Temporal dev server, with a long-lived
// worker whose activities are recording fakes: the schedule is created and updated with its
// policies, triggered, skipped on overlap, paused, resumed, deleted; the rebuild it starts
// shares the app's lock with deploys in both directions.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { UserError } from '../../src/errors';
import { startOnly } from '../../src/cli/follow';
import { createWorker } from '../../src/temporal/worker';
import type { NightlyView } from '../../src/temporal/schedules';
import { runCliAsync, tempProject, type CliResult } from '../helpers/cli';
import { rebuildFakes, type RebuildMode } from '../helpers/rebuildFakes';
import { startTestEnv, TEST_CODEC_KEY, TEST_CODEC_MATERIAL, testSettings } from '../helpers/temporal';
import { dataConverterFor } from '../../src/temporal/codec';

const TASK_QUEUE = 'schedule-test';
const project = tempProject('alcaide-schedule-');
let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
const mode: RebuildMode = {};
const fakes = rebuildFakes(mode);

function cli(args: string[], extraEnv: Record<string, string> = {}): Promise<CliResult> {
  return runCliAsync(args, {
    cwd: project.dir,
    env: { TEMPORAL_ADDRESS: env.address, ALCAIDE_TASK_QUEUE: TASK_QUEUE, ALCAIDE_CODEC_KEY: TEST_CODEC_MATERIAL, ...extraEnv },
    timeoutMs: 60_000,
  });
}
const ok = (r: CliResult) => assert.equal(r.code, 0, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);
async function view(): Promise<NightlyView> {
  const r = await cli(['schedule', 'describe', '--json']);
  ok(r);
  return JSON.parse(r.stdout) as NightlyView;
}
async function until(what: string, fn: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}

before(async () => {
  env = await startTestEnv();
  writeFileSync(path.join(project.dir, 'deploy.yml'), 'app: my_app\nserver:\n  host: 203.0.113.10\n');
  worker = await createWorker(env.nativeConnection, testSettings(env.address, TASK_QUEUE), 'worker', fakes.acts);
  running = worker.run();
});
after(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
  project.cleanup();
});

describe('alcaide schedule on the real dev server', () => {
  test('bad --at, --timezone, --jitter: exit 2 before anything is contacted', async () => {
    const nowhere = { TEMPORAL_ADDRESS: '127.0.0.1:1' };
    const at = await cli(['schedule', 'nightly', '--at', '25:00'], nowhere);
    assert.equal(at.code, 2);
    assert.match(at.stderr, /--at: expected a time of day as HH:MM \(00:00 to 23:59\), got "25:00"/);
    const tz = await cli(['schedule', 'nightly', '--timezone', 'Mars/Olympus_Mons'], nowhere);
    assert.equal(tz.code, 2);
    assert.match(tz.stderr, /--timezone: expected an IANA time zone such as "UTC" or "Europe\/Madrid", got "Mars\/Olympus_Mons"/);
    const jitter = await cli(['schedule', 'nightly', '--jitter', 'soon'], nowhere);
    assert.equal(jitter.code, 2);
    assert.match(jitter.stderr, /--jitter: expected a duration such as 10m or 1h/);
    const help = await cli(['schedule', 'nightly', '--help'], nowhere);
    ok(help);
    assert.match(help.stdout, /Examples:\n {2}\$ alcaide schedule nightly/);
  });

  test('describe before there is a schedule says how to create one', async () => {
    const r = await cli(['schedule', 'describe']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no nightly rebuild is scheduled for my_app/);
    assert.match(r.stderr, /hint: create it with: alcaide schedule nightly --at 03:00/);
  });

  test('nightly creates the schedule: calendar in the time zone, jitter, overlap skip, catch-up window, memo, search attributes', async () => {
    const r = await cli(['schedule', 'nightly', '--at', '03:00', '--timezone', 'Europe/Madrid', '--jitter', '5m', '--json']);
    ok(r);
    const v = JSON.parse(r.stdout) as NightlyView & { result: string; workerPolling: boolean };
    assert.equal(v.result, 'created');
    assert.equal(v.workerPolling, true);
    assert.deepEqual(
      [v.scheduleId, v.at, v.timezone, v.jitter, v.overlap, v.catchupWindow, v.paused],
      ['alcaide-nightly-my_app', '03:00', 'Europe/Madrid', '5m', 'skip', '1h', false],
    );
    const next = new Date(v.nextRuns[0]!);
    const local = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Madrid', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(next);
    assert.match(local, /^03:0[0-5]$/, `next run ${v.nextRuns[0]} is 03:00–03:05 in Madrid`);
    const d = await env.client.schedule.getHandle('alcaide-nightly-my_app').describe();
    assert.equal(d.action.type, 'startWorkflow');
    assert.equal(d.action.workflowType, 'nightlyRebuildWorkflow');
    assert.equal(d.action.taskQueue, TASK_QUEUE);
    assert.equal((d.action.args?.[0] as { target: { app: string } }).target.app, 'my_app');
    assert.equal(d.policies.overlap, 'SKIP');
    assert.equal(d.memo?.app, 'my_app');
    assert.deepEqual(d.searchAttributes.app, ['my_app']);
  });

  test('nightly again updates the same schedule; list shows it', async () => {
    const r = await cli(['schedule', 'nightly', '--at', '4:30', '--timezone', 'UTC']);
    ok(r);
    assert.match(
      r.stdout,
      /✓ updated alcaide-nightly-my_app: rebuild my_app's build jail every night at 04:30 UTC \(jitter up to 10m, overlap: skip, catch-up window 1h\)/,
    );
    const v = await view();
    assert.deepEqual([v.at, v.timezone], ['04:30', 'UTC']);
    const list = await cli(['schedule', 'list', '--json']);
    ok(list);
    assert.deepEqual(
      (JSON.parse(list.stdout) as Array<{ scheduleId: string; app: string }>).map((x) => `${x.scheduleId}:${x.app}`),
      ['alcaide-nightly-my_app:my_app'],
    );
  });

  test('trigger --wait: the nightly run rebuilds under the app lock id, and describe shows the outcome', async () => {
    const r = await cli(['schedule', 'trigger', '--wait']);
    ok(r);
    assert.match(
      r.stdout,
      /✓ rebuilt: build jail rebuilt and proven with bbbbbbbbbbbb; did installBuildPackages; OTP 25 in both: deps\/, _build\/ and the hex\/rebar caches carried over/,
    );
    assert.deepEqual(
      fakes.calls.map((c) => c.replace(/\(.*/, '')),
      [
        'inspectBuildJail',
        'createNextBuildJail',
        'installBuildPackages',
        'refreshHexRebar',
        'carryBuildCache',
        'testBuild',
        'swapBuildJail',
        'retireOldBuildJail',
      ],
    );
    const child = await env.client.workflow.getHandle('alcaide-my_app').describe();
    assert.equal(child.type, 'rebuildBuildJailWorkflow');
    assert.equal(child.status.name, 'COMPLETED');
    assert.match(String(child.memo?.startedBy), /^schedule alcaide-nightly-my_app-/);
    assert.deepEqual(child.searchAttributes.app, ['my_app']);
    const v = await view();
    assert.equal(v.recentRuns.length, 1);
    assert.equal(v.recentRuns[0]!.outcome, 'rebuilt');
    assert.equal(v.recentRuns[0]!.rebuild?.workflowId, 'alcaide-my_app');
    assert.match(v.recentRuns[0]!.workflowId, /^alcaide-nightly-my_app-/);
    const text = await cli(['schedule', 'describe']);
    ok(text);
    assert.match(text.stdout, /recent runs \(newest first\):\n {2}\S+ {2}rebuilt {3}build jail rebuilt/);
  });

  test('a trigger while a rebuild runs is skipped (overlap); a deploy meanwhile is refused by the lock; status shows the rebuild', async () => {
    fakes.calls.length = 0;
    mode.block = 'testBuild';
    fakes.rearm();
    const first = await cli(['schedule', 'trigger']);
    ok(first);
    assert.match(first.stdout, /✓ started alcaide-nightly-my_app-/);
    await fakes.reached;
    const second = await cli(['schedule', 'trigger']);
    ok(second);
    assert.match(second.stdout, /! skipped: the previous nightly run of my_app is still running \(overlap policy: skip\)/);
    const v = await view();
    assert.equal(v.skippedOverlap, 1);
    assert.equal(v.running.length, 1);
    assert.equal(v.recentRuns[0]!.outcome, 'running');
    assert.equal(v.recentRuns[0]!.note, 'rebuilding: test build of the deployed commit');
    assert.equal(v.recentRuns[0]!.rebuild?.workflowId, 'alcaide-my_app');

    const status = await cli(['status', '--json']);
    ok(status);
    const st = JSON.parse(status.stdout) as { status: { kind: string; currentStep: string } };
    assert.deepEqual([st.status.kind, st.status.currentStep], ['rebuild', 'testBuild']);

    const settings = testSettings(env.address, TASK_QUEUE);
    await assert.rejects(
      startOnly(env.client, settings, { workflowType: 'deployWorkflow', workflowId: 'alcaide-my_app', args: [], what: 'deploy of my_app' }),
      (e: unknown) => {
        assert.ok(e instanceof UserError);
        assert.match(
          e.message,
          /^a build jail rebuild of this app is running \(started by schedule alcaide-nightly-my_app-\S+ at \d{4}-\S+, now at "test build of the deployed commit"\); one at a time per app and destination$/,
        );
        return true;
      },
    );
    fakes.release.go?.();
    mode.block = undefined;
    await until('the rebuild to finish', async () => (await env.client.workflow.getHandle('alcaide-my_app').describe()).status.name === 'COMPLETED');
    await until('the run to show as rebuilt', async () => (await view()).recentRuns[0]?.outcome === 'rebuilt');
    assert.equal(fakes.calls.filter((c) => c.startsWith('inspectBuildJail')).length, 1, 'the skipped trigger ran nothing');
  });

  test('while a deploy holds the app lock the nightly run is skipped, touching nothing', async () => {
    fakes.calls.length = 0;
    // a deploy waiting for its worker still holds the lock
    const deploy = await env.client.workflow.start('deployWorkflow', { taskQueue: 'nobody-polls', workflowId: 'alcaide-my_app', args: [{}] });
    try {
      const r = await cli(['schedule', 'trigger', '--wait']);
      ok(r);
      assert.match(r.stdout, /! skipped: skipped: a deploy, rollback or rebuild of my_app is in progress \(alcaide-my_app\); the next run tries again/);
      assert.deepEqual(fakes.calls, []);
      assert.equal((await deploy.describe()).status.name, 'RUNNING', 'the deploy is untouched');
      assert.equal((await view()).recentRuns[0]!.outcome, 'skipped');
    } finally {
      await deploy.terminate('test over');
    }
  });

  test('a failed rebuild fails the nightly run: exit 1, and describe shows it failed with the reason', async () => {
    mode.fail = 'testBuild';
    try {
      const r = await cli(['schedule', 'trigger', '--wait']);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(
        r.stdout,
        /✗ failed: rebuild of my_app's build jail \(test build of bbbbbbbbbbbb\) started by schedule \S+ failed on 203\.0\.113\.10: test build of the deployed commit failed: injected failure in testBuild\. Restored: remove the new build jail; the build jail in service is the old one\./,
      );
      assert.match(r.stderr, /the nightly rebuild of my_app failed; the build jail in service is the old one/);
      const v = await view();
      assert.equal(v.recentRuns[0]!.outcome, 'failed');
      assert.equal(v.recentRuns[0]!.rebuild?.workflowId, 'alcaide-my_app');
    } finally {
      mode.fail = undefined;
    }
  });

  test('replay: the nightly runs recorded so far replay through the current workflow code', async () => {
    // by now there are runs of each outcome: rebuilt, skipped, failed
    const { Worker } = await import('@temporalio/worker');
    const { WORKFLOW_BUNDLE } = await import('../../src/temporal/worker');
    let n = 0;
    for await (const wf of env.client.workflow.list({ query: `WorkflowType = 'nightlyRebuildWorkflow'` })) {
      if (wf.status.name === 'RUNNING') continue;
      const history = await env.client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
      await Worker.runReplayHistory({ workflowBundle: { codePath: WORKFLOW_BUNDLE }, dataConverter: dataConverterFor(TEST_CODEC_KEY) }, history, wf.workflowId);
      n++;
    }
    assert.ok(n >= 4, `${n} runs replayed`);
  });

  test('pause and resume, with the note; delete', async () => {
    ok(await cli(['schedule', 'pause', '--note', 'server migration']));
    let v = await view();
    assert.equal(v.paused, true);
    assert.equal(v.note, 'server migration');
    const text = await cli(['schedule', 'describe']);
    assert.match(text.stdout, /state: paused \(server migration\)/);
    ok(await cli(['schedule', 'resume']));
    v = await view();
    assert.equal(v.paused, false);
    ok(await cli(['schedule', 'delete']));
    const gone = await cli(['schedule', 'describe']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /no nightly rebuild is scheduled for my_app/);
    const list = await cli(['schedule', 'list', '--json']);
    assert.deepEqual(JSON.parse(list.stdout), []);
  });
});
