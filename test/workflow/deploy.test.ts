// DeployWorkflow on the real dev server with recording fake activities: step order, the
// exact compensations for a failure or an abort at every step, signals, queries, replay.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { WORKFLOW_BUNDLE } from '../../src/temporal/worker';
import { dataConverterFor } from '../../src/temporal/codec';
import { DEPLOY_STEPS } from '../../workflows/deploySteps';
import type { WorkflowStatus } from '../../workflows/status';
import { latestRun, statusOfRun } from '../../src/cli/runStatus';
import {
  ACTIVITY_OF,
  deploy,
  fakes,
  startDeploy,
  statusOf,
  STEP_ACTIVITIES,
  TARGET,
  VERSION,
  waitForStatus,
  withFakeWorker,
  type Mode,
} from '../helpers/deployFakes';
import { startTestEnv, TEST_CODEC_KEY, testSettings } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestEnv();
});
after(async () => {
  await env?.teardown();
});

/** The undo steps a failure (or stop) at this step must run, in order. */
function expectedUndo(step: string, active?: string): string[] {
  const next = active === 'blue' ? 'green' : 'blue';
  const i = STEP_ACTIVITIES.indexOf(step);
  const out: string[] = [];
  if (i >= STEP_ACTIVITIES.indexOf('switchTraffic')) out.push(`restoreTraffic(${active},${next})`);
  // the slot's undo is registered once the slot is chosen: the build runs beside createSlotJail
  if (i > STEP_ACTIVITIES.indexOf('chooseSlot')) out.push(`destroySlot(${next})`);
  return out;
}

const noteOf = (status: WorkflowStatus | undefined, step: string) => status?.steps.find((s) => s.name === step)?.note;

/** The two steps that run side by side; a call of one may land between the other's call and its undo. */
const SIDE_BY_SIDE = ['buildRelease', 'createSlotJail'];
const sibling = (step: string) => (SIDE_BY_SIDE.includes(step) ? SIDE_BY_SIDE.find((s) => s !== step) : undefined);
const withoutSibling = (calls: string[], step: string) => calls.filter((c) => !(sibling(step) && c.startsWith(sibling(step)!)));
/** The calls with the side-by-side pair in a fixed order (their start order is not). */
const pairSorted = (calls: string[]) => {
  const i = calls.findIndex((c) => SIDE_BY_SIDE.some((s) => c.startsWith(s)));
  return i < 0 ? calls : [...calls.slice(0, i), ...calls.slice(i, i + 2).sort(), ...calls.slice(i + 2)];
};

