// Human gates before the switch (docs/approvals.md) on the real dev server with recording fake
// activities: the wait for approval (approve, timeout, abort, a worker restart), the wait for
// the cut-over time (not before it; `approve` ends it early), both in order, a fleet's parent.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { dataConverterFor } from '../../src/temporal/codec';
import { WORKFLOW_BUNDLE } from '../../src/temporal/worker';
import type { GatePlan } from '../../src/model/gates';
import type { AppTarget } from '../../src/model/target';
import { FLEET_DEPLOY_STEPS, HOST_DEPLOY_STEPS } from '../../workflows/fleetSteps';
import { activitiesOf } from '../../workflows/stepTable';
import type { WorkflowStatus } from '../../workflows/status';
import { deploy, fakes, statusOf, TARGET, VERSION, waitForStatus, withFakeWorker } from '../helpers/deployFakes';
import { startTestEnv, TEST_CODEC_KEY } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestEnv();
});
after(async () => {
  await env?.teardown();
});

const handleOf = (id: string) => env.client.workflow.getHandle(id);
const APPROVAL: GatePlan = { approval: { timeoutMs: 60_000 } };
const stepNames = (s: WorkflowStatus) => s.steps.map((x) => x.name);

/** Fakes whose switchTraffic records when it ran. */
function timedFakes() {
  const f = fakes({}, 'blue');
  const switched: number[] = [];
  const sw = f.acts.switchTraffic!;
  f.acts.switchTraffic = async (...a) => (switched.push(Date.now()), sw(...a));
  return { ...f, switched };
}

