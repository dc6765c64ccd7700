// FleetDeployWorkflow on the real dev server with fake activities that record, per host, what
// ran and when: one build, copies to the others, migrations once, batched switches, and a
// fleet that ends on one version — every host back on its previous slot after any failure or
// abort before the last switch.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { AppTarget } from '../../src/model/target';
import type { FleetSpec } from '../../src/model/fleet';
import { activitiesOf } from '../../workflows/stepTable';
import { FLEET_DEPLOY_STEPS, FLEET_ROLLBACK_STEPS, HOST_DEPLOY_STEPS, HOST_ROLLBACK_STEPS } from '../../workflows/fleetSteps';
import type { WorkflowStatus } from '../../workflows/status';
import { statusOf, VERSION, waitForStatus, withFakeWorker } from '../helpers/deployFakes';
import { TEST_TARGET } from '../helpers/target';
import { startTestEnv, TEST_CODEC_MATERIAL } from '../helpers/temporal';
import { runCliAsync, tempProject } from '../helpers/cli';

const WEB = ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4'];
const JOBS = '192.0.2.9';

function fleetTarget(o: Partial<FleetSpec> = {}, t: Partial<AppTarget> = {}): AppTarget {
  return {
    ...TEST_TARGET,
    ...t,
    fleet: {
      hosts: [
        ...WEB.map((host) => ({ host, port: 22, user: 'root', labels: [], roles: ['web'] })),
        { host: JOBS, port: 22, user: 'root', labels: [], roles: ['worker'] },
      ],
      primaryRole: 'web',
      buildHost: WEB[1]!,
      boot: { limit: { count: 1 }, waitMs: 0 },
      ...o,
    },
  };
}

interface Call {
  host: string;
  act: string;
  at: number;
  /** the slot argument(s) */
  slots: string;
}

/**
 * Fakes of every activity the fleet parent and its children schedule; `fail` is "host:activity";
 * `unreachable`: "host:activity" → how many calls fail (at once: no attempts to wait through).
 */
function fleetFakes(o: { fail?: string; block?: string; previous?: (host: string) => string; unreachable?: Record<string, number> } = {}) {
  const calls: Call[] = [];
  const acts: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  let release: () => void = () => undefined;
  const blocked = new Promise<void>((r) => (release = r));
  let reached: () => void = () => undefined;
  const atBlock = new Promise<void>((r) => (reached = r));
  const tables = [FLEET_DEPLOY_STEPS, HOST_DEPLOY_STEPS, FLEET_ROLLBACK_STEPS, HOST_ROLLBACK_STEPS];
  for (const act of new Set(tables.flatMap((table) => activitiesOf(table)))) {
    acts[act] = async (...args: unknown[]) => {
      const t = args[0] as AppTarget;
      const host = act === 'copyRelease' ? (args[1] as AppTarget).server.host : t.server.host;
      calls.push({ host, act, at: Date.now(), slots: args.filter((a) => a === 'blue' || a === 'green').join(',') });
      if (o.fail === `${host}:${act}`)
        throw ApplicationFailure.create({ message: `injected failure in ${act} on ${host}`, type: 'HealthCheckFailed', nonRetryable: true });
      const down = o.unreachable?.[`${host}:${act}`];
      if (down) {
        o.unreachable![`${host}:${act}`] = down - 1;
        throw ApplicationFailure.create({ message: `injected: ${host} unreachable`, type: 'SshConnectionError', nonRetryable: true });
      }
      if (o.block === `${host}:${act}`) {
        reached();
        await blocked;
      }
      if (act === 'preflightHost') return { host, release: '14.3-RELEASE', major: 14, arch: 'amd64', problems: [] };
      if (act === 'chooseRollback') return { to: 'blue', from: 'green', version: o.previous?.(host) ?? VERSION, changed: false, note: 'blue holds it' };
      if (act === 'chooseSlot') return { next: 'green', active: 'blue', changed: false, note: 'blue is live, deploying to green' };
      return { changed: true, note: `did ${act}` };
    };
  }
  return { calls, acts, release: () => release(), atBlock };
}

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestEnv();
});
after(async () => env?.teardown());

async function fleetDeploy(acts: object, target: AppTarget, during?: (id: string) => Promise<void>, type = 'fleetDeployWorkflow', input: object = {}) {
  return withFakeWorker(env, acts, async (taskQueue) => {
    const workflowId = `fleet-deploy-${taskQueue}`;
    const h = await env.client.workflow.start(type, {
      taskQueue,
      workflowId,
      args: [{ target, version: VERSION, ref: 'HEAD', startedBy: 'test@ci', ...input }],
    });
    const d = during?.(workflowId);
    try {
      const status = (await h.result()) as WorkflowStatus;
      await d;
      return { status, workflowId };
    } catch (e) {
      await d;
      if (e instanceof WorkflowFailedError) return { error: e, workflowId };
      throw e;
    }
  });
}

/** In a fake activity: resolves once `pred` holds (polled every 20 ms, heartbeating), or after `ms` with false. */
async function waitFor(pred: () => boolean, ms = 10_000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) {
    if (pred()) return true;
    Context.current().heartbeat();
  }
  return pred();
}

