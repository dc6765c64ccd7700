// Operator control on the real dev server with recording fake activities: a held failure
// (retry, abort, timeout), the bake window (pass, failed check, rollback), and resuming a
// failed deploy from its failed step with Temporal's workflow reset.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { resumeFromFailure, resumePoint } from '../../src/temporal/resume';
import { WORKFLOW_BUNDLE } from '../../src/temporal/worker';
import type { WorkflowStatus } from '../../workflows/status';
import { deploy, fakes, startDeploy, statusOf, TARGET, waitForStatus, withFakeWorker, type Mode } from '../helpers/deployFakes';
import { startTestEnv, TEST_CODEC_KEY } from '../helpers/temporal';
import { dataConverterFor } from '../../src/temporal/codec';

const HOLD = { ...TARGET, onFailure: 'hold' as const };

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestEnv();
});
after(async () => {
  await env?.teardown();
});

const handleOf = (id: string) => env.client.workflow.getHandle(id);
const count = (calls: string[], prefix: string) => calls.filter((c) => c.startsWith(prefix)).length;

describe('on_failure: hold', () => {
  test('a failed step waits for the operator with traffic untouched; retry runs only that step again, then the deploy completes', async () => {
    const mode: Mode = { fail: 'runMigrations' };
    const { calls, acts } = fakes(mode, 'blue');
    const { status, workflowId } = await deploy(env, acts, {
      target: HOLD,
      during: async (id) => {
        const h = handleOf(id);
        const held = await waitForStatus(h, (s) => s.state === 'held');
        assert.equal(held.held?.step, 'runMigrations');
        assert.equal(held.held?.error, 'injected failure in runMigrations');
        assert.equal(held.held?.until, held.held!.since + HOLD.holdTimeoutMs);
        assert.equal(held.currentStep, 'runMigrations');
        assert.ok(!calls.some((c) => /switchTraffic|destroySlot|restoreTraffic/.test(c)), 'no undo, no switch while held');
        // the operator fixes the cause, then retries
        mode.fail = undefined;
        await h.signal('retry', { by: 'ops@laptop' });
      },
    });
    assert.equal(status?.state, 'completed', `calls: ${calls.join(' ')}`);
    assert.equal(count(calls, 'runMigrations'), 2, 'the failed step ran again');
    for (const done of ['ensureBuildJail', 'uploadSource', 'buildRelease', 'createSlotJail', 'installRelease', 'startApp'])
      assert.equal(count(calls, done), 1, `${done} not repeated`);
    assert.equal(count(calls, 'destroySlot'), 0);
    assert.equal(status?.steps.find((s) => s.name === 'runMigrations')?.state, 'done');
    // a retry with no input (the Temporal UI's "Send Signal" without data) is accepted too
    const history = await handleOf(workflowId).fetchHistory();
    assert.ok(history.events?.some((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'retry'));
  });

  test('a retry signal with no input works (as the Web UI sends it), and a retry that fails again holds again', async () => {
    const mode: Mode = { fail: 'buildRelease' };
    const { calls, acts } = fakes(mode, 'blue');
    const { status } = await deploy(env, acts, {
      target: HOLD,
      during: async (id) => {
        const h = handleOf(id);
        await waitForStatus(h, (s) => s.state === 'held' && s.held?.retries === 0);
        await h.signal('retry');
        const again = await waitForStatus(h, (s) => s.state === 'held' && s.held?.retries === 1);
        assert.equal(again.held?.step, 'buildRelease');
        mode.fail = undefined;
        await h.signal('retry');
      },
    });
    assert.equal(status?.state, 'completed');
    assert.equal(count(calls, 'buildRelease'), 3);
  });

  test('abort while held compensates as usual (an abort with no input, as the Web UI may send it)', async () => {
    const { calls, acts } = fakes({ fail: 'checkHealth' }, 'blue');
    const { error } = await deploy(env, acts, {
      target: HOLD,
      during: async (id) => {
        await waitForStatus(handleOf(id), (s) => s.state === 'held');
        await handleOf(id).signal('abort');
      },
    });
    assert.ok(error instanceof WorkflowFailedError);
    assert.deepEqual(calls.slice(-2), ['checkHealth(green)', 'destroySlot(green)']);
    assert.match(error.cause!.message, /aborted on 192\.0\.2\.1: during health check on the slot address\. Restored: remove the green slot\./);
  });

  test('without a decision the hold times out and compensates by itself', async () => {
    const { calls, acts } = fakes({ fail: 'installRelease' }, 'blue');
    const { error } = await deploy(env, acts, { target: { ...HOLD, holdTimeoutMs: 1500 } });
    assert.ok(error);
    assert.deepEqual(calls.slice(-2), ['installRelease(green)', 'destroySlot(green)']);
    assert.match(
      error.cause!.message,
      /install the release failed: injected failure in installRelease \(held 1\.5s for an operator; no retry came\)\. Restored: remove the green slot\./,
    );
  });

  test('a failure after the switch never holds: traffic goes back at once', async () => {
    const { calls, acts } = fakes({ fail: 'verifyThroughCaddy' }, 'blue');
    const { error } = await deploy(env, acts, { target: HOLD });
    assert.ok(error);
    assert.deepEqual(calls.slice(-3), ['verifyThroughCaddy(green)', 'restoreTraffic(blue,green)', 'destroySlot(green)']);
  });

  test('with the default (compensate) a retry signal changes nothing and the failure compensates at once', async () => {
    const { calls, acts } = fakes({ fail: 'runMigrations' }, 'blue');
    const { error } = await deploy(env, acts);
    assert.ok(error);
    assert.equal(statusOf(error).held, undefined);
    assert.deepEqual(calls.slice(-2), ['runMigrations(green)', 'destroySlot(green)']);
  });
});

describe('bake window', () => {
  test('a healthy bake checks through Caddy on durable timers, keeps the old slot running until it ends, then stops it', async () => {
    const { calls, acts } = fakes({}, 'blue');
    let sawBaking: WorkflowStatus | undefined;
    const { status, workflowId } = await deploy(env, acts, {
      target: { ...TARGET, bakeMs: 3000 },
      during: async (id) => {
        sawBaking = await waitForStatus(handleOf(id), (s) => s.state === 'baking');
      },
    });
    assert.equal(status?.state, 'completed');
    assert.ok(sawBaking?.bakeUntil && sawBaking.bakeUntil > sawBaking.startedAt, 'status shows when the bake ends');
    assert.equal(count(calls, 'bakeCheck'), 3, 'one check a second for 3s');
    const i = calls.indexOf('verifyThroughCaddy(green)');
    assert.deepEqual(calls.slice(i + 1), [
      'bakeCheck(green)',
      'bakeCheck(green)',
      'bakeCheck(green)',
      'drainSlot(blue)',
      'stopSlot(blue)',
      'recordDeploy',
      'pruneReleases',
    ]);
    const bake = status!.steps.find((s) => s.name === 'bake')!;
    assert.match(bake.note ?? '', /3 checks through Caddy in 3s, all healthy/);
    const history = await handleOf(workflowId).fetchHistory();
    assert.ok((history.events ?? []).filter((e) => e.timerStartedEventAttributes).length >= 3, 'the waits are Temporal timers');
  });

  test('a failed check during the bake rolls back by itself: traffic to the old slot, new slot removed', async () => {
    const { calls, acts } = fakes({}, 'blue');
    let checks = 0;
    (acts as Record<string, unknown>).bakeCheck = async () => {
      calls.push('bakeCheck');
      if (++checks === 2)
        throw ApplicationFailure.create({ type: 'BakeFailed', message: 'through Caddy /health answered HTTP 500 from green three times', nonRetryable: true });
      return { changed: false, note: 'ok' };
    };
    const { error } = await deploy(env, acts, { target: { ...TARGET, bakeMs: 5000 } });
    assert.ok(error);
    assert.deepEqual(calls.slice(-4), ['bakeCheck', 'bakeCheck', 'restoreTraffic(blue,green)', 'destroySlot(green)']);
    assert.ok(!calls.includes('stopSlot(blue)'), 'the old slot was never stopped');
    assert.match(
      error.cause!.message,
      /bake: health through Caddy failed: through Caddy \/health answered HTTP 500 from green three times\. Restored: traffic back to blue; remove the green slot\./,
    );
  });

  test('alcaide rollback during the bake rolls back at once', async () => {
    const { calls, acts } = fakes({}, 'blue');
    const t0 = Date.now();
    const { error } = await deploy(env, acts, {
      target: { ...TARGET, bakeMs: 600_000 },
      during: async (id) => {
        await waitForStatus(handleOf(id), (s) => s.state === 'baking');
        await handleOf(id).signal('rollback', { by: 'ops@laptop' });
      },
    });
    assert.ok(Date.now() - t0 < 60_000, 'did not wait for the 10 minute bake');
    assert.match(
      error!.cause!.message,
      /rolled back by ops@laptop on 192\.0\.2\.1: during bake: health through Caddy\. Restored: traffic back to blue; remove the green slot\./,
    );
    assert.deepEqual(calls.slice(-2), ['restoreTraffic(blue,green)', 'destroySlot(green)']);
  });

  test('a worker restart during the bake does not lose it: a new worker finishes the bake and the deploy', async () => {
    const { calls, acts } = fakes({}, 'blue');
    const taskQueue = `bake-restart-${Date.now()}`;
    const id = `deploy-${taskQueue}`;
    const worker1 = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: { codePath: WORKFLOW_BUNDLE },
      activities: acts,
      dataConverter: dataConverterFor(TEST_CODEC_KEY),
    });
    const handle = await worker1.runUntil(async () => {
      const h = await env.client.workflow.start('deployWorkflow', {
        taskQueue,
        workflowId: id,
        args: [{ target: { ...TARGET, bakeMs: 4000 }, version: 'a'.repeat(40), ref: 'HEAD', startedBy: 't' }],
      });
      await waitForStatus(h, (s) => s.state === 'baking');
      return h;
    });
    // worker 1 is gone mid-bake; a new one (fresh workflow cache) picks the run up from history
    const worker2 = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: { codePath: WORKFLOW_BUNDLE },
      activities: acts,
      dataConverter: dataConverterFor(TEST_CODEC_KEY),
    });
    const result = (await worker2.runUntil(handle.result())) as WorkflowStatus;
    assert.equal(result.state, 'completed');
    assert.equal(result.steps.find((s) => s.name === 'bake')?.state, 'unchanged');
    assert.deepEqual(calls.slice(-3), ['stopSlot(blue)', 'recordDeploy', 'pruneReleases']);
  });
});