describe('deployWorkflow', () => {
  test('first deploy: every step in order to blue, nothing to drain or stop', async () => {
    const { calls, acts } = fakes({});
    const { status } = await deploy(env, acts);
    assert.ok(status, 'completed');
    assert.equal(status.state, 'completed');
    assert.equal(status.slot, 'blue');
    assert.equal(status.previousSlot, undefined);
    assert.deepEqual(pairSorted(calls), [
      'ensureBuildJail',
      'uploadSource',
      'chooseSlot',
      'buildRelease',
      'createSlotJail(blue)',
      'installRelease(blue)',
      'writeAppEnv(blue)',
      'startApp(blue)',
      'runMigrations(blue)',
      'checkHealth(blue)',
      'switchTraffic(blue,undefined)',
      'verifyThroughCaddy(blue)',
      'recordDeploy',
      'pruneReleases',
    ]);
    assert.equal(status.steps.find((s) => s.name === 'drainOldSlot')?.state, 'skipped');
    assert.equal(noteOf(status, 'chooseSlot'), 'no live slot, deploying to blue');
  });

  test('next deploy: green beside live blue, blue drained, then stopped', async () => {
    const { calls, acts } = fakes({}, 'blue');
    const { status, workflowId } = await deploy(env, acts);
    assert.equal(status?.slot, 'green');
    assert.equal(status?.previousSlot, 'blue');
    assert.deepEqual(calls.slice(-6), [
      'switchTraffic(green,blue)',
      'verifyThroughCaddy(green)',
      'drainSlot(blue)',
      'stopSlot(blue)',
      'recordDeploy',
      'pruneReleases',
    ]);
    // the status lists the steps in the deploy table's order: it must be the order they ran in
    const activityOf = new Map<string, string>(DEPLOY_STEPS.map((d) => [d.name, d.activity]));
    const ranInOrder = pairSorted(calls).map((c) => c.split('(')[0]);
    assert.deepEqual(
      status!.steps.map((x) => activityOf.get(x.name)!).filter((a) => ranInOrder.includes(a)),
      ranInOrder,
      'status lists the steps in the order they ran',
    );
    const drain = status!.steps.find((s) => s.name === 'drainOldSlot')!;
    assert.equal(drain.state, 'done');
    assert.ok(drain.endedAt! - drain.startedAt! >= 300, 'the drain ended with its step (the fake waits drain_timeout)');
    const sa = (await env.client.workflow.getHandle(workflowId).describe()).searchAttributes;
    assert.deepEqual(sa.slot, ['green']);
    assert.equal(noteOf(status, 'chooseSlot'), 'blue is live, deploying to green');
  });

  test('an interrupted switch left both gates open: the recorded slot is live, the deploy goes to the other', async () => {
    const { calls, acts } = fakes({}, { live: ['blue', 'green'], recorded: 'green' });
    const { status } = await deploy(env, acts);
    assert.equal(status?.slot, 'blue');
    assert.equal(status?.previousSlot, 'green');
    assert.equal(noteOf(status, 'chooseSlot'), 'green is live, deploying to blue');
    assert.deepEqual(calls.slice(-6), [
      'switchTraffic(blue,green)',
      'verifyThroughCaddy(blue)',
      'drainSlot(green)',
      'stopSlot(green)',
      'recordDeploy',
      'pruneReleases',
    ]);
  });

  test('migrations are skipped when release.migrate is false', async () => {
    const { calls, acts } = fakes({});
    const { status } = await deploy(env, acts, { target: { ...TARGET, release: { name: 'my_app', migrate: false, migrateBeforeStart: false } } });
    assert.ok(!calls.some((c) => c.startsWith('runMigrations')));
    assert.equal(status?.steps.find((s) => s.name === 'runMigrations')?.state, 'skipped');
  });

  test('migrations run after the app starts by default, before it with release.migrate_before_start', async () => {
    const order = (calls: string[]) => calls.map((c) => c.split('(')[0]).filter((n) => n === 'runMigrations' || n === 'startApp');
    const after = fakes({});
    const { status: s1 } = await deploy(env, after.acts, {});
    assert.deepEqual(order(after.calls), ['startApp', 'runMigrations']);
    assert.deepEqual(
      s1?.steps.map((s) => s.name).filter((n) => n === 'runMigrations' || n === 'startApp'),
      ['startApp', 'runMigrations'],
    );
    const before = fakes({});
    const { status: s2 } = await deploy(env, before.acts, { target: { ...TARGET, release: { ...TARGET.release, migrateBeforeStart: true } } });
    assert.deepEqual(order(before.calls), ['runMigrations', 'startApp']);
    assert.deepEqual(
      s2?.steps.map((s) => s.name).filter((n) => n === 'runMigrations' || n === 'startApp'),
      ['runMigrations', 'startApp'],
      'status lists the steps in the order they run',
    );
  });

  for (const step of STEP_ACTIVITIES) {
    test(`a failure in ${step} runs exactly the right undo steps, in reverse order`, async () => {
      const { calls, acts, tookTraffic } = fakes({ fail: step }, 'blue');
      const { error } = await deploy(env, acts);
      assert.ok(error, 'the deploy fails');
      const at = calls.findIndex((c) => c.startsWith(step));
      assert.deepEqual(withoutSibling(calls.slice(at + 1), step), expectedUndo(step, 'blue'), `calls: ${calls.join(' ')}`);
      // before the switch began the new slot served nothing: its undo kills the app, no drain
      const switched = STEP_ACTIVITIES.indexOf(step) >= STEP_ACTIVITIES.indexOf('switchTraffic');
      if (expectedUndo(step, 'blue').some((u) => u.startsWith('destroySlot'))) assert.deepEqual(tookTraffic, [switched]);
      const status = statusOf(error);
      assert.equal(status.state, 'failed');
      const title = DEPLOY_STEPS.find((s) => (ACTIVITY_OF[s.name] ?? s.name) === step)!.title;
      assert.match(
        error.cause!.message,
        new RegExp(
          `^deploy of my_app aaaaaaaaaaaa failed on 192\\.0\\.2\\.1: ${title.replace(/[()]/g, '\\$&')} failed: injected failure in ${step}\\. Restored: `,
        ),
      );
      if (expectedUndo(step, 'blue').length === 0) assert.match(error.cause!.message, /Restored: nothing had changed on the server\./);
      assert.deepEqual(
        (status.compensations ?? []).map((c) => c.name),
        expectedUndo(step, 'blue').map((u) => u.replace(/\(.*/, '')),
      );
      assert.ok((status.compensations ?? []).every((c) => c.state === 'done'));
    });
  }

  for (const step of STEP_ACTIVITIES.filter((s) => s !== 'recordDeploy')) {
    test(`abort during ${step} stops it and runs the undo steps registered so far`, async () => {
      const { calls, acts, reached } = fakes({ block: step }, 'blue');
      const { error } = await deploy(env, acts, {
        during: async (id) => {
          await reached;
          await env.client.workflow.getHandle(id).signal('abort', { by: 'ops@laptop', reason: 'test' });
        },
      });
      assert.ok(error, 'an aborted deploy ends failed');
      const stopAt = calls.indexOf(`${step}:cancelled`);
      assert.ok(stopAt >= 0, `calls: ${calls.join(' ')}`);
      assert.deepEqual(withoutSibling(calls.slice(stopAt + 1), step), expectedUndo(step, 'blue'));
      assert.match(error.cause!.message, /aborted by ops@laptop \(test\) on 192\.0\.2\.1: during /);
      const stepName = DEPLOY_STEPS.find((s) => s.activity === step)!.name;
      assert.equal(statusOf(error).steps.find((s) => s.name === stepName)?.state, 'cancelled');
      assert.deepEqual(statusOf(error).stopped, { how: 'aborted', by: 'ops@laptop', reason: 'test' }, 'the status says who stopped it (alcaide history)');
    });
  }

  test('rollback during the drain puts traffic back on the old slot', async () => {
    const { calls, acts } = fakes({}, 'green');
    const { error } = await deploy(env, acts, {
      target: { ...TARGET, drainTimeoutMs: 60_000 },
      during: async (id) => {
        const handle = env.client.workflow.getHandle(id);
        for (let i = 0; i < 200 && (await handle.query<WorkflowStatus>('status')).currentStep !== 'drainOldSlot'; i++)
          await new Promise((r) => setTimeout(r, 25));
        await handle.signal('rollback', { by: 'ops@laptop' });
      },
    });
    assert.match(
      error!.cause!.message,
      /rolled back by ops@laptop on 192\.0\.2\.1: during drain the old slot\. Restored: traffic back to green; remove the blue slot\./,
    );
    assert.deepEqual(calls.slice(-2), ['restoreTraffic(green,blue)', 'destroySlot(blue)']);
  });

  test('Temporal cancellation (UI "Cancel") compensates like abort', async () => {
    const { calls, acts, reached } = fakes({ block: 'checkHealth' }, 'blue');
    const { error } = await deploy(env, acts, {
      during: async (id) => {
        await reached;
        await env.client.workflow.getHandle(id).cancel();
      },
    });
    assert.ok(error);
    assert.deepEqual(calls.slice(-2), ['checkHealth:cancelled', 'destroySlot(green)']);
  });

  test('an undo step that fails is reported, and the others still run', async () => {
    const { calls, acts } = fakes({}, 'blue');
    (acts as Record<string, unknown>).verifyThroughCaddy = async () => {
      throw ApplicationFailure.create({ message: 'wrong slot', nonRetryable: true });
    };
    (acts as Record<string, unknown>).restoreTraffic = async () => {
      calls.push('restoreTraffic');
      throw ApplicationFailure.create({ message: 'old slot will not start', nonRetryable: true });
    };
    const { error } = await deploy(env, acts);
    assert.deepEqual(calls.slice(-2), ['restoreTraffic', 'destroySlot(green)']);
    assert.match(error!.cause!.message, /Restored: FAILED: traffic back to blue; remove the green slot\. Some undo steps failed: check the server/);
  });

  test('replay: recorded histories run through the current workflow code deterministically', async () => {
    const runs = [fakes({}, 'blue'), fakes({ fail: 'checkHealth' }, 'blue'), fakes({}, undefined)];
    for (const f of runs) {
      const { workflowId } = await deploy(env, f.acts);
      const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
      await Worker.runReplayHistory({ workflowBundle: { codePath: WORKFLOW_BUNDLE }, dataConverter: dataConverterFor(TEST_CODEC_KEY) }, history, workflowId);
    }
  });

  test('the slot jail is made while the release builds; a failed build waits for it, then undoes it', async () => {
    const { calls, acts, reached } = fakes({ block: 'buildRelease' }, 'blue');
    await deploy(env, acts, {
      during: async (id) => {
        await reached;
        const handle = env.client.workflow.getHandle(id);
        let s = await handle.query<WorkflowStatus>('status');
        for (let i = 0; i < 100 && s.steps.find((x) => x.name === 'createSlotJail')?.state !== 'done'; i++) {
          await new Promise((r) => setTimeout(r, 20));
          s = await handle.query<WorkflowStatus>('status');
        }
        assert.equal(s.steps.find((x) => x.name === 'createSlotJail')?.state, 'done', 'the slot jail is ready');
        assert.equal(s.steps.find((x) => x.name === 'buildRelease')?.state, 'running', 'while the build still runs');
        assert.equal(s.currentStep, 'buildRelease');
        await handle.signal('abort', {});
      },
    });
    assert.ok(calls.indexOf('createSlotJail(green)') < calls.indexOf('buildRelease:cancelled'));

    const slow = fakes({ fail: 'buildRelease' }, 'blue');
    const create = slow.acts.createSlotJail!;
    slow.acts.createSlotJail = async (...a: unknown[]) => {
      await new Promise((r) => setTimeout(r, 400));
      const out = await create(...a);
      slow.calls.push('createSlotJail:end');
      return out;
    };
    const { error } = await deploy(env, slow.acts);
    assert.match(error!.cause!.message, /build the release failed: injected failure in buildRelease\. Restored: remove the green slot\./);
    assert.deepEqual(slow.calls.slice(-2), ['createSlotJail:end', 'destroySlot(green)'], 'the undo ran after the slot step ended');
  });

  test('a status query answers while a step runs', async () => {
    const { acts, reached } = fakes({ block: 'buildRelease' }, 'blue');
    await deploy(env, acts, {
      during: async (id) => {
        await reached;
        const handle = env.client.workflow.getHandle(id);
        const s = await handle.query<WorkflowStatus>('status');
        assert.equal(s.steps.find((x) => x.name === 'buildRelease')?.state, 'running');
        assert.ok(['buildRelease', 'createSlotJail'].includes(s.currentStep ?? ''), s.currentStep);
        assert.equal(s.version, VERSION);
        assert.equal(s.steps.find((x) => x.name === 'uploadSource')?.state, 'done');
        await handle.signal('abort', {});
      },
    });
  });
});

describe('alcaide status', () => {
  test('reads the run it described: a deploy that starts a moment later does not turn a finished run into a wait', async () => {
    const mode: Mode = {};
    const { acts } = fakes(mode, 'blue');
    await withFakeWorker(env, acts, async (taskQueue) => {
      const id = `status-${taskQueue}`;
      const first = await startDeploy(env, taskQueue, id);
      await first.result();
      const firstRun = (await first.describe()).runId;
      // the next deploy holds at its migration (no undo, no end) and starts just after status described the first
      mode.fail = 'runMigrations';
      let second: WorkflowHandle | undefined;
      const client = new Client({
        connection: env.client.connection,
        dataConverter: dataConverterFor(TEST_CODEC_KEY),
        interceptors: {
          workflow: [
            {
              async describe(input, next) {
                const r = await next(input);
                second ??= await startDeploy(env, taskQueue, id, { ...TARGET, onFailure: 'hold' });
                return r;
              },
            },
          ],
        },
      });
      const s = testSettings(env.address, taskQueue);
      try {
        const latest = await latestRun(client, s, id, 'hello');
        assert.equal(latest.d.runId, firstRun);
        assert.equal(latest.running, false);
        // reading the latest run's result instead would wait for the held deploy: fail, do not hang
        let guard: NodeJS.Timeout | undefined;
        const status = await Promise.race([
          statusOfRun(client, latest, 'hello'),
          new Promise<never>(
            (_, reject) => (guard = setTimeout(() => reject(new Error('status waited for the deploy started after it described the finished one')), 15_000)),
          ),
        ]).finally(() => clearTimeout(guard));
        assert.equal(status?.state, 'completed');
        assert.equal(status?.slot, 'green');
        // the race really happened: the second deploy is the latest run, waiting for an operator
        assert.ok(second);
        const held = await waitForStatus(second, (st) => st.state === 'held');
        assert.equal(held.held?.step, 'runMigrations');
        const again = await latestRun(client, s, id, 'hello');
        assert.equal(again.running, true);
        assert.equal((await statusOfRun(client, again, 'hello'))?.state, 'held');
      } finally {
        await second?.terminate('test over');
      }
    });
  });
});