/** A fake build that ends only once every host has begun its slot jail (or after 10 s): it says whether they had. */
function buildAfterJails(calls: Call[], acts: Record<string, (...args: unknown[]) => Promise<unknown>>, o: { fail?: boolean } = {}) {
  const build = acts.buildRelease!;
  const seen = { jailsDuringBuild: false, buildEnded: Infinity };
  acts.buildRelease = async (...a: unknown[]) => {
    const out = await build(...a);
    seen.jailsDuringBuild = await waitFor(() => [...WEB, JOBS].every((h) => calls.some((c) => c.host === h && c.act === 'createSlotJail')));
    seen.buildEnded = Date.now();
    if (o.fail) throw ApplicationFailure.create({ message: 'injected failure in buildRelease', type: 'BuildFailed', nonRetryable: true });
    return out;
  };
  return seen;
}

/** A fake build that runs until it is cancelled (or for 15 s), recorded as buildRelease and buildRelease:cancelled. */
function buildUntilCancelled(calls: Call[]) {
  return async () => {
    calls.push({ host: WEB[1]!, act: 'buildRelease', at: Date.now(), slots: '' });
    const ctx = Context.current();
    for (const end = Date.now() + 15_000; Date.now() < end;) {
      ctx.heartbeat();
      await Promise.race([ctx.cancelled, new Promise((r) => setTimeout(r, 50))]).catch((e: unknown) => {
        calls.push({ host: WEB[1]!, act: 'buildRelease:cancelled', at: Date.now(), slots: '' });
        throw e;
      });
    }
    return { changed: true, note: 'built' };
  };
}

const on = (calls: Call[], host: string) => calls.filter((c) => c.host === host).map((c) => c.act + (c.slots ? `(${c.slots})` : ''));
const first = (calls: Call[], host: string, act: string) => calls.find((c) => c.host === host && c.act === act)?.at ?? Infinity;
const last = (calls: Call[], host: string, act: string) => calls.filter((c) => c.host === host && c.act === act).at(-1)?.at ?? -Infinity;

/** A failure before any switch: no host switched or stopped a slot, every host removed its new slot and put no traffic back. */
function assertBackBeforeAnySwitch(calls: Call[]): void {
  assert.deepEqual(
    calls.filter((c) => ['switchTraffic', 'stopSlot'].includes(c.act)),
    [],
  );
  for (const h of [...WEB, JOBS])
    assert.deepEqual(
      on(calls, h).filter((a) => a.startsWith('destroySlot') || a.startsWith('restoreTraffic')),
      ['destroySlot(green)'],
      h,
    );
}

