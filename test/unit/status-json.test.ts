// `alcaide status --json` prints JSON whatever the state, on the real Temporal dev server:
// no deploy yet, a deploy no worker ever polled for, and one whose worker just stopped (still
// listed as a poller, so the status query runs out its deadline).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { hasWorkflowPollers } from '../../src/temporal/connection';
import { createWorker } from '../../src/temporal/worker';
import { runCliAsync, tempProject } from '../helpers/cli';
import { startTestEnv, TEST_CODEC_MATERIAL, testSettings } from '../helpers/temporal';
import { within } from '../helpers/within';

let env: TestWorkflowEnvironment;
const project = tempProject();
before(async () => {
  env = await startTestEnv();
});
after(async () => {
  await env?.teardown();
  project.cleanup();
});

async function statusJson(app: string, taskQueue: string) {
  writeFileSync(path.join(project.dir, 'deploy.yml'), `app: ${app}\nserver:\n  host: 203.0.113.10\n`);
  const r = await runCliAsync(['status', '--json'], {
    cwd: project.dir,
    env: { TEMPORAL_ADDRESS: env.address, ALCAIDE_TASK_QUEUE: taskQueue, ALCAIDE_CODEC_KEY: TEST_CODEC_MATERIAL, ALCAIDE_MASTER_KEY: '' },
  });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(r.stderr, '');
  return JSON.parse(r.stdout) as { workflowId: string; runId?: string; workflowStatus?: string; state: string; hint?: string; status: unknown };
}

/** A deploy that no worker runs (its input never matters: no task of it is ever taken). */
const startDeploy = (id: string, taskQueue: string) => env.client.workflow.start('deployWorkflow', { taskQueue, workflowId: id, args: [{}] });

test('no deploy yet: JSON saying so', async () => {
  const out = await statusJson('never_deployed', 'status-json-none');
  assert.deepEqual(out, { workflowId: 'alcaide-never_deployed', state: 'no deploy yet', status: null });
});

test('a deploy no worker ever polled for: JSON with "no worker answers" and how to go on', async () => {
  const handle = await startDeploy('alcaide-unpolled', 'status-json-unpolled');
  try {
    const out = await statusJson('unpolled', 'status-json-unpolled');
    assert.equal(out.state, 'no worker answers');
    assert.equal(out.workflowStatus, 'RUNNING');
    assert.equal(out.runId, handle.firstExecutionRunId);
    assert.match(out.hint ?? '', /alcaide deploy --attach/);
    assert.equal(out.status, null);
  } finally {
    await handle.terminate('test over');
  }
});

test('a deploy whose worker just stopped (its poller still listed): JSON once the query runs out', async () => {
  const taskQueue = 'status-json-stale';
  const s = testSettings(env.address, taskQueue);
  const worker = await createWorker(env.nativeConnection, s, 'embedded');
  await worker.runUntil(
    within(
      30_000,
      'the worker is listed as polling',
      (async () => {
        while (!(await hasWorkflowPollers(env.client, s, { includeEmbedded: true }))) await new Promise((r) => setTimeout(r, 100));
      })(),
    ),
  );
  const handle = await startDeploy('alcaide-stale', taskQueue);
  try {
    assert.ok(await hasWorkflowPollers(env.client, s, { includeEmbedded: true }), 'the stopped worker still looks present');
    const out = await statusJson('stale', taskQueue);
    assert.equal(out.state, 'no worker answers');
    assert.equal(out.workflowStatus, 'RUNNING');
    assert.equal(out.status, null);
  } finally {
    await handle.terminate('test over');
  }
});
