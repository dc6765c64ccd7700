// The CLI never waits on a worker that is not there: the real CLI against the real dev
// server, after a long-lived worker stopped cleanly (SIGTERM), was killed (SIGKILL) while it
// ran a step, or is a poller the server still lists for a machine that is gone. In each case
// the deploy's next step runs on the CLI's own worker (its real activities fail at once on
// purpose: the project has no SSH key, so nothing is contacted), and where the CLI had to wait
// it says why in one line. The worker that is killed runs recording fakes in a child process
// (this file, started again with POLLER_TEST_WORKER).
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection, Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { hasWorkflowPollers } from '../../src/temporal/connection';
import { createWorker, installQuietRuntime, WORKFLOW_BUNDLE } from '../../src/temporal/worker';
import { tempProject } from '../helpers/cli';
import { fakes } from '../helpers/deployFakes';
import { CLI } from '../helpers/paths';
import { failureMessage, startTestEnv, TEST_CODEC_MATERIAL, testSettings } from '../helpers/temporal';
import { within } from '../helpers/within';

const EventType = temporal.api.enums.v1.EventType;
const APP = 'poll_app';
const WORKFLOW_ID = `alcaide-${APP}`;
/** a deploy's CLI ends (its own worker fails the step: no SSH key) well within this */
const CLI_DEADLINE_MS = 120_000;

interface FakeWorkerSpec {
  address: string;
  taskQueue: string;
  block: string;
}

/** The child process: a long-lived worker (identity alcaide-worker:PID@host) whose fake `block` step never ends. */
async function fakeWorkerProcess(spec: FakeWorkerSpec): Promise<void> {
  installQuietRuntime('ERROR');
  const connection = await NativeConnection.connect({ address: spec.address });
  const worker = await createWorker(connection, testSettings(spec.address, spec.taskQueue), 'worker', fakes({ block: spec.block }).acts);
  const running = worker.run();
  console.log('polling');
  await running;
}