describe('fleetDeployWorkflow', () => {
  test('one build, copied to every other host; migrations once; web hosts switch one by one; old slots stop only after the last switch', async () => {
    const { calls, acts } = fleetFakes();
    const { status, error } = await fleetDeploy(acts, fleetTarget());
    assert.equal(error, undefined, error?.cause?.message);
    assert.equal(status!.state, 'completed');
    const all = [...WEB, JOBS];
    assert.deepEqual(
      calls.filter((c) => ['ensureBuildJail', 'uploadSource', 'buildRelease'].includes(c.act)).map((c) => `${c.host}:${c.act}`),
      [`${WEB[1]}:ensureBuildJail`, `${WEB[1]}:uploadSource`, `${WEB[1]}:buildRelease`],
      'built once, on the build host',
    );
    assert.deepEqual(
      calls
        .filter((c) => c.act === 'copyRelease')
        .map((c) => c.host)
        .sort(),
      all.filter((h) => h !== WEB[1]).sort(),
    );
    assert.deepEqual(
      calls.filter((c) => c.act === 'runMigrations').map((c) => c.host),
      [WEB[0]],
      "migrations once, on the primary role's first host",
    );
    // every host prepared before any switch; every switch before any old slot stops
    const lastPrepared = Math.max(...all.map((h) => last(calls, h, 'startApp')));
    const firstSwitch = Math.min(...WEB.map((h) => first(calls, h, 'switchTraffic')));
    assert.ok(lastPrepared < firstSwitch, 'no host switched before every host had started the new version');
    for (let i = 1; i < WEB.length; i++) {
      assert.ok(last(calls, WEB[i - 1]!, 'verifyThroughCaddy') < first(calls, WEB[i]!, 'switchTraffic'), `${WEB[i - 1]} verified before ${WEB[i]} switched`);
    }
    const lastVerify = Math.max(...WEB.map((h) => last(calls, h, 'verifyThroughCaddy')));
    assert.ok(
      all.every((h) => first(calls, h, 'stopSlot') > lastVerify),
      'old slots stopped only after every host switched',
    );
    // the copy runs beside the host's first steps: its place among them is not fixed
    assert.deepEqual(
      on(calls, JOBS).filter((a) => a !== 'copyRelease'),
      [
        'preflightHost',
        'chooseSlot',
        'createSlotJail(green)',
        'installRelease(green)',
        'writeAppEnv(green)',
        'startApp(green)',
        'checkRunning(green)',
        'drainSlot(blue)',
        'stopSlot(blue)',
        'recordDeploy',
        'pruneReleases',
      ],
    );
    for (const h of WEB) assert.ok(!on(calls, h).includes('checkRunning(green)'), `${h}, a web host, is checked over HTTP only`);
    assert.deepEqual(
      status!.hosts?.map((h) => h.state),
      all.map(() => 'completed'),
    );
  });

  test('boot.prepare 2: never more than two hosts prepare at once', async () => {
    const { calls, acts } = fleetFakes();
    const create = acts.createSlotJail!;
    acts.createSlotJail = async (...a: unknown[]) => (await new Promise((r) => setTimeout(r, 150)), create(...a));
    const { error } = await fleetDeploy(acts, fleetTarget({ boot: { limit: { count: 1 }, waitMs: 0, prepareAtOnce: 2 } }));
    assert.equal(error, undefined);
    const spans = [...WEB, JOBS].map((h) => [first(calls, h, 'chooseSlot'), Math.max(last(calls, h, 'checkHealth'), last(calls, h, 'startApp'))] as const);
    const most = Math.max(...spans.map(([from]) => spans.filter(([a, b]) => a <= from && from <= b).length));
    assert.equal(most, 2, `hosts preparing at once: ${most}`);
  });

  test('boot.limit 50%: the web hosts switch two at a time', async () => {
    const { calls, acts } = fleetFakes();
    const { error } = await fleetDeploy(acts, fleetTarget({ boot: { limit: { percent: 50 }, waitMs: 300 } }));
    assert.equal(error, undefined);
    const secondBatch = Math.min(first(calls, WEB[2]!, 'switchTraffic'), first(calls, WEB[3]!, 'switchTraffic'));
    assert.ok(last(calls, WEB[0]!, 'verifyThroughCaddy') < secondBatch && last(calls, WEB[1]!, 'verifyThroughCaddy') < secondBatch);
    const batchEnd = Math.max(last(calls, WEB[0]!, 'verifyThroughCaddy'), last(calls, WEB[1]!, 'verifyThroughCaddy'));
    assert.ok(secondBatch - batchEnd >= 300, `boot.wait between batches (${secondBatch - batchEnd} ms)`);
    assert.ok(first(calls, WEB[1]!, 'switchTraffic') < last(calls, WEB[0]!, 'verifyThroughCaddy'), 'the first two switched side by side');
  });

  test('a host that fails before the switch: every host removes its new slot, none switched, none stopped', async () => {
    const { calls, acts } = fleetFakes({ fail: `${WEB[2]}:checkHealth` });
    const { error } = await fleetDeploy(acts, fleetTarget());
    assert.ok(error);
    assert.match(error.cause?.message ?? '', new RegExp(`${WEB[2]}: .*injected failure in checkHealth on ${WEB[2]}`));
    assertBackBeforeAnySwitch(calls);
    const status = statusOf(error);
    assert.deepEqual(
      status.hosts?.map((h) => h.state),
      ['undone', 'undone', 'failed', 'undone', 'undone'],
    );
    assert.equal(status.compensations?.[0]?.title, 'every host back to its previous slot');
  });

  test('a worker host: its release must stay up instead of a health check, and it never switches through Caddy', async () => {
    const { calls, acts } = fleetFakes();
    const { status, error } = await fleetDeploy(acts, fleetTarget());
    assert.equal(error, undefined, error?.cause?.message);
    const jobs = on(calls, JOBS);
    assert.ok(jobs.indexOf('checkRunning(green)') > jobs.indexOf('startApp(green)'), 'checked after it started');
    assert.deepEqual(
      jobs.filter((a) => /^(checkHealth|switchTraffic|verifyThroughCaddy|restoreTraffic)/.test(a)),
      [],
    );
    const lastUp = last(calls, JOBS, 'checkRunning');
    assert.ok(
      WEB.every((h) => first(calls, h, 'switchTraffic') > lastUp),
      'no web host switched before the worker proved it stays up',
    );
    assert.equal(status!.hosts?.find((h) => h.host === JOBS)?.state, 'completed');
  });

  test('a worker whose release does not stay up takes the whole fleet back before any switch', async () => {
    const { calls, acts } = fleetFakes({ fail: `${JOBS}:checkRunning` });
    const { error } = await fleetDeploy(acts, fleetTarget());
    assert.ok(error);
    assert.match(error.cause?.message ?? '', new RegExp(`${JOBS}: .*injected failure in checkRunning on ${JOBS}`));
    assertBackBeforeAnySwitch(calls);
    assert.deepEqual(
      statusOf(error).hosts?.map((h) => h.state),
      ['undone', 'undone', 'undone', 'undone', 'failed'],
    );
  });

  test('a failing host tells the fleet at once: the others go back while its own undo still runs', async () => {
    const { calls, acts, release, atBlock } = fleetFakes({ fail: `${WEB[2]}:checkHealth`, block: `${WEB[2]}:destroySlot` });
    let othersWentBack = false;
    const { error } = await fleetDeploy(acts, fleetTarget(), async () => {
      await atBlock;
      for (const end = Date.now() + 10_000; Date.now() < end && !othersWentBack; await new Promise((r) => setTimeout(r, 50))) {
        othersWentBack = [WEB[0]!, WEB[1]!, WEB[3]!, JOBS].every((h) => on(calls, h).includes('destroySlot(green)'));
      }
      release();
    });
    assert.ok(error);
    assert.ok(othersWentBack, 'every other host removed its new slot while the failed host was still undoing');
  });

  test('a host that fails after others switched: they switch back to their kept slot', async () => {
    const { calls, acts } = fleetFakes({ fail: `${WEB[2]}:verifyThroughCaddy` });
    const { error } = await fleetDeploy(acts, fleetTarget());
    assert.ok(error);
    for (const h of [WEB[0]!, WEB[1]!, WEB[2]!]) {
      assert.deepEqual(
        on(calls, h).filter((a) => a.startsWith('destroySlot') || a.startsWith('restoreTraffic')),
        ['restoreTraffic(blue,green)', 'destroySlot(green)'],
        `${h}: traffic back on blue, then green removed`,
      );
    }
    assert.equal(on(calls, WEB[3]!).filter((a) => a.startsWith('switchTraffic')).length, 0, 'the host after the failure never switched');
    assert.deepEqual(
      on(calls, WEB[3]!).filter((a) => a.startsWith('destroySlot') || a.startsWith('restoreTraffic')),
      ['destroySlot(green)'],
    );
    assert.equal(calls.filter((c) => c.act === 'stopSlot').length, 0, 'no old slot was stopped');
  });

  test("an abort while a host prepares takes every host back, after that host's step ends", async () => {
    const { calls, acts, release, atBlock } = fleetFakes({ block: `${WEB[3]}:installRelease` });
    const { error } = await fleetDeploy(acts, fleetTarget(), async (id) => {
      await atBlock;
      const h = env.client.workflow.getHandle(id);
      await waitForStatus(h, (s) => s.hosts?.filter((x) => x.state === 'prepared').length === 4);
      await h.signal('abort', { by: 'ops@laptop' });
      release();
    });
    assert.ok(error);
    assert.match(error.cause?.message ?? '', /aborted by ops@laptop/);
    for (const h of [...WEB, JOBS]) assert.ok(on(calls, h).includes('destroySlot(green)'), `${h} removed its new slot`);
    assert.equal(calls.filter((c) => c.act === 'switchTraffic').length, 0);
    assert.ok(first(calls, WEB[3]!, 'destroySlot') > last(calls, WEB[3]!, 'installRelease'), 'no undo raced the running install');
  });

  test('each host makes its slot jail while the release builds and installs once the release is on it; a slow copy holds only its own host', async () => {
    const { calls, acts } = fleetFakes();
    const seen = buildAfterJails(calls, acts);
    // the copy to the worker host ends only once the first host has installed (or after 10 s); when each copy ended
    const copied = new Map<string, number>();
    let installedDuringCopy = false;
    const copy = acts.copyRelease!;
    acts.copyRelease = async (...a: unknown[]) => {
      const to = (a[1] as AppTarget).server.host;
      const out = await copy(...a);
      if (to === JOBS) installedDuringCopy = await waitFor(() => first(calls, WEB[0]!, 'installRelease') < Infinity);
      copied.set(to, Date.now());
      return out;
    };
    const { error } = await fleetDeploy(acts, fleetTarget());
    assert.equal(error, undefined, error?.cause?.message);
    assert.ok(seen.jailsDuringBuild, 'every host had begun its slot jail before the build ended');
    for (const h of [...WEB, JOBS]) {
      const arrived = h === WEB[1] ? seen.buildEnded : copied.get(h)!;
      assert.ok(first(calls, h, 'installRelease') >= arrived, `${h} installed only once the release was there`);
    }
    assert.ok(installedDuringCopy, `${WEB[0]} installed while the copy to ${JOBS} ran`);
  });

  test('a build that fails takes every host back: each removes the slot jail it made, none installs', async () => {
    const { calls, acts } = fleetFakes();
    const seen = buildAfterJails(calls, acts, { fail: true });
    const { error } = await fleetDeploy(acts, fleetTarget());
    assert.ok(error);
    assert.ok(seen.jailsDuringBuild);
    assert.match(error.cause?.message ?? '', /build the release failed: injected failure in buildRelease/);
    assert.deepEqual(
      calls.filter((c) => ['copyRelease', 'installRelease', 'switchTraffic'].includes(c.act)),
      [],
    );
    for (const h of [...WEB, JOBS])
      assert.deepEqual(
        on(calls, h).filter((a) => /^(createSlotJail|destroySlot|restoreTraffic)/.test(a)),
        ['createSlotJail(green)', 'destroySlot(green)'],
        h,
      );
    const status = statusOf(error);
    assert.deepEqual(
      status.hosts?.map((h) => h.state),
      [...WEB, JOBS].map(() => 'undone'),
    );
  });

  test('a copy that fails to one host takes the fleet back', async () => {
    const { calls, acts } = fleetFakes({ fail: `${WEB[3]}:copyRelease` });
    const { error } = await fleetDeploy(acts, fleetTarget());
    assert.ok(error);
    assert.match(error.cause?.message ?? '', new RegExp(`copy the release to every other host failed: injected failure in copyRelease on ${WEB[3]}`));
    assert.deepEqual(
      calls.filter((c) => ['switchTraffic', 'stopSlot'].includes(c.act)),
      [],
    );
    for (const h of [...WEB, JOBS]) assert.ok(on(calls, h).includes('destroySlot(green)'), `${h} removed its new slot`);
    assert.equal(on(calls, WEB[3]!).filter((a) => a.startsWith('installRelease')).length, 0, `${WEB[3]} never installed`);
  });

  test("a host whose slot jail fails stops the build (cancelled) and takes every host back; the error names the host's failure", async () => {
    const { calls, acts } = fleetFakes({ fail: `${WEB[2]}:createSlotJail` });
    acts.buildRelease = buildUntilCancelled(calls);
    const { error } = await fleetDeploy(acts, fleetTarget());
    assert.ok(error);
    assert.ok(on(calls, WEB[1]!).includes('buildRelease:cancelled'), 'the build was cancelled');
    assert.match(error.cause?.message ?? '', new RegExp(`prepare every host.* failed: ${WEB[2]}: injected failure in createSlotJail on ${WEB[2]}`));
    assert.deepEqual(
      calls.filter((c) => ['copyRelease', 'installRelease'].includes(c.act)),
      [],
    );
    for (const h of [...WEB, JOBS]) assert.ok(on(calls, h).includes('destroySlot(green)'), `${h} removed its new slot`);
  });

  test('an abort while the release builds cancels the build; every host removes the slot jail it made', async () => {
    const { calls, acts } = fleetFakes();
    acts.buildRelease = buildUntilCancelled(calls);
    const { error } = await fleetDeploy(acts, fleetTarget(), async (id) => {
      const h = env.client.workflow.getHandle(id);
      await waitForStatus(h, (s) => s.currentStep !== undefined && [...WEB, JOBS].every((x) => first(calls, x, 'createSlotJail') < Infinity));
      await h.signal('abort', { by: 'ops@laptop' });
    });
    assert.ok(error);
    assert.match(error.cause?.message ?? '', /aborted by ops@laptop/);
    assert.ok(on(calls, WEB[1]!).includes('buildRelease:cancelled'), 'the build was cancelled');
    assert.deepEqual(
      calls.filter((c) => ['copyRelease', 'installRelease'].includes(c.act)),
      [],
    );
    for (const h of [...WEB, JOBS])
      assert.deepEqual(
        on(calls, h).filter((a) => /^(createSlotJail|destroySlot)/.test(a)),
        ['createSlotJail(green)', 'destroySlot(green)'],
        h,
      );
  });

  test('migrate_before_start: the others start the new version only after the primary migrated', async () => {
    const { calls, acts } = fleetFakes();
    // migrations that take a while, so a host that did not wait for them would start meanwhile
    let migrated = Infinity;
    const migrate = acts.runMigrations!;
    acts.runMigrations = async (...a: unknown[]) => {
      const out = await migrate(...a);
      await new Promise((r) => setTimeout(r, 1000));
      migrated = Date.now();
      return out;
    };
    const t = fleetTarget({}, { release: { ...TEST_TARGET.release, migrateBeforeStart: true } });
    const { error } = await fleetDeploy(acts, t);
    assert.equal(error, undefined);
    for (const h of [...WEB.slice(1), JOBS]) assert.ok(first(calls, h, 'startApp') > migrated, `${h} started after the migrations`);
    assert.ok(first(calls, WEB[0]!, 'startApp') > migrated);
  });

  test('migrate_before_start with boot.prepare 1 and a worker host listed before the primary: the primary prepares first, then the others', async () => {
    const { calls, acts } = fleetFakes();
    const base = fleetTarget({}, { release: { ...TEST_TARGET.release, migrateBeforeStart: true } });
    const hosts = base.fleet!.hosts;
    const t = { ...base, fleet: { ...base.fleet!, hosts: [hosts.at(-1)!, ...hosts.slice(0, -1)], boot: { ...base.fleet!.boot, prepareAtOnce: 1 } } };
    const { error } = await Promise.race([
      fleetDeploy(acts, t),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the deploy never ended: no host could prepare')), 30_000)),
    ]);
    assert.equal(error, undefined, error?.cause?.message);
    assert.ok(
      [...WEB.slice(1), JOBS].every((h) => first(calls, h, 'chooseSlot') > last(calls, WEB[0]!, 'checkHealth')),
      'the others began once the primary was prepared',
    );
  });
});