describe('wait for approval (deploy --approve)', () => {
  test('waits after the health check with the old slot serving; approve lets it switch and records who and why', async () => {
    const { calls, acts } = fakes({}, 'blue');
    const { status } = await deploy(env, acts, {
      input: { gates: APPROVAL },
      during: async (id) => {
        const waiting = await waitForStatus(handleOf(id), (s) => s.gate?.step === 'awaitApproval');
        assert.equal(waiting.gate!.until, waiting.gate!.since + 60_000);
        assert.equal(waiting.currentStep, 'awaitApproval');
        assert.equal(waiting.state, 'running');
        assert.equal(waiting.steps.find((s) => s.name === 'checkHealth')?.state, 'done');
        assert.ok(!calls.some((c) => /switchTraffic|stopSlot|destroySlot/.test(c)), `nothing switched or stopped while waiting: ${calls.join(' ')}`);
        await handleOf(id).signal('approve', { by: 'ops@laptop', note: 'smoke test passed' });
      },
    });
    assert.equal(status?.state, 'completed', calls.join(' '));
    assert.deepEqual({ by: status!.approval?.by, note: status!.approval?.note }, { by: 'ops@laptop', note: 'smoke test passed' });
    const step = status!.steps.find((s) => s.name === 'awaitApproval')!;
    assert.equal(step.state, 'done');
    assert.equal(step.note, 'approved by ops@laptop: smoke test passed');
    assert.equal(status!.gate, undefined, 'no wait left in the status');
    // its own step, right after the health check
    const names = stepNames(status!);
    assert.equal(names[names.indexOf('checkHealth') + 1], 'awaitApproval');
    assert.ok(!names.includes('awaitCutover'), 'only the gates the input asks for');
  });

  test('an approve with no input (the Web UI) works; one sent while nothing waits changes nothing', async () => {
    const f = fakes({}, 'blue');
    // an approve sent during the build (a stray Web UI signal) must not pre-approve the switch
    let early: (() => Promise<void>) | undefined;
    const build = f.acts.buildRelease!;
    f.acts.buildRelease = async (...a) => (await early?.(), build(...a));
    const { status } = await deploy(env, f.acts, {
      input: { gates: APPROVAL },
      during: async (id) => {
        early = () => handleOf(id).signal('approve', { by: 'too-early' });
        const waiting = await waitForStatus(handleOf(id), (s) => s.gate?.step === 'awaitApproval');
        await new Promise((r) => setTimeout(r, 300));
        assert.equal((await waitForStatus(handleOf(id), () => true)).gate?.step, 'awaitApproval', `still waiting: ${JSON.stringify(waiting.gate)}`);
        await handleOf(id).signal('approve');
      },
    });
    assert.equal(status?.state, 'completed');
    assert.equal(status?.approval?.by, 'someone');
  });

  test('no approval within approval_timeout: the deploy is undone with a clear message, traffic never moved', async () => {
    const { calls, acts, tookTraffic } = fakes({}, 'blue');
    const { error } = await deploy(env, acts, { input: { gates: { approval: { timeoutMs: 1500 } } } });
    assert.ok(error, 'the deploy failed');
    assert.match(
      error.cause!.message,
      /deploy of my_app aaaaaaaaaaaa failed on 192\.0\.2\.1: wait for approval failed: no approval came within 1\.5s \(approval_timeout\)\. Restored: remove the green slot\./,
    );
    const s = statusOf(error);
    assert.equal(s.steps.find((x) => x.name === 'awaitApproval')?.errorType, 'ApprovalTimedOut');
    assert.ok(!calls.some((c) => c.startsWith('switchTraffic')), calls.join(' '));
    assert.deepEqual(tookTraffic, [false], 'the new slot never served: removed without a drain');
  });

  test('abort during the wait undoes the deploy as usual', async () => {
    const { calls, acts } = fakes({}, 'blue');
    const { error } = await deploy(env, acts, {
      input: { gates: APPROVAL },
      during: async (id) => {
        await waitForStatus(handleOf(id), (s) => s.gate?.step === 'awaitApproval');
        await handleOf(id).signal('abort', { by: 'ops@laptop' });
      },
    });
    assert.match(error!.cause!.message, /aborted by ops@laptop on 192\.0\.2\.1: during wait for approval\. Restored: remove the green slot\./);
    assert.equal(statusOf(error).steps.find((s) => s.name === 'awaitApproval')?.state, 'cancelled');
    assert.ok(!calls.some((c) => c.startsWith('switchTraffic')));
    assert.deepEqual(calls.slice(-1), ['destroySlot(green)']);
  });

  test('a worker restart during the wait loses nothing: the approval reaches the new worker, no step runs twice', async () => {
    const { calls, acts } = fakes({}, 'blue');
    const taskQueue = `gate-restart-${process.pid}-${Date.now()}`;
    const id = `deploy-${taskQueue}`;
    const worker = () =>
      Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowBundle: { codePath: WORKFLOW_BUNDLE },
        activities: acts,
        dataConverter: dataConverterFor(TEST_CODEC_KEY),
      });
    const w1 = await worker();
    const { handle, gate } = await w1.runUntil(async () => {
      const h = await env.client.workflow.start('deployWorkflow', {
        taskQueue,
        workflowId: id,
        args: [{ target: TARGET, version: VERSION, ref: 'HEAD', startedBy: 't', gates: APPROVAL }],
      });
      return { handle: h, gate: (await waitForStatus(h, (s) => s.gate?.step === 'awaitApproval')).gate };
    });
    // no worker at all when the approval comes: it waits in the history
    await handle.signal('approve', { by: 'ops@laptop', note: 'after the restart' });
    const w2 = await worker();
    const result = (await w2.runUntil(handle.result())) as WorkflowStatus;
    assert.equal(result.state, 'completed');
    assert.equal(result.approval?.note, 'after the restart');
    assert.equal(result.steps.find((s) => s.name === 'awaitApproval')?.startedAt, gate!.since, 'the same wait, replayed');
    for (const step of ['uploadSource', 'buildRelease', 'createSlotJail', 'checkHealth', 'switchTraffic'])
      assert.equal(calls.filter((c) => c.startsWith(step)).length, 1, `${step} once: ${calls.join(' ')}`);
  });
});