if (process.env.POLLER_TEST_WORKER) {
  void fakeWorkerProcess(JSON.parse(process.env.POLLER_TEST_WORKER) as FakeWorkerSpec);
} else {
  const project = tempProject('alcaide-poller-');
  const home = path.join(project.dir, 'home');
  let env: TestWorkflowEnvironment;
  const procs: Proc[] = [];
  let queues = 0;

  interface Proc {
    child: ChildProcess;
    output: () => string;
    exited: Promise<number | null>;
  }

  function spawnProc(args: string[], extraEnv: NodeJS.ProcessEnv): Proc {
    const child = spawn(process.execPath, args, { cwd: project.dir, env: { ...process.env, NO_COLOR: '1', ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const exited = once(child, 'exit').then(([code]) => code as number | null);
    const p = { child, output: () => out, exited };
    procs.push(p);
    return p;
  }

  /** The real CLI on `taskQueue`, with no SSH key anywhere (HOME is the project's). */
  const cli = (args: string[], taskQueue: string): Proc =>
    spawnProc([CLI, ...args], {
      HOME: home,
      XDG_CACHE_HOME: path.join(home, '.cache'),
      SSH_AUTH_SOCK: '',
      TEMPORAL_ADDRESS: env.address,
      ALCAIDE_TASK_QUEUE: taskQueue,
      ALCAIDE_CODEC_KEY: TEST_CODEC_MATERIAL,
      ALCAIDE_MASTER_KEY: '',
    });

  async function fakeWorker(taskQueue: string, block: string): Promise<Proc & { identity: string }> {
    const p = spawnProc([__filename], { POLLER_TEST_WORKER: JSON.stringify({ address: env.address, taskQueue, block } satisfies FakeWorkerSpec) });
    return { ...p, identity: await polling(taskQueue, p) };
  }

  /** Identities of the workflow pollers the server lists for `taskQueue`. */
  async function listed(taskQueue: string): Promise<string[]> {
    const r = await env.client.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue }, taskQueueType: 1 });
    return (r.pollers ?? []).map((p) => p.identity ?? '');
  }

  /** Waits until the server lists the long-lived worker `p` as a poller (it says "polling" a moment before); its identity. */
  async function polling(taskQueue: string, p: Proc): Promise<string> {
    const identity = `alcaide-worker:${p.child.pid}@${os.hostname()}`;
    await waitFor(`${identity} polls`, async () => (await listed(taskQueue)).includes(identity), 60_000, p.output);
    return identity;
  }

  async function waitFor(what: string, pred: () => Promise<boolean>, ms: number, seen: () => string = () => ''): Promise<void> {
    await within(
      ms,
      what,
      (async () => {
        while (!(await pred())) await new Promise((r) => setTimeout(r, 100));
      })(),
    ).catch((e: Error) => assert.fail(`${e.message}; output so far:\n${seen()}`));
  }

  async function exitOf(p: Proc, what: string): Promise<number | null> {
    return within(CLI_DEADLINE_MS, `${what} (it waits without a worker?)`, p.exited).catch((e: Error) =>
      assert.fail(`${e.message}; its output:\n${p.output()}`),
    );
  }

  async function pending(name: string): Promise<temporal.api.workflow.v1.IPendingActivityInfo | undefined> {
    const d = await env.client.workflowService.describeWorkflowExecution({ namespace: 'default', execution: { workflowId: WORKFLOW_ID } });
    return d.pendingActivities?.find((a) => a.activityType?.name === name);
  }

  /** Per activity type, its started attempts: who ran them and why the attempt before ended. */
  async function starts(): Promise<
    Record<string, Array<{ identity: string; attempt: number; previousFailureType?: string; previousFailure?: string; retryDelayMs?: number }>>
  > {
    const events = (await env.client.workflow.getHandle(WORKFLOW_ID).fetchHistory()).events ?? [];
    const typeOf = new Map<number, string>();
    const out: Awaited<ReturnType<typeof starts>> = {};
    for (const e of events) {
      if (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
        typeOf.set(Number(e.eventId), e.activityTaskScheduledEventAttributes?.activityType?.name ?? '?');
      const a = e.activityTaskStartedEventAttributes;
      if (a) {
        const name = typeOf.get(Number(a.scheduledEventId))!;
        (out[name] ??= []).push({
          identity: a.identity ?? '',
          attempt: a.attempt ?? 0,
          previousFailureType: a.lastFailure?.applicationFailureInfo?.type ?? (a.lastFailure?.timeoutFailureInfo ? 'timeout' : undefined),
          previousFailure: a.lastFailure ? await failureMessage(a.lastFailure) : undefined,
          retryDelayMs: a.lastFailure?.applicationFailureInfo?.nextRetryDelay
            ? Number(a.lastFailure.applicationFailureInfo.nextRetryDelay.seconds ?? 0) * 1000 +
              (a.lastFailure.applicationFailureInfo.nextRetryDelay.nanos ?? 0) / 1e6
            : undefined,
        });
      }
    }
    return out;
  }

  /** Workflow tasks that waited for a worker on its sticky queue until they timed out (a dead worker's queue). */
  async function stickyTimeouts(): Promise<number> {
    const events = (await env.client.workflow.getHandle(WORKFLOW_ID).fetchHistory()).events ?? [];
    return events.filter(
      (e) =>
        e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT &&
        e.workflowTaskTimedOutEventAttributes?.timeoutType === temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START,
    ).length;
  }

  const nextQueue = () => `poller-test-${process.pid}-${queues++}`;

  before(async () => {
    env = await startTestEnv();
    mkdirSync(home);
    // port 1 on loopback, and no key: a real step fails before any connection
    writeFileSync(path.join(project.dir, 'deploy.yml'), `app: ${APP}\nserver:\n  host: 127.0.0.1\n  port: 1\n`);
    const git = (...a: string[]) =>
      assert.equal(spawnSync('git', ['-C', project.dir, '-c', 'user.name=t', '-c', 'user.email=t@t', ...a]).status, 0, a.join(' '));
    git('init', '-q');
    git('add', 'deploy.yml');
    git('commit', '-qm', 'config');
  });

  // each test starts from no process and no running deploy, whatever the one before left
  afterEach(async () => {
    for (const p of procs.splice(0)) {
      p.child.kill('SIGKILL');
      await p.exited;
    }
    await env?.client.workflow
      .getHandle(WORKFLOW_ID)
      .terminate('test over')
      .catch(() => undefined);
  });

  after(async () => {
    await env?.teardown();
    project.cleanup();
  });

  describe('the CLI never waits on a worker that is not there', () => {
    test('a long-lived worker stopped with SIGTERM is not counted: deploy runs its own worker at once', async () => {
      const q = nextQueue();
      const worker = cli(['worker'], q);
      const identity = await polling(q, worker);
      worker.child.kill('SIGTERM');
      assert.equal(await within(30_000, 'alcaide worker stops on SIGTERM', worker.exited), 0);
      assert.match(worker.output(), /worker stopped/);
      // the trap: the server still lists the stopped worker as a fresh poller
      assert.ok((await listed(q)).includes(identity), 'still listed');
      assert.equal(await hasWorkflowPollers(env.client, testSettings(env.address, q)), false, 'a stopped worker of this machine is not a live poller');

      const deploy = cli(['deploy'], q);
      const code = await exitOf(deploy, 'deploy after the worker stopped');
      assert.equal(code, 1, deploy.output());
      assert.match(deploy.output(), /no SSH key to log in to root@\[127\.0\.0\.1\]:1/, 'its own worker ran the first step');
      assert.doesNotMatch(deploy.output(), /running one in this process/, 'it did not wait for the stopped worker first');
      const first = (await starts()).ensureBuildJail?.[0];
      assert.match(first?.identity ?? '', new RegExp(`^alcaide-embedded:${deploy.child.pid}@`));
    });

    test('a poller of another machine that stopped: deploy waits at most 5 s, says so, and runs its own worker', async () => {
      const q = nextQueue();
      // a worker elsewhere that polled a moment ago and stopped cleanly
      const elsewhere = await Worker.create({
        connection: env.nativeConnection,
        taskQueue: q,
        identity: 'alcaide-worker:4242@gone.example',
        workflowBundle: { codePath: WORKFLOW_BUNDLE },
      });
      const ran = elsewhere.run();
      await waitFor('the other machine polls', async () => hasWorkflowPollers(env.client, testSettings(env.address, q)), 30_000);
      elsewhere.shutdown();
      await ran;
      assert.equal(await hasWorkflowPollers(env.client, testSettings(env.address, q)), true, 'still listed as a live poller');

      const deploy = cli(['deploy'], q);
      const code = await exitOf(deploy, 'deploy with a stale poller of another machine');
      assert.equal(code, 1, deploy.output());
      assert.match(deploy.output(), new RegExp(`! no worker picked up the deploy of ${APP} [0-9a-f]{12} within 5 s: running one in this process`));
      assert.match(deploy.output(), /no SSH key to log in to root@\[127\.0\.0\.1\]:1/, 'its own worker ran the first step');
      assert.match((await starts()).ensureBuildJail?.[0]?.identity ?? '', new RegExp(`^alcaide-embedded:${deploy.child.pid}@`));
    });

    test('the worker running a step is killed (SIGKILL) while deploy follows: the CLI says so and runs the step itself', async () => {
      const q = nextQueue();
      const worker = await fakeWorker(q, 'buildRelease');
      const deploy = cli(['deploy'], q);
      await waitFor(
        'the fake worker runs buildRelease',
        async () => (await pending('buildRelease').catch(() => undefined))?.lastWorkerIdentity === worker.identity,
        90_000,
        deploy.output,
      );
      worker.child.kill('SIGKILL');
      await worker.exited;

      const code = await exitOf(deploy, 'deploy after its worker was killed');
      assert.equal(code, 1, deploy.output());
      assert.ok(deploy.output().includes(`! the worker running buildRelease (${worker.identity}) is gone: running one in this process`), deploy.output());
      assert.match(deploy.output(), /no SSH key to log in to root@\[127\.0\.0\.1\]:1/, 'its own worker ran the step');
      const build = (await starts()).buildRelease ?? [];
      const last = build[build.length - 1];
      assert.match(last?.identity ?? '', new RegExp(`^alcaide-embedded:${deploy.child.pid}@`));
      // taken over: the dead attempt was failed by id, not left to its heartbeat timeout, and
      // the next workflow task went to a live worker, not to the dead one's sticky queue
      assert.equal(last?.previousFailureType, 'WorkerLost', `attempt ${last?.attempt}: ${last?.previousFailure}`);
      assert.equal(await stickyTimeouts(), 0, "a workflow task waited on the dead worker's sticky queue until it timed out");
    });

    test('deploy --attach after the worker was killed mid-step (the documented recovery) runs the step at once', async () => {
      const q = nextQueue();
      const worker = await fakeWorker(q, 'buildRelease');
      const detached = cli(['deploy', '--detach'], q);
      assert.equal(await exitOf(detached, 'deploy --detach'), 0, detached.output());
      await waitFor('the fake worker runs buildRelease', async () => (await pending('buildRelease'))?.lastWorkerIdentity === worker.identity, 90_000);
      worker.child.kill('SIGKILL');
      await worker.exited;

      const attach = cli(['deploy', '--attach'], q);
      const code = await exitOf(attach, 'deploy --attach');
      assert.equal(code, 1, attach.output());
      assert.match(attach.output(), /no SSH key to log in to root@\[127\.0\.0\.1\]:1/, 'its own worker ran the step');
      assert.doesNotMatch(attach.output(), /running one in this process/, 'the killed worker was not counted: no wait at all');
      const build = (await starts()).buildRelease ?? [];
      const last = build[build.length - 1];
      assert.match(last?.identity ?? '', new RegExp(`^alcaide-embedded:${attach.child.pid}@`));
      assert.equal(last?.previousFailureType, 'WorkerLost', `attempt ${last?.attempt}: ${last?.previousFailure}`);
      assert.equal(await stickyTimeouts(), 0, "a workflow task waited on the dead worker's sticky queue until it timed out");
    });

    test('alcaide worker started after a worker was killed mid-step takes the step over before it loads the worker side', async () => {
      const q = nextQueue();
      const dead = await fakeWorker(q, 'buildRelease');
      const detached = cli(['deploy', '--detach'], q);
      assert.equal(await exitOf(detached, 'deploy --detach'), 0, detached.output());
      await waitFor('the fake worker runs buildRelease', async () => (await pending('buildRelease'))?.lastWorkerIdentity === dead.identity, 90_000);
      dead.child.kill('SIGKILL');
      await dead.exited;

      const worker = cli(['worker'], q);
      await waitFor(
        'the new worker runs buildRelease',
        async () => ((await starts()).buildRelease ?? []).some((a) => a.identity.startsWith(`alcaide-worker:${worker.child.pid}@`)),
        90_000,
        worker.output,
      );
      const out = worker.output();
      const took = out.indexOf(`took over from a worker that is gone: ${WORKFLOW_ID} buildRelease`);
      assert.ok(took >= 0, out);
      assert.ok(took < out.indexOf('worker polling'), `taken over before the worker was created:\n${out}`);
      const build = (await starts()).buildRelease ?? [];
      const retried = build[build.length - 1];
      assert.equal(retried?.previousFailureType, 'WorkerLost', `attempt ${retried?.attempt}: ${retried?.previousFailure}`);
      // retried at once, not after the retry policy's first interval
      assert.ok(retried?.retryDelayMs !== undefined && retried.retryDelayMs < 1000, `next retry delay ${retried?.retryDelayMs}`);
      // the step's end reached the new worker at once, not after 2 s on the dead one's sticky queue
      await waitFor(
        'the deploy ends',
        async () => (await env.client.workflow.getHandle(WORKFLOW_ID).describe()).status.name !== 'RUNNING',
        90_000,
        worker.output,
      );
      assert.equal(await stickyTimeouts(), 0, "a workflow task waited on the dead worker's sticky queue until it timed out");
    });
  });
}