describe('hooks in a fleet', () => {
  /** Fakes with runHook recorded as hook:NAME, on the parent's target; `fail`: the hook that fails. */
  function withHooks(fail?: string) {
    const f = fleetFakes();
    f.acts.runHook = async (...args: unknown[]) => {
      const run = args[1] as { hook: string; vars: Record<string, string> };
      f.calls.push({ host: (args[0] as AppTarget).server.host, act: `hook:${run.hook}`, at: Date.now(), slots: run.vars.ALCAIDE_HOSTS! });
      if (fail === run.hook) throw ApplicationFailure.create({ message: `injected failure in ${run.hook}`, type: 'HookFailed', nonRetryable: true });
      return { changed: true, note: `ran ${run.hook}` };
    };
    return f;
  }
  const plan = (hooks: string[]) => ({ hooks: { hooks: hooks.map((hook) => ({ hook, local: true, timeoutMs: 60_000 })) } });
  const DEPLOY = ['pre-connect', 'pre-build', 'pre-deploy', 'pre-switch', 'post-switch', 'post-deploy'];

  test('each hook once, in the parent: pre-switch before the first switch, post-switch after the last, before any old slot stops', async () => {
    const { calls, acts } = withHooks();
    const { status, error } = await fleetDeploy(acts, fleetTarget(), undefined, 'fleetDeployWorkflow', plan(DEPLOY));
    assert.equal(error, undefined, error?.cause?.message);
    const acted = calls.map((c) => c.act);
    assert.deepEqual(
      acted.filter((a) => a.startsWith('hook:')),
      DEPLOY.map((h) => `hook:${h}`),
    );
    const at = (a: string) => acted.indexOf(a);
    const lastOf = (a: string) => acted.lastIndexOf(a);
    assert.ok(at('hook:pre-connect') < at('preflightHost'));
    assert.ok(at('hook:pre-deploy') < at('ensureBuildJail') && at('hook:pre-deploy') < at('createSlotJail'), 'before the build and any slot jail');
    assert.ok(at('hook:pre-switch') < at('switchTraffic') && lastOf('checkHealth') < at('hook:pre-switch'));
    assert.ok(lastOf('verifyThroughCaddy') < at('hook:post-switch') && at('hook:post-switch') < at('stopSlot'));
    assert.ok(lastOf('recordDeploy') < at('hook:post-deploy'));
    assert.equal(calls.find((c) => c.act === 'hook:post-deploy')!.slots, [...WEB, JOBS].join(','), 'ALCAIDE_HOSTS: every host');
    assert.deepEqual(
      status!.steps.filter((s) => s.name.endsWith('Hook')).map((s) => s.state),
      DEPLOY.map(() => 'done'),
    );
  });

  test('a failed pre-switch hook takes every host back, none switched; a failed post-switch hook is reported', async () => {
    const pre = withHooks('pre-switch');
    const { error } = await fleetDeploy(pre.acts, fleetTarget(), undefined, 'fleetDeployWorkflow', plan(DEPLOY));
    assert.match(error!.cause!.message, /pre-switch hook failed: injected failure in pre-switch/);
    assert.equal(
      pre.calls.find((c) => c.act === 'switchTraffic'),
      undefined,
    );
    assert.equal(pre.calls.filter((c) => c.act === 'destroySlot').length, WEB.length + 1, 'every host removed its new slot');

    const post = withHooks('post-switch');
    const { status } = await fleetDeploy(post.acts, fleetTarget(), undefined, 'fleetDeployWorkflow', plan(DEPLOY));
    assert.equal(status?.state, 'completed');
    assert.equal(status!.steps.find((s) => s.name === 'postSwitchHook')!.state, 'warned');
    assert.equal(
      post.calls.find((c) => c.act === 'restoreTraffic'),
      undefined,
    );
  });

  test('a fleet rollback: pre-connect, pre-switch, post-switch and post-rollback, once each', async () => {
    const { calls, acts } = withHooks();
    const { error } = await fleetDeploy(
      acts,
      fleetTarget(),
      undefined,
      'fleetRollbackWorkflow',
      plan(['pre-connect', 'pre-switch', 'post-switch', 'post-rollback']),
    );
    assert.equal(error, undefined, error?.cause?.message);
    const acted = calls.map((c) => c.act);
    assert.deepEqual(
      acted.filter((a) => a.startsWith('hook:')),
      ['hook:pre-connect', 'hook:pre-switch', 'hook:post-switch', 'hook:post-rollback'],
    );
    assert.ok(acted.lastIndexOf('recordDeploy') < acted.indexOf('hook:post-rollback'));
  });
});

