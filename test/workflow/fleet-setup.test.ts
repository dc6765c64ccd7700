// FleetSetupWorkflow on the real dev server with fake activities that record which host each
// call was for: every host is checked before any changes, then each is set up by its own
// child workflow; a failing host does not stop the others and is named.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { AppTarget } from '../../src/model/target';
import type { HostCheck } from '../../src/model/fleet';
import { TEST_TARGET } from '../helpers/target';
import { createWorker } from '../../src/temporal/worker';
import { SETUP_STEPS } from '../../workflows/setupSteps';
import { REMOVE_STEPS } from '../../workflows/removeSteps';
import type { WorkflowStatus } from '../../workflows/status';
import { startTestEnv, testSettings } from '../helpers/temporal';

const HOSTS = ['192.0.2.1', '192.0.2.2', '192.0.2.3'];
const FLEET: AppTarget = {
  ...TEST_TARGET,
  fleet: {
    hosts: HOSTS.map((host, i) => ({ host, port: 22, user: 'root', labels: [], roles: i === 2 ? ['worker'] : ['web'] })),
    primaryRole: 'web',
    buildHost: HOSTS[0]!,
    boot: { limit: { count: 1 }, waitMs: 0 },
  },
};

type Check = (host: string) => Promise<HostCheck>;
const fine: Check = async (host) => ({ host, release: '14.3-RELEASE', major: 14, arch: 'amd64', problems: [] });

/** Fake activities recording "host:step" for every call. */
function recorder(o: { check?: Check; failStep?: { host: string; step: string } } = {}) {
  const calls: string[] = [];
  const acts: Record<string, (...a: never[]) => Promise<unknown>> = {
    preflightHost: async (t: AppTarget, opts: { setUp: boolean }) => {
      assert.equal(opts.setUp, false, 'setup does not need the host set up already');
      calls.push(`${t.server.host}:preflight`);
      return (o.check ?? fine)(t.server.host);
    },
  };
  for (const s of SETUP_STEPS) {
    acts[s.activity] = async (t: AppTarget) => {
      calls.push(`${t.server.host}:${s.name}`);
      if (o.failStep?.host === t.server.host && o.failStep.step === s.name) {
        throw ApplicationFailure.create({ message: `boom on ${t.server.host}`, type: 'PreconditionFailed', nonRetryable: true });
      }
      return { changed: true, note: `did ${s.name}` };
    };
  }
  return { calls, acts };
}

let env: TestWorkflowEnvironment;
let n = 0;
before(async () => {
  env = await startTestEnv();
});
after(async () => {
  await env?.teardown();
});

async function runFleetSetup(acts: object, hosts?: string[]): Promise<{ workflowId: string; result: Promise<WorkflowStatus> }> {
  const taskQueue = `fleet-setup-test-${process.pid}-${n++}`;
  const worker = await createWorker(env.nativeConnection, testSettings(env.address, taskQueue), 'worker', acts);
  const workflowId = `fleet-setup-${taskQueue}`;
  const result = worker.runUntil(async () => {
    const handle = await env.client.workflow.start('fleetSetupWorkflow', { taskQueue, workflowId, args: [{ target: FLEET, hosts }] });
    return (await handle.result()) as WorkflowStatus;
  });
  return { workflowId, result };
}

const stepsOn = (calls: string[], host: string) => calls.filter((c) => c.startsWith(`${host}:`) && !c.endsWith(':preflight')).map((c) => c.split(':')[1]);