describe('resume a failed deploy (workflow reset)', () => {
  test('a failed, compensated deploy re-runs from the first undone step after the fix; the upload is not repeated', async () => {
    const mode: Mode = { fail: 'runMigrations' };
    const { calls, acts } = fakes(mode, 'blue');
    await withFakeWorker(env, acts, async (taskQueue) => {
      const id = `resume-${taskQueue}`;
      const h = await startDeploy(env, taskQueue, id);
      await assert.rejects(h.result(), WorkflowFailedError);
      assert.deepEqual(calls.slice(-2), ['runMigrations(green)', 'destroySlot(green)']);
      const before = calls.length;
      mode.fail = undefined;
      const r = await resumeFromFailure(env.client, 'default', id, 'ops@laptop');
      assert.equal(r.failedStep, 'runMigrations');
      assert.equal(r.step, 'createSlotJail', 'the slot was removed by the undo, so it is created again');
      const status = (await env.client.workflow.getHandle(id, r.runId).result()) as WorkflowStatus;
      assert.equal(status.state, 'completed');
      // the build started beside createSlotJail, so it runs again too (on a host it finds its release built)
      const again = calls.slice(before);
      assert.deepEqual(
        [...again.slice(0, 2).sort(), ...again.slice(2)],
        [
          'buildRelease',
          'createSlotJail(green)',
          'installRelease(green)',
          'writeAppEnv(green)',
          'startApp(green)',
          'runMigrations(green)',
          'checkHealth(green)',
          'switchTraffic(green,blue)',
          'verifyThroughCaddy(green)',
          'drainSlot(blue)',
          'stopSlot(blue)',
          'recordDeploy',
          'pruneReleases',
        ],
      );
      // the reset run is the workflow's latest run: the lock and `alcaide status` see it
      assert.equal((await env.client.workflow.getHandle(id).describe()).runId, r.runId);
    });
  });

  test('a failure before any undo resumes at the failed step itself', async () => {
    const mode: Mode = { fail: 'buildRelease' };
    const { calls, acts } = fakes(mode, 'blue');
    await withFakeWorker(env, acts, async (taskQueue) => {
      const id = `resume-${taskQueue}`;
      await assert.rejects(startDeploy(env, taskQueue, id).then((h) => h.result()));
      mode.fail = undefined;
      const before = calls.length;
      const r = await resumeFromFailure(env.client, 'default', id, 'ops@laptop');
      assert.equal(r.step, 'buildRelease');
      await env.client.workflow.getHandle(id, r.runId).result();
      assert.deepEqual(calls.slice(before, before + 2).sort(), ['buildRelease', 'createSlotJail(green)']);
      assert.equal(count(calls, 'uploadSource'), 1, 'the upload is not repeated');
      assert.equal(count(calls, 'chooseSlot'), 1, 'nor the choice of the slot');
    });
  });

  test('an aborted deploy, a running one or a successful one is not resumed', async () => {
    const { acts, reached } = fakes({ block: 'buildRelease' }, 'blue');
    await withFakeWorker(env, acts, async (taskQueue) => {
      const id = `resume-${taskQueue}`;
      const h = await startDeploy(env, taskQueue, id);
      await reached;
      await assert.rejects(resumeFromFailure(env.client, 'default', id, 'x'), /still running/);
      await h.signal('abort', {});
      await assert.rejects(h.result());
      await assert.rejects(resumeFromFailure(env.client, 'default', id, 'x'), /did not fail in a step that can run again \(it was aborted/);
    });
    const ok = fakes({}, 'blue');
    const { workflowId } = await deploy(env, ok.acts);
    await assert.rejects(resumeFromFailure(env.client, 'default', workflowId, 'x'), /completed: nothing to resume/);
  });

  test('resumePoint picks the WorkflowTaskCompleted event before the step was scheduled', () => {
    const ev = (eventId: number, attrs: object) => ({ eventId, ...attrs }) as never;
    const events = [
      ev(3, { workflowTaskCompletedEventAttributes: {} }),
      ev(4, { activityTaskScheduledEventAttributes: { activityType: { name: 'ensureBuildJail' } } }),
      ev(9, { workflowTaskCompletedEventAttributes: {} }),
      ev(10, { activityTaskScheduledEventAttributes: { activityType: { name: 'buildRelease' } } }),
      ev(12, { activityTaskFailedEventAttributes: { scheduledEventId: 10 } }),
    ];
    assert.deepEqual(resumePoint(events), { step: 'buildRelease', failedStep: 'buildRelease', eventId: 9 });
  });
});