describe('fleetRollbackWorkflow', () => {
  const rollback = (acts: object, target = fleetTarget()) => fleetDeploy(acts, target, undefined, 'fleetRollbackWorkflow');

  test('every host starts its kept slot before any switches back; the rolled-back slots stop only after the last switch', async () => {
    const { calls, acts } = fleetFakes();
    const { status, error } = await rollback(acts);
    assert.equal(error, undefined, error?.cause?.message);
    assert.equal(status!.version, VERSION);
    const all = [...WEB, JOBS];
    const lastStart = Math.max(...all.map((h) => last(calls, h, 'startSlot')));
    assert.ok(lastStart < Math.min(...WEB.map((h) => first(calls, h, 'switchTraffic'))));
    for (let i = 1; i < WEB.length; i++) assert.ok(last(calls, WEB[i - 1]!, 'verifyThroughCaddy') < first(calls, WEB[i]!, 'switchTraffic'));
    const lastVerify = Math.max(...WEB.map((h) => last(calls, h, 'verifyThroughCaddy')));
    for (const h of all) {
      assert.deepEqual(
        on(calls, h).filter((a) => /^(startSlot|checkRunning|switchTraffic|stopSlot)/.test(a)),
        h === JOBS ? ['startSlot(blue)', 'checkRunning(blue)', 'stopSlot(green)'] : ['startSlot(blue)', 'switchTraffic(blue,green)', 'stopSlot(green)'],
        h,
      );
      assert.ok(first(calls, h, 'stopSlot') > lastVerify, `${h} stopped green after every switch`);
    }
  });

  test('hosts that keep different previous releases: nothing changes', async () => {
    const { calls, acts } = fleetFakes({ previous: (h) => (h === WEB[3] ? 'b'.repeat(40) : VERSION) });
    const { error } = await rollback(acts);
    assert.ok(error);
    assert.match(error.cause?.message ?? '', new RegExp(`the hosts keep different previous releases .*${WEB[3]}: bbbbbbbbbbbb.*nothing was changed`));
    assert.deepEqual(
      calls.filter((c) => !['preflightHost', 'chooseRollback'].includes(c.act)),
      [],
    );
  });

  test('a host that fails after others switched back: every host serves what it served before', async () => {
    const { calls, acts } = fleetFakes({ fail: `${WEB[2]}:verifyThroughCaddy` });
    const { error } = await rollback(acts);
    assert.ok(error);
    // the rollback ends only when every host is back (the hosts' states say so)
    const status = statusOf(error);
    assert.equal(status.compensations?.[0]?.title, 'every host back to the release it served');
    assert.deepEqual(
      status.hosts?.map((h) => h.state),
      ['undone', 'undone', 'failed', 'undone', 'undone'],
    );
    for (const h of [WEB[0]!, WEB[1]!, WEB[2]!]) {
      assert.deepEqual(
        on(calls, h).filter((a) => /^(restoreTraffic|stopSlot)/.test(a)),
        ['restoreTraffic(green,blue)', 'stopSlot(blue)'],
        `${h}: green serves again, blue stopped again`,
      );
    }
    for (const h of [WEB[3]!, JOBS])
      assert.deepEqual(
        on(calls, h).filter((a) => /^(switchTraffic|restoreTraffic|stopSlot)/.test(a)),
        ['stopSlot(blue)'],
        h,
      );
  });
});

