// A workflow on the real Temporal dev server (started from the installed binary), run by
// the worker the product builds, and `alcaide doctor` against that server.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createWorker } from '../../src/temporal/worker';
import type { DoctorResult } from '../../workflows';
import { runCliAsync, tempProject } from '../helpers/cli';
import { startTestEnv, testSettings } from '../helpers/temporal';

describe('on the real Temporal dev server', () => {
  let env: TestWorkflowEnvironment;
  const project = tempProject();
  before(async () => {
    env = await startTestEnv();
  });
  after(async () => {
    await env?.teardown();
    project.cleanup();
  });

  test('doctorWorkflow runs its activity on a worker and completes', async () => {
    const settings = testSettings(env.address, 'test-doctor');
    const worker = await createWorker(env.nativeConnection, settings);
    const result = await worker.runUntil(
      env.client.workflow.execute<() => Promise<DoctorResult>>('doctorWorkflow', { taskQueue: 'test-doctor', workflowId: 'doctor-1' }),
    );
    assert.equal(result.workflowId, 'doctor-1');
    assert.equal(result.worker.pid, process.pid);
    const history = await env.client.workflow.getHandle('doctor-1').fetchHistory();
    const types = (history.events ?? []).map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);
    assert.deepEqual(types, ['workerInfo']);
  });

  test('alcaide doctor: config, secrets, search attributes and a round trip on an embedded worker', async () => {
    writeFileSync(path.join(project.dir, 'deploy.yml'), 'app: my_app\nserver:\n  host: 203.0.113.10\nenv:\n  secret: [SECRET_KEY_BASE]\n');
    const cliEnv = { TEMPORAL_ADDRESS: env.address, ALCAIDE_MASTER_KEY: Buffer.alloc(32, 1).toString('base64'), ALCAIDE_TASK_QUEUE: 'test-doctor-cli' };
    assert.equal((await runCliAsync(['secrets', 'init'], { cwd: project.dir, env: cliEnv })).code, 0);
    const missing = await runCliAsync(['doctor'], { cwd: project.dir, env: cliEnv });
    assert.equal(missing.code, 1, 'a missing secret fails the check');
    assert.match(missing.stdout, /✗ secrets: SECRET_KEY_BASE missing from \.alcaide\/secrets\.enc/);
    await runCliAsync(['secrets', 'set', 'SECRET_KEY_BASE'], { cwd: project.dir, env: cliEnv, input: 'x' });
    const r = await runCliAsync(['doctor'], { cwd: project.dir, env: cliEnv });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /✓ search attributes registered: app, destination, version, slot/);
    assert.match(r.stdout, /✓ workflow round trip on an embedded worker \(task queue test-doctor-cli/);
    const ids: string[] = [];
    for await (const wf of env.client.workflow.list({ query: `WorkflowType = 'doctorWorkflow' AND TaskQueue = 'test-doctor-cli'` })) {
      ids.push(wf.workflowId);
      assert.equal(wf.status.name, 'COMPLETED');
    }
    assert.equal(ids.length >= 1, true, 'the doctor workflow is in the server history');
  });

  test('alcaide doctor with no Temporal server says how to start one', async () => {
    writeFileSync(path.join(project.dir, 'deploy.yml'), 'app: my_app\nserver:\n  host: 203.0.113.10\n');
    const r = await runCliAsync(['doctor'], { cwd: project.dir, env: { TEMPORAL_ADDRESS: '127.0.0.1:1' } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error: cannot reach Temporal at 127\.0\.0\.1:1 \(namespace default\)/);
    assert.match(r.stderr, /hint: start the local dev server with \.\/temporal-dev\.sh/);
  });
});