describe('wait for the cut-over time (deploy --at)', () => {
  test('the switch waits for the instant and not a moment less', async () => {
    const { calls, acts, switched } = timedFakes();
    const at = Date.now() + 4000;
    const { status } = await deploy(env, acts, {
      input: { gates: { cutover: { at, label: '2026-12-01 02:00 Europe/Madrid' } } },
      during: async (id) => {
        const waiting = await waitForStatus(handleOf(id), (s) => s.gate?.step === 'awaitCutover');
        assert.equal(waiting.gate!.until, at);
        assert.equal(waiting.gate!.cutover, '2026-12-01 02:00 Europe/Madrid');
      },
    });
    assert.equal(status?.state, 'completed', calls.join(' '));
    assert.equal(switched.length, 1);
    assert.ok(switched[0]! >= at, `switched ${at - switched[0]!} ms before the cut-over time`);
    assert.equal(status!.steps.find((s) => s.name === 'awaitCutover')?.note, 'until 2026-12-01 02:00 Europe/Madrid');
  });

  test('approve during the wait switches now (approve --now)', async () => {
    const { acts, switched } = timedFakes();
    const at = Date.now() + 600_000;
    const { status } = await deploy(env, acts, {
      input: { gates: { cutover: { at, label: 'later' } } },
      during: async (id) => {
        await waitForStatus(handleOf(id), (s) => s.gate?.step === 'awaitCutover');
        await handleOf(id).signal('approve', { by: 'ops@laptop' });
      },
    });
    assert.equal(status?.state, 'completed');
    assert.ok(switched[0]! < at);
    assert.equal(status!.steps.find((s) => s.name === 'awaitCutover')?.note, 'switched before later: approved now by ops@laptop');
  });

  test('with both: the approval first, then the time; abort during the time undoes the deploy', async () => {
    const { calls, acts } = fakes({}, 'blue');
    const seen: string[] = [];
    const { error } = await deploy(env, acts, {
      input: { gates: { approval: { timeoutMs: 60_000 }, cutover: { at: Date.now() + 600_000, label: 'later' } } },
      during: async (id) => {
        const s = await waitForStatus(handleOf(id), (x) => x.gate !== undefined);
        seen.push(s.gate!.step);
        await handleOf(id).signal('approve', { by: 'ops@laptop', note: 'go at night' });
        const t = await waitForStatus(handleOf(id), (x) => x.gate?.step === 'awaitCutover');
        seen.push(t.gate!.step);
        assert.equal(t.approval?.by, 'ops@laptop', 'the approval is in the status while the time is awaited');
        await handleOf(id).signal('abort', { by: 'ops@laptop' });
      },
    });
    assert.deepEqual(seen, ['awaitApproval', 'awaitCutover']);
    const names = stepNames(statusOf(error));
    assert.deepEqual(names.slice(names.indexOf('checkHealth'), names.indexOf('switchTraffic') + 1), [
      'checkHealth',
      'awaitApproval',
      'awaitCutover',
      'switchTraffic',
    ]);
    assert.match(error!.cause!.message, /aborted by ops@laptop on 192\.0\.2\.1: during wait for the cut-over time\. Restored: remove the green slot\./);
    assert.ok(!calls.some((c) => c.startsWith('switchTraffic')));
  });
});

describe('a fleet', () => {
  const FLEET: AppTarget = {
    ...TARGET,
    fleet: {
      hosts: ['192.0.2.1', '192.0.2.2'].map((host) => ({ host, port: 22, user: 'root', labels: [], roles: ['web'] })),
      primaryRole: 'web',
      buildHost: '192.0.2.1',
      boot: { limit: { count: 1 }, waitMs: 0 },
    },
  };

  test('the parent waits for approval with every host prepared and none switched; approve switches them all', async () => {
    const calls: string[] = [];
    const acts: Record<string, (...a: unknown[]) => Promise<unknown>> = {};
    for (const act of new Set([...activitiesOf(FLEET_DEPLOY_STEPS), ...activitiesOf(HOST_DEPLOY_STEPS)])) {
      acts[act] = async (...args: unknown[]) => {
        const host = (args[0] as AppTarget).server.host;
        calls.push(`${act}@${host}`);
        if (act === 'preflightHost') return { host, release: '14.3-RELEASE', major: 14, arch: 'amd64', problems: [] };
        if (act === 'chooseSlot') return { next: 'green', active: 'blue', changed: false, note: 'blue is live' };
        return { changed: true, note: `did ${act}` };
      };
    }
    const status = await withFakeWorker(env, acts, async (taskQueue) => {
      const id = `fleet-gate-${taskQueue}`;
      const h = await env.client.workflow.start('fleetDeployWorkflow', {
        taskQueue,
        workflowId: id,
        args: [{ target: FLEET, version: VERSION, ref: 'HEAD', startedBy: 't', gates: APPROVAL }],
      });
      const waiting = await waitForStatus(h, (s) => s.gate?.step === 'awaitApproval');
      assert.deepEqual(
        waiting.hosts?.map((x) => x.state),
        ['prepared', 'prepared'],
      );
      assert.equal(calls.filter((c) => c.startsWith('checkHealth')).length, 2);
      assert.ok(!calls.some((c) => c.startsWith('switchTraffic')), calls.join(' '));
      await h.signal('approve', { by: 'ops@laptop', note: 'fleet ok' });
      return (await h.result()) as WorkflowStatus;
    });
    assert.equal(status.state, 'completed');
    assert.equal(status.approval?.note, 'fleet ok');
    assert.equal(calls.filter((c) => c.startsWith('switchTraffic')).length, 2);
  });
});

test('a deploy without gates has no gate steps (its history is as before gates)', async () => {
  const { status } = await deploy(env, fakes({}, 'blue').acts);
  assert.ok(!stepNames(status!).some((n) => n === 'awaitApproval' || n === 'awaitCutover'));
  assert.equal(status!.approval, undefined);
});
