// A canary deploy on the real dev server with recording fake activities: the shares in turn on
// durable timers, the figures judged at each check, a breach that sends traffic back by itself,
// `promote` and `rollback` while it runs, and a first deploy (no old slot) without one.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { CanaryPlan, SlotFigures } from '../../src/model/canary';
import type { WorkflowStatus } from '../../workflows/status';
import { deploy, fakes, statusOf, waitForStatus } from '../helpers/deployFakes';
import { startTestEnv } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestEnv();
});
after(async () => {
  await env?.teardown();
});

const PLAN: CanaryPlan = { steps: [10, 50], intervalMs: 1500, checkIntervalMs: 500, maxErrorPoints: 5, minRequests: 20 };
const handleOf = (id: string) => env.client.workflow.getHandle(id);

/** The deploy's fakes, with setCanaryShare recording its share and canaryFigures answering `figures()` per check. */
function canaryFakes(figures: (check: number) => { canary: SlotFigures; stable: SlotFigures }, firstDeploy = false) {
  const f = fakes({}, firstDeploy ? undefined : 'blue');
  const acts = f.acts as Record<string, (...args: unknown[]) => Promise<unknown>>;
  let checks = 0;
  const sinces: number[] = [];
  acts.setCanaryShare = async (_t, to, from, percent) => {
    f.calls.push(`setCanaryShare(${String(to)},${String(from)},${String(percent)})`);
    return { changed: true, note: `${String(percent)}%` };
  };
  acts.canaryFigures = async (_t, to, from, since) => {
    f.calls.push(`canaryFigures(${String(to)},${String(from)})`);
    sinces.push(since as number);
    return { changed: false, note: '', ...figures(++checks), until: (since as number) + 1 };
  };
  return { ...f, sinces, checks: () => checks };
}

const healthy = () => ({ canary: { requests: 40, errors: 0 }, stable: { requests: 360, errors: 1 } });

