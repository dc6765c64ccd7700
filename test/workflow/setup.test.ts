// SetupWorkflow on the real dev server with recording fake activities, then the real CLI
// and real activities against a real sshd that is not FreeBSD.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { AppTarget } from '../../src/model/target';
import { TEST_TARGET, TEST_TARGET_WITH_DB } from '../helpers/target';
import { createWorker } from '../../src/temporal/worker';
import { SETUP_STEPS } from '../../workflows/setupSteps';
import type { WorkflowStatus } from '../../workflows/status';
import { runCliAsync, tempProject } from '../helpers/cli';
import { keygen, startSshd, type TestSshd } from '../helpers/sshd';
import { startTestEnv, testSettings } from '../helpers/temporal';

// with the accessory, so every step runs
const TARGET = TEST_TARGET_WITH_DB;

type Behaviour = (attempt: number) => Promise<{ changed: boolean; note: string }>;

/** Fake activities that record every call (name, attempt) and do what the test says. */
function recorder(behave: Partial<Record<string, Behaviour>> = {}) {
  const calls: string[] = [];
  const attempts = new Map<string, number>();
  const acts: Record<string, (t: AppTarget) => Promise<unknown>> = {};
  for (const s of SETUP_STEPS) {
    acts[s.activity] = async (t: AppTarget) => {
      assert.equal(t.app, 'my_app', 'the target reaches the activity');
      const n = (attempts.get(s.name) ?? 0) + 1;
      attempts.set(s.name, n);
      calls.push(s.name);
      return (behave[s.name] ?? (async () => ({ changed: true, note: `did ${s.name}` })))(n);
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

async function runSetup(acts: object, onStarted?: (id: string) => Promise<void>, target: AppTarget = TARGET): Promise<WorkflowStatus> {
  const taskQueue = `setup-test-${process.pid}-${n++}`;
  const worker: Worker = await createWorker(env.nativeConnection, testSettings(env.address, taskQueue), 'worker', acts);
  const workflowId = `setup-${taskQueue}`;
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.start('setupWorkflow', { taskQueue, workflowId, args: [{ target }] });
    await onStarted?.(workflowId);
    return (await handle.result()) as WorkflowStatus;
  });
}

describe('setupWorkflow', () => {
  test('runs every step once, in order, and reports each outcome', async () => {
    const { calls, acts } = recorder({ enableJails: async () => ({ changed: false, note: 'jails already enabled' }) });
    const status = await runSetup(acts);
    assert.deepEqual(
      calls,
      SETUP_STEPS.map((s) => s.name),
    );
    assert.equal(status.state, 'completed');
    assert.equal(status.host, '192.0.2.1');
    assert.deepEqual(
      status.steps.map((s) => s.state),
      SETUP_STEPS.map((s) => (s.name === 'enableJails' ? 'unchanged' : 'done')),
    );
    assert.ok(status.steps.every((s) => s.startedAt !== undefined && s.endedAt! >= s.startedAt!));
  });

  test('without accessories.postgresql the PostgreSQL step is skipped, not run', async () => {
    const { calls, acts } = recorder();
    const status = await runSetup(acts, undefined, TEST_TARGET);
    assert.deepEqual(
      calls,
      SETUP_STEPS.map((s) => s.name).filter((n) => n !== 'setupPostgres'),
    );
    const step = status.steps.find((s) => s.name === 'setupPostgres');
    assert.equal(step?.state, 'skipped');
    assert.match(step?.note ?? '', /no accessories\.postgresql/);
  });

  for (const failing of SETUP_STEPS) {
    test(`a non-retryable failure in ${failing.name} stops there and names the step`, async () => {
      const { calls, acts } = recorder({
        [failing.name]: async () => {
          throw ApplicationFailure.create({ message: `boom in ${failing.name}`, type: 'PreconditionFailed', nonRetryable: true });
        },
      });
      await assert.rejects(runSetup(acts), (e: unknown) => {
        assert.ok(e instanceof WorkflowFailedError);
        assert.equal(e.cause?.message, `${failing.title} failed on 192.0.2.1: boom in ${failing.name}`);
        const status = (e.cause as ApplicationFailure).details?.[0] as WorkflowStatus;
        assert.equal(status.state, 'failed');
        assert.equal(status.steps.find((s) => s.name === failing.name)?.state, 'failed');
        return true;
      });
      const index = SETUP_STEPS.findIndex((s) => s.name === failing.name);
      assert.deepEqual(
        calls,
        SETUP_STEPS.slice(0, index + 1).map((s) => s.name),
        'nothing after the failed step ran, the failed step ran once',
      );
    });
  }

  test('a transient failure is retried by Temporal and the setup completes', async () => {
    const { calls, acts } = recorder({
      configurePf: async (attempt) => {
        if (attempt === 1) throw new Error('connection reset');
        return { changed: true, note: 'ok' };
      },
    });
    const status = await runSetup(acts);
    assert.equal(status.state, 'completed');
    assert.equal(calls.filter((c) => c === 'configurePf').length, 2);
  });

  test('the status query shows the running step', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { acts } = recorder({
      prepareBaseTemplate: async () => {
        await gate;
        return { changed: true, note: 'extracted' };
      },
    });
    const status = await runSetup(acts, async (id) => {
      const handle = env.client.workflow.getHandle(id);
      for (let i = 0; i < 100; i++) {
        const s = await handle.query<WorkflowStatus>('status');
        if (s.currentStep === 'prepareBaseTemplate') {
          assert.equal(s.steps.find((x) => x.name === 'prepareBaseTemplate')?.state, 'running');
          assert.equal(s.steps.find((x) => x.name === 'setupCaddy')?.state, 'pending');
          release();
          return;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      release();
      assert.fail('never saw prepareBaseTemplate running');
    });
    assert.equal(status.state, 'completed');
  });
});

describe('alcaide setup with real activities', () => {
  let sshd: TestSshd;
  const project = tempProject();
  before(async () => {
    sshd = await startSshd();
  });
  after(async () => {
    await sshd?.stop();
    project.cleanup();
  });

  const writeConfig = (knownHosts: string) =>
    writeFileSync(
      path.join(project.dir, 'deploy.yml'),
      `app: my_app\nserver:\n  host: 127.0.0.1\n  port: ${sshd.port}\nssh:\n  keys: [${sshd.clientKey}]\n  known_hosts: ${knownHosts}\n`,
    );

  test('an unknown host key stops at the first step with the fingerprint and what to do', async () => {
    writeConfig(path.join(project.dir, 'known_hosts'));
    const r = await runCliAsync(['setup'], {
      cwd: project.dir,
      env: { TEMPORAL_ADDRESS: env.address, ALCAIDE_TASK_QUEUE: 'cli-setup-1', SSH_AUTH_SOCK: '' },
      timeoutMs: 90_000,
    });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `error: verify FreeBSD 14\\+ and architecture failed on 127\\.0\\.0\\.1: the host key of \\[127\\.0\\.0\\.1\\]:${sshd.port} is not known \\(ssh-ed25519 ${sshd.hostFingerprint.replace(/[+/]/g, '\\$&')};`,
      ),
    );
    assert.match(r.stderr, /hint: verify the fingerprint, then run again with --trust-new-host/);
  });

  test('--trust-new-host records the key; a server that is not FreeBSD is refused before any change', async () => {
    const known = path.join(project.dir, 'known_hosts');
    writeConfig(known);
    const r = await runCliAsync(['setup', '--trust-new-host'], {
      cwd: project.dir,
      env: { TEMPORAL_ADDRESS: env.address, ALCAIDE_TASK_QUEUE: 'cli-setup-2', SSH_AUTH_SOCK: '' },
      timeoutMs: 90_000,
    });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /error: verify FreeBSD 14\+ and architecture failed on 127\.0\.0\.1: 127\.0\.0\.1 runs "Linux [^"]+", not FreeBSD/);
    assert.match(r.stdout, /✗ verify FreeBSD 14\+ and architecture/);
    assert.equal(readFileSync(known, 'utf8'), `${sshd.knownHostsLine}\n`);
  });

  test('a changed host key stops setup even with --trust-new-host, with the line to check and a warning', async () => {
    const otherKey = path.join(project.dir, 'other');
    keygen(otherKey);
    const other = readFileSync(`${otherKey}.pub`, 'utf8').split(' ');
    const known = path.join(project.dir, 'known_hosts_mismatch');
    writeFileSync(known, `[127.0.0.1]:${sshd.port} ${other[0]} ${other[1]}\n`);
    assert.equal(spawnSync('ssh-keygen', ['-H', '-f', known]).status, 0, 'hashed, as ssh writes it with HashKnownHosts');
    const before = readFileSync(known, 'utf8');
    writeConfig(known);
    const r = await runCliAsync(['setup', '--trust-new-host'], {
      cwd: project.dir,
      env: { TEMPORAL_ADDRESS: env.address, ALCAIDE_TASK_QUEUE: 'cli-setup-3', SSH_AUTH_SOCK: '' },
      timeoutMs: 90_000,
    });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /HOST KEY MISMATCH for \[127\.0\.0\.1\]:\d+: the server presented ssh-ed25519 SHA256:/);
    assert.match(r.stderr, new RegExp(`${known.replace(/[.]/g, '\\.')}:1`));
    assert.match(r.stderr, /hint: do not continue until you know why the server key changed/);
    assert.equal(readFileSync(known, 'utf8'), before, 'known_hosts untouched');
  });

  test('a hashed known_hosts entry of the right key is accepted (setup goes on to the FreeBSD check)', async () => {
    const known = path.join(project.dir, 'known_hosts_hashed');
    writeFileSync(known, `${sshd.knownHostsLine}\n`);
    assert.equal(spawnSync('ssh-keygen', ['-H', '-f', known]).status, 0);
    assert.ok(!readFileSync(known, 'utf8').includes('127.0.0.1'));
    writeConfig(known);
    const r = await runCliAsync(['setup'], {
      cwd: project.dir,
      env: { TEMPORAL_ADDRESS: env.address, ALCAIDE_TASK_QUEUE: 'cli-setup-4', SSH_AUTH_SOCK: '' },
      timeoutMs: 90_000,
    });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /127\.0\.0\.1 runs "Linux [^"]+", not FreeBSD/);
    assert.doesNotMatch(r.stderr, /host key/i);
  });
});
