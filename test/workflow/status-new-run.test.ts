// `alcaide status` right after another CLI started a deploy: the run exists but that CLI's own
// worker is still starting. Status waits for it (as long as that CLI would wait for a worker)
// instead of calling the deploy paused; a run no worker ever picks up is called paused.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { latestRun, RunUnavailable, statusOfRun } from '../../src/cli/runStatus';
import { createWorker } from '../../src/temporal/worker';
import { fakes, startDeploy } from '../helpers/deployFakes';
import { startTestEnv, testSettings } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestEnv();
});
after(async () => {
  await env?.teardown();
});

test('a run just started, its worker polling 2 s later: status waits for it and answers "running"', async () => {
  const taskQueue = 'status-new-run';
  const handle = await startDeploy(env, taskQueue, 'alcaide-status-new');
  const { acts, reached } = fakes({ block: 'ensureBuildJail' });
  const worker = await createWorker(env.nativeConnection, testSettings(env.address, taskQueue), 'embedded', acts);
  const polling = new Promise<void>((resolve) => setTimeout(resolve, 2_000)).then(() => worker.runUntil(reached.then(() => handle.terminate('test over'))));
  try {
    const s = testSettings(env.address, taskQueue);
    const latest = await latestRun(env.client, s, 'alcaide-status-new', 'hello');
    assert.equal(latest.running, true);
    assert.equal((await statusOfRun(env.client, latest, 'hello'))?.state, 'running');
  } finally {
    await polling;
  }
});

test('a run no worker picks up is called paused, with how to continue it', async () => {
  const taskQueue = 'status-no-worker';
  const handle = await startDeploy(env, taskQueue, 'alcaide-status-none');
  try {
    await assert.rejects(latestRun(env.client, testSettings(env.address, taskQueue), 'alcaide-status-none', 'hello'), (e) => {
      assert.ok(e instanceof RunUnavailable);
      assert.match(e.message, /^the deployWorkflow of hello is paused: no worker is running$/);
      assert.match(e.hint ?? '', /alcaide deploy --attach/);
      return true;
    });
  } finally {
    await handle.terminate('test over');
  }
});