describe('canary', () => {
  test('each share in turn for its interval, the figures read on durable timers, then every client (switchTraffic)', async () => {
    const { calls, acts, sinces } = canaryFakes(healthy);
    let during: WorkflowStatus | undefined;
    const { status, workflowId } = await deploy(env, acts, {
      input: { canary: PLAN },
      during: async (id) => {
        during = await waitForStatus(handleOf(id), (s) => s.canary?.share === 50);
      },
    });
    assert.equal(status?.state, 'completed', calls.join(' '));
    const shares = calls.filter((c) => c.startsWith('setCanaryShare'));
    assert.deepEqual(shares, ['setCanaryShare(green,blue,10)', 'setCanaryShare(green,blue,50)']);
    const i = calls.indexOf('checkHealth(green)');
    const j = calls.indexOf('switchTraffic(green,blue)');
    assert.ok(i < calls.indexOf(shares[0]!) && calls.lastIndexOf('canaryFigures(green,blue)') < j, `order: ${calls.join(' ')}`);
    const checks = calls.filter((c) => c.startsWith('canaryFigures')).length;
    assert.ok(checks >= 4 && checks <= 7, `two or three checks per 1.5 s share, saw ${checks}`);
    // each check counts from where the last one ended: no request twice
    assert.deepEqual(
      sinces.slice(1),
      sinces.slice(0, -1).map((s) => s + 1),
    );
    assert.ok(during?.canary?.stepUntil && during.canary.stepUntil > during.startedAt, 'status says until when the share lasts');
    assert.deepEqual(during?.canary?.steps, [10, 50]);
    const step = status!.steps.find((s) => s.name === 'canary')!;
    assert.equal(step.state, 'done');
    assert.match(step.note ?? '', /^10%, 50% for 1\.5s each: green 0 of \d+ requests 5xx \(0%\), blue \d+ of \d+ requests 5xx/);
    assert.equal(status!.canary?.figures.canary.requests, 40 * checks, 'the figures add up over the checks');
    const history = await handleOf(workflowId).fetchHistory();
    assert.ok((history.events ?? []).filter((e) => e.timerStartedEventAttributes).length >= 4, 'the waits are Temporal timers');
  });

  test('a breach sends every client back to the old slot at once, removes the new one and fails with the figures', async () => {
    // the third check: the new slot failed 20 % of its requests
    // then the last count, after every client went back: 3 more failed on green meanwhile
    const { calls, acts } = canaryFakes((n) =>
      n < 3
        ? healthy()
        : n === 3
          ? { canary: { requests: 50, errors: 10 }, stable: { requests: 450, errors: 0 } }
          : { canary: { requests: 10, errors: 3 }, stable: { requests: 90, errors: 0 } },
    );
    const { error } = await deploy(env, acts, { input: { canary: PLAN } });
    assert.ok(error, calls.join(' '));
    // every client back on blue at once (share 0), the last count, then the undo steps
    assert.deepEqual(calls.slice(-5), [
      'canaryFigures(green,blue)',
      'setCanaryShare(green,blue,0)',
      'canaryFigures(green,blue)',
      'restoreTraffic(blue,green)',
      'destroySlot(green)',
    ]);
    assert.ok(!calls.includes('switchTraffic(green,blue)'), 'never every client on the new slot');
    assert.ok(!calls.includes('stopSlot(blue)'), 'the old slot never stopped');
    // cumulative: 40+40+50 requests on green, 10 of them 5xx
    assert.match(
      error.cause!.message,
      /canary: a share of clients on the new slot failed: at (10|50)% of clients green answered 5xx to 7\.7% of its requests, 7\.5 points above blue's 0\.2% \(the limit is 5 points\): green 10 of 130 requests 5xx \(7\.7%\), blue 2 of 1170 requests 5xx \(0\.2%\); 13 requests were answered 5xx by green before traffic went back\. Restored: traffic back to blue; remove the green slot\./,
    );
    const step = statusOf(error).steps.find((s) => s.name === 'canary')!;
    assert.equal(step.errorType, 'CanaryBreach');
    assert.match(statusOf(error).canary?.breach ?? '', /^green answered 5xx to 7\.7%/);
  });

  test('too few requests on the new slot: no verdict yet, however many of them failed', async () => {
    const { calls, acts } = canaryFakes(() => ({ canary: { requests: 2, errors: 2 }, stable: { requests: 100, errors: 0 } }));
    const { status } = await deploy(env, acts, { input: { canary: { ...PLAN, steps: [10], minRequests: 20, intervalMs: 1000 } } });
    // two checks of 2 requests each: 4 < 20
    assert.equal(status?.state, 'completed', calls.join(' '));
  });

  test('promote gives the new slot every client at once; the remaining shares are skipped', async () => {
    const { calls, acts } = canaryFakes(healthy);
    const t0 = Date.now();
    const { status } = await deploy(env, acts, {
      input: { canary: { ...PLAN, intervalMs: 20_000 } },
      during: async (id) => {
        await waitForStatus(handleOf(id), (s) => s.canary?.share === 10);
        await handleOf(id).signal('promote', { by: 'ops@laptop' });
      },
    });
    assert.equal(status?.state, 'completed', calls.join(' '));
    assert.ok(Date.now() - t0 < 15_000, 'did not wait for the 20 s share');
    assert.deepEqual(
      calls.filter((c) => c.startsWith('setCanaryShare')),
      ['setCanaryShare(green,blue,10)'],
    );
    assert.ok(calls.includes('switchTraffic(green,blue)'));
    assert.match(status!.steps.find((s) => s.name === 'canary')!.note ?? '', /^promoted by ops@laptop at 10%: /);
    assert.equal(status!.canary?.promotedBy, 'ops@laptop');
  });

  test('a promote with no input (the Web UI) works too', async () => {
    const { acts } = canaryFakes(healthy);
    const { status } = await deploy(env, acts, {
      input: { canary: { ...PLAN, intervalMs: 20_000 } },
      during: async (id) => {
        await waitForStatus(handleOf(id), (s) => s.canary?.share === 10);
        await handleOf(id).signal('promote');
      },
    });
    assert.equal(status?.state, 'completed');
    assert.equal(status!.canary?.promotedBy, 'the promote signal');
  });

  test('alcaide rollback during the canary puts every client back on the old slot', async () => {
    const { calls, acts } = canaryFakes(healthy);
    const { error } = await deploy(env, acts, {
      input: { canary: { ...PLAN, intervalMs: 600_000 } },
      during: async (id) => {
        await waitForStatus(handleOf(id), (s) => s.canary?.share === 10);
        await handleOf(id).signal('rollback', { by: 'ops@laptop' });
      },
    });
    assert.match(
      error!.cause!.message,
      /rolled back by ops@laptop on 192\.0\.2\.1: during canary: a share of clients on the new slot\. Restored: traffic back to blue; remove the green slot\./,
    );
    assert.deepEqual(calls.slice(-2), ['restoreTraffic(blue,green)', 'destroySlot(green)']);
  });

  test('the pre-switch hook runs before the canary moves any client, and its row comes before the canary', async () => {
    const { calls, acts } = canaryFakes(healthy);
    const { status } = await deploy(env, acts, {
      input: { canary: { ...PLAN, steps: [10], intervalMs: 500 } },
      hooks: { hooks: [{ hook: 'pre-switch', local: true, timeoutMs: 60_000 }] },
    });
    assert.equal(status?.state, 'completed', calls.join(' '));
    const hook = calls.findIndex((c) => c.startsWith('hook:pre-switch'));
    assert.ok(hook >= 0 && hook < calls.indexOf('setCanaryShare(green,blue,10)'), calls.join(' '));
    const names = status!.steps.map((s) => s.name);
    assert.ok(names.indexOf('preSwitchHook') < names.indexOf('canary'), names.join(' '));
  });

  test('a first deploy has no old slot to share clients with: the canary is skipped', async () => {
    const { calls, acts } = canaryFakes(healthy, true);
    const { status } = await deploy(env, acts, { input: { canary: PLAN } });
    assert.equal(status?.state, 'completed');
    assert.ok(!calls.some((c) => c.startsWith('setCanaryShare') || c.startsWith('canaryFigures')));
    const step = status!.steps.find((s) => s.name === 'canary')!;
    assert.equal(step.state, 'skipped');
    assert.match(step.note ?? '', /no old slot/);
  });

  test('a deploy without a canary has no canary step', async () => {
    const { calls, acts } = canaryFakes(healthy);
    const { status } = await deploy(env, acts, {});
    assert.equal(status?.state, 'completed');
    assert.ok(!status!.steps.some((s) => s.name === 'canary'));
    assert.ok(!calls.some((c) => c.startsWith('setCanaryShare')));
  });
});