describe('fleetSetupWorkflow', () => {
  test('checks every host, then sets each up in its own child workflow', async () => {
    const { calls, acts } = recorder();
    const { workflowId, result } = await runFleetSetup(acts);
    const status = await result;
    assert.equal(status.state, 'completed');
    // all checks before the first change anywhere
    const firstChange = calls.findIndex((c) => !c.endsWith(':preflight'));
    assert.deepEqual(calls.slice(0, firstChange).sort(), HOSTS.map((h) => `${h}:preflight`).sort());
    for (const h of HOSTS) {
      assert.deepEqual(
        stepsOn(calls, h),
        SETUP_STEPS.filter((s) => s.name !== 'setupPostgres').map((s) => s.name),
        `every step on ${h}, in order`,
      );
    }
    assert.deepEqual(
      status.hosts?.map((h) => [h.host, h.state, h.workflowId]),
      HOSTS.map((h) => [h, 'completed', `${workflowId}@${h}`]),
    );
    // each child is linked to the parent (the Web UI shows it under the parent)
    const child = await env.client.workflow.getHandle(`${workflowId}@${HOSTS[1]}`).describe();
    assert.equal(child.type, 'setupWorkflow');
    assert.equal(child.raw.workflowExecutionInfo?.parentExecution?.workflowId, workflowId);
    assert.equal(status.steps.find((s) => s.name === 'preflight')?.note, '3 hosts: FreeBSD 14 amd64');
  });

  test('an unfit or unreachable host stops the setup before anything changes on any host', async () => {
    const { calls, acts } = recorder({
      check: async (host) => {
        if (host === HOSTS[1]) throw ApplicationFailure.create({ message: `host key of ${host} changed`, type: 'HostKeyMismatch', nonRetryable: true });
        if (host === HOSTS[2])
          return {
            host,
            release: '13.2-RELEASE',
            major: 13,
            arch: 'amd64',
            problems: [`${host} runs FreeBSD 13.2-RELEASE; alcaide needs FreeBSD 14 or newer`],
          };
        return fine(host);
      },
    });
    const { result } = await runFleetSetup(acts);
    await assert.rejects(result, (e: unknown) => {
      assert.ok(e instanceof WorkflowFailedError);
      const msg = e.cause?.message ?? '';
      assert.match(msg, /nothing was changed on any host/);
      assert.match(msg, new RegExp(`${HOSTS[1]}: unreachable or refused: host key of ${HOSTS[1]} changed`));
      assert.match(msg, new RegExp(`${HOSTS[2]}: ${HOSTS[2]} runs FreeBSD 13\\.2-RELEASE`));
      assert.doesNotMatch(msg, new RegExp(`${HOSTS[0]}:`), 'the fit host is not blamed');
      return true;
    });
    assert.deepEqual(
      calls.filter((c) => !c.endsWith(':preflight')),
      [],
      'no setup step ran on any host',
    );
  });

  test('hosts of different FreeBSD major versions or architectures cannot share one build', async () => {
    const { calls, acts } = recorder({ check: async (host) => ({ ...(await fine(host)), ...(host === HOSTS[2] ? { arch: 'arm64' } : {}) }) });
    const { result } = await runFleetSetup(acts);
    await assert.rejects(result, (e: WorkflowFailedError) => {
      assert.match(e.cause?.message ?? '', /one FreeBSD major version and architecture .*192\.0\.2\.1 14\.3-RELEASE amd64.*192\.0\.2\.3 14\.3-RELEASE arm64/);
      return true;
    });
    assert.deepEqual(
      calls.filter((c) => !c.endsWith(':preflight')),
      [],
    );
  });

  test('a host whose setup fails is named; the others finish', async () => {
    const { calls, acts } = recorder({ failStep: { host: HOSTS[1]!, step: 'configurePf' } });
    const { result } = await runFleetSetup(acts);
    await assert.rejects(result, (e: unknown) => {
      assert.ok(e instanceof WorkflowFailedError);
      assert.match(
        e.cause?.message ?? '',
        /1 of 3 hosts failed \(192\.0\.2\.2: pf NAT for the jail subnet failed on 192\.0\.2\.2: boom on 192\.0\.2\.2\); set up: 192\.0\.2\.1, 192\.0\.2\.3/,
      );
      const status = (e.cause as ApplicationFailure).details?.[0] as WorkflowStatus;
      assert.deepEqual(
        status.hosts?.map((h) => h.state),
        ['completed', 'failed', 'completed'],
      );
      return true;
    });
    assert.equal(stepsOn(calls, HOSTS[1]!).at(-1), 'configurePf', 'the failing host stopped at its failed step');
    assert.equal(stepsOn(calls, HOSTS[2]!).at(-1), 'setupBuildJail', 'another host went to the end');
  });

  test('-H/-R: only the hosts asked for are checked and set up', async () => {
    const { calls, acts } = recorder();
    const { result } = await runFleetSetup(acts, [HOSTS[2]!]);
    const status = await result;
    assert.deepEqual(
      status.hosts?.map((h) => h.host),
      [HOSTS[2]],
    );
    assert.deepEqual([...new Set(calls.map((c) => c.split(':')[0]))], [HOSTS[2]]);
  });
});

describe('fleetRemoveWorkflow', () => {
  test('every host checked, then each removal in its own child; a failing host is named, the others finish', async () => {
    const calls: string[] = [];
    const acts: Record<string, (...a: never[]) => Promise<unknown>> = {
      preflightHost: async (t: AppTarget) => (calls.push(`${t.server.host}:preflight`), fine(t.server.host)),
    };
    for (const s of REMOVE_STEPS) {
      acts[s.activity] = async (t: AppTarget) => {
        calls.push(`${t.server.host}:${s.name}`);
        if (t.server.host === HOSTS[0] && s.name === 'removeAppJails')
          throw ApplicationFailure.create({ message: 'jail busy', type: 'PreconditionFailed', nonRetryable: true });
        return { changed: true, note: `did ${s.name}` };
      };
    }
    const taskQueue = `fleet-remove-test-${process.pid}`;
    const worker = await createWorker(env.nativeConnection, testSettings(env.address, taskQueue), 'worker', acts);
    const workflowId = `fleet-remove-${taskQueue}`;
    const error = await worker.runUntil(async () => {
      const h = await env.client.workflow.start('fleetRemoveWorkflow', { taskQueue, workflowId, args: [{ target: FLEET, startedBy: 'test' }] });
      return h.result().then(
        () => undefined,
        (e: unknown) => e as WorkflowFailedError,
      );
    });
    assert.ok(error instanceof WorkflowFailedError);
    assert.match(error.cause?.message ?? '', /1 of 3 hosts failed \(192\.0\.2\.1: .*jail busy.*\); removed: 192\.0\.2\.2, 192\.0\.2\.3/);
    const firstChange = calls.findIndex((c) => !c.endsWith(':preflight'));
    assert.equal(calls.slice(0, firstChange).length, 3, 'every host checked before any removal');
    for (const h of HOSTS.slice(1))
      assert.deepEqual(
        stepsOn(calls, h),
        REMOVE_STEPS.map((s) => s.name),
        h,
      );
    assert.deepEqual(stepsOn(calls, HOSTS[0]!), ['removeAppSite', 'removeAppJails']);
  });
});