describe('a host that cannot be taken back', () => {
  const undoCalls = (calls: Call[], host: string) => on(calls, host).filter((a) => /^(restoreTraffic|destroySlot)/.test(a));

  test('its failed undo step is held for the operator, the parent shows it held and waits; retry runs it again until it goes through: failed, every host restored', async () => {
    // 192.0.2.1 and .2 switched, .3 fails its check through Caddy; .1 cannot put traffic back twice
    const { calls, acts } = fleetFakes({ fail: `${WEB[2]}:verifyThroughCaddy`, unreachable: { [`${WEB[0]}:restoreTraffic`]: 2 } });
    const { error } = await fleetDeploy(acts, fleetTarget(), async (id) => {
      const parent = env.client.workflow.getHandle(id);
      const child = env.client.workflow.getHandle(`${id}@${WEB[0]}`);
      const held = await waitForStatus(
        parent,
        (s) => s.hosts?.[0]?.state === 'held' && [1, 2, 3, 4].every((i) => ['undone', 'failed'].includes(s.hosts![i]!.state)),
      );
      assert.equal(held.state, 'compensating', 'the parent waits for the held host');
      const { since, until, ...h } = held.hosts![0]!.held!;
      assert.deepEqual(h, {
        step: 'restoreTraffic',
        undoOf: 'switch traffic',
        title: 'traffic back to blue',
        error: `injected: ${WEB[0]} unreachable`,
        retries: 0,
      });
      assert.equal(until - since, TEST_TARGET.holdTimeoutMs);
      assert.equal((await waitForStatus(child, (s) => s.state === 'held')).held?.step, 'restoreTraffic', "the host's own status is held too");
      assert.deepEqual(undoCalls(calls, WEB[0]!), ['restoreTraffic(blue,green)'], 'nothing after the held undo step runs meanwhile');
      // the Web UI's signal, no input
      await child.signal('retry');
      await waitForStatus(parent, (s) => s.hosts?.[0]?.state === 'held' && s.hosts[0].held?.retries === 1);
      await child.signal('retry', { by: 'ops@laptop' });
    });
    assert.ok(error);
    assert.equal((error.cause as ApplicationFailure).type, 'StepFailed');
    assert.match(error.cause?.message ?? '', /Restored: every host back to its previous slot\.$/);
    assert.doesNotMatch(error.cause?.message ?? '', /not taken back|FAILED/);
    assert.deepEqual(
      statusOf(error).hosts?.map((h) => h.state),
      ['undone', 'undone', 'failed', 'undone', 'undone'],
    );
    assert.deepEqual(undoCalls(calls, WEB[0]!), [
      'restoreTraffic(blue,green)',
      'restoreTraffic(blue,green)',
      'restoreTraffic(blue,green)',
      'destroySlot(green)',
    ]);
    for (const host of [WEB[1]!, WEB[2]!]) assert.deepEqual(undoCalls(calls, host), ['restoreTraffic(blue,green)', 'destroySlot(green)'], host);
  });

  test('a hold that times out: the fleet ends failed, naming the host not taken back', async () => {
    const { calls, acts } = fleetFakes({ fail: `${WEB[2]}:verifyThroughCaddy`, unreachable: { [`${WEB[0]}:restoreTraffic`]: Infinity } });
    const { error } = await fleetDeploy(acts, fleetTarget({}, { holdTimeoutMs: 1500 }));
    assert.ok(error);
    assert.equal((error.cause as ApplicationFailure).type, 'UndoFailed');
    assert.match(
      error.cause?.message ?? '',
      /Restored: FAILED: every host back to its previous slot \(not taken back: 192\.0\.2\.1\)\. Some undo steps failed: check the server/,
    );
    const status = statusOf(error);
    assert.deepEqual(
      status.hosts?.map((h) => `${h.state}${h.notTakenBack ? ' not taken back' : ''}`),
      ['failed not taken back', 'undone', 'failed', 'undone', 'undone'],
    );
    assert.match(status.hosts![0]!.error ?? '', /FAILED: traffic back to blue/);
    // the hold ended without a retry: its other undo step still ran
    assert.deepEqual(undoCalls(calls, WEB[0]!), ['restoreTraffic(blue,green)', 'destroySlot(green)']);
  });

  test('a retry sent to a host that is not held changes nothing: a later failed undo step still waits', async () => {
    const { calls, acts, release, atBlock } = fleetFakes({ block: `${WEB[2]}:verifyThroughCaddy`, unreachable: { [`${WEB[0]}:restoreTraffic`]: 1 } });
    // .3 fails its check through Caddy once the test lets it go on
    const verify = acts.verifyThroughCaddy!;
    acts.verifyThroughCaddy = async (...a: unknown[]) => {
      await verify(...a);
      if ((a[0] as AppTarget).server.host === WEB[2])
        throw ApplicationFailure.create({ message: 'injected failure', type: 'VerifyFailed', nonRetryable: true });
      return { changed: true, note: 'verified' };
    };
    const { error } = await fleetDeploy(acts, fleetTarget(), async (id) => {
      await atBlock;
      const parent = env.client.workflow.getHandle(id);
      const child = env.client.workflow.getHandle(`${id}@${WEB[0]}`);
      // .1 has switched and waits for the order to finish: not held
      await waitForStatus(parent, (s) => s.hosts?.[0]?.state === 'switched');
      await child.signal('retry', { by: 'ops@laptop' });
      release();
      await waitForStatus(parent, (s) => s.hosts?.[0]?.state === 'held');
      await new Promise((r) => setTimeout(r, 1000));
      const still = await waitForStatus(parent, () => true);
      assert.equal(still.hosts?.[0]?.state, 'held', 'the earlier retry did not let the held undo step go on');
      assert.deepEqual(undoCalls(calls, WEB[0]!), ['restoreTraffic(blue,green)']);
      await child.signal('retry');
    });
    assert.ok(error);
    assert.deepEqual(undoCalls(calls, WEB[0]!), ['restoreTraffic(blue,green)', 'restoreTraffic(blue,green)', 'destroySlot(green)']);
  });
});

describe('a host that cannot be taken back during a fleet rollback', () => {
  test('is held the same way, and a retry puts it back on what it served', async () => {
    const { calls, acts } = fleetFakes({ fail: `${WEB[2]}:verifyThroughCaddy`, unreachable: { [`${WEB[0]}:restoreTraffic`]: 1 } });
    const { error } = await fleetDeploy(
      acts,
      fleetTarget(),
      async (id) => {
        await waitForStatus(env.client.workflow.getHandle(id), (s) => s.hosts?.[0]?.state === 'held');
        await env.client.workflow.getHandle(`${id}@${WEB[0]}`).signal('retry');
      },
      'fleetRollbackWorkflow',
    );
    assert.ok(error);
    assert.doesNotMatch(error.cause?.message ?? '', /not taken back|FAILED/);
    assert.deepEqual(
      on(calls, WEB[0]!).filter((a) => /^(restoreTraffic|stopSlot)/.test(a)),
      ['restoreTraffic(green,blue)', 'restoreTraffic(green,blue)', 'stopSlot(blue)'],
    );
  });
});

describe('alcaide retry on a fleet', () => {
  const project = tempProject();
  after(() => project.cleanup());

  test('-H HOST retries that held host only, a host not held is refused, and without -H every held host is retried; abort meanwhile says it changes nothing', async () => {
    const app = 'fleet_retry';
    writeFileSync(path.join(project.dir, 'deploy.yml'), `app: ${app}\nservers:\n${[...WEB, JOBS].map((h) => `  - host: ${h}\n`).join('')}`);
    const alcaide = (...args: string[]) =>
      runCliAsync(args, {
        cwd: project.dir,
        env: { TEMPORAL_ADDRESS: env.address, ALCAIDE_CODEC_KEY: TEST_CODEC_MATERIAL, ALCAIDE_MASTER_KEY: '' },
      });
    const retry = (...args: string[]) => alcaide('retry', ...args);
    // .1 and .2 switched and cannot put traffic back once each
    const { calls, acts } = fleetFakes({
      fail: `${WEB[2]}:verifyThroughCaddy`,
      unreachable: { [`${WEB[0]}:restoreTraffic`]: 1, [`${WEB[1]}:restoreTraffic`]: 1 },
    });
    const target = { ...fleetTarget(), app };
    const outcome = await withFakeWorker(env, acts, async (taskQueue) => {
      const h = await env.client.workflow.start('fleetDeployWorkflow', {
        taskQueue,
        workflowId: `alcaide-${app}`,
        args: [{ target, version: VERSION, ref: 'HEAD', startedBy: 'test@ci' }],
      });
      await waitForStatus(h, (s) => s.hosts?.[0]?.state === 'held' && s.hosts[1]?.state === 'held' && s.hosts[3]?.state === 'undone');

      // the fleet is undoing its steps: an abort would be ignored, and the CLI says so
      const abort = await alcaide('abort');
      assert.equal(abort.code, 0, abort.stdout + abort.stderr);
      assert.match(abort.stdout, /nothing to abort: the deploy of fleet_retry is already undoing its steps/);
      assert.match(abort.stdout, /192\.0\.2\.1 is held on "traffic back to blue": fix its cause, then alcaide retry -H 192\.0\.2\.1/);
      assert.doesNotMatch(abort.stdout, /abort sent/);

      const notHeld = await retry('-H', WEB[3]!);
      assert.equal(notHeld.code, 1, notHeld.stdout + notHeld.stderr);
      assert.match(notHeld.stderr, /no host of 192\.0\.2\.4 of fleet_retry is waiting for an operator \(192\.0\.2\.4: undone\)/);

      const one = await retry('-H', WEB[0]!);
      assert.equal(one.code, 0, one.stdout + one.stderr);
      assert.match(one.stdout, /retry sent to 192\.0\.2\.1: traffic back to blue runs again/);
      assert.doesNotMatch(one.stdout, /192\.0\.2\.2/);
      const later = await waitForStatus(h, (s) => s.hosts?.[0]?.state === 'undone');
      assert.equal(later.hosts?.[1]?.state, 'held', '-H retried only the host it names');

      const all = await retry();
      assert.equal(all.code, 0, all.stdout + all.stderr);
      assert.match(all.stdout, /retry sent to 192\.0\.2\.2/);
      return h.result().then(
        () => assert.fail('the deploy should end failed'),
        (e: unknown) => e as WorkflowFailedError,
      );
    });
    assert.doesNotMatch(outcome.cause?.message ?? '', /not taken back/);
    assert.deepEqual(
      statusOf(outcome).hosts?.map((h) => h.state),
      ['undone', 'undone', 'failed', 'undone', 'undone'],
    );
    for (const host of [WEB[0]!, WEB[1]!]) assert.equal(on(calls, host).filter((a) => a.startsWith('restoreTraffic')).length, 2, host);
  });
});
