// An upgrade with a deploy in flight: a deploy held (on_failure: hold) by the previous
// release's workflow code — its bundle kept in test/fixtures/upgrade/ — is finished by a
// worker running the current code, after the operator's retry. The current worker has no
// cache of the run: it replays the history the previous release wrote, so a change to the
// workflow that breaks that replay fails here (docs/architecture.md, "Changing workflow code").
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { dataConverterFor } from '../../src/temporal/codec';
import { createWorker, WORKFLOW_BUNDLE } from '../../src/temporal/worker';
import type { WorkflowStatus } from '../../workflows/status';
import { fakes, startDeploy, TARGET, waitForStatus, type Mode } from '../helpers/deployFakes';
import { failureMessage, startTestEnv, TEST_CODEC_KEY, testSettings } from '../helpers/temporal';
import { REPO_ROOT } from '../helpers/paths';
import { within } from '../helpers/within';

/** The previous release (see test/fixtures/upgrade/README.md). */
const PREVIOUS = { commit: '9c79813', bundle: path.join(REPO_ROOT, 'test', 'fixtures', 'upgrade', 'workflow-bundle-9c79813.js.gz') };
const { EventType } = temporal.api.enums.v1;

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestEnv();
});
after(async () => env?.teardown());

/** Rejects with the first failed workflow task of the run (a replay that does not match its history fails its task, then retries for ever). */
async function failedWorkflowTask(workflowId: string, done: Promise<unknown>): Promise<never> {
  let over = false;
  void done.finally(() => (over = true)).catch(() => undefined);
  for (;;) {
    if (over) return new Promise<never>(() => undefined);
    const events = (await env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    const failed = events.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED);
    if (failed) throw new Error(`a workflow task failed on the upgraded worker: ${await failureMessage(failed.workflowTaskFailedEventAttributes?.failure)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test(`a deploy held by the previous release (${PREVIOUS.commit}) completes after the worker is upgraded and the operator retries`, async () => {
  const mode: Mode = { fail: 'runMigrations' };
  const { calls, acts } = fakes(mode, 'blue');
  const taskQueue = `upgrade-${Date.now()}`;
  const workflowId = `deploy-${taskQueue}`;

  const previous = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    identity: `previous-release-${PREVIOUS.commit}`,
    workflowBundle: { code: gunzipSync(readFileSync(PREVIOUS.bundle)).toString('utf8') },
    activities: acts,
    dataConverter: dataConverterFor(TEST_CODEC_KEY),
  });
  const handle = await previous.runUntil(async () => {
    const h = await startDeploy(env, taskQueue, workflowId, { ...TARGET, onFailure: 'hold' });
    const held = await waitForStatus(h, (s) => s.state === 'held');
    assert.equal(held.held?.step, 'runMigrations');
    return h;
  });
  // the previous release's worker has stopped; the operator fixes the cause; the current release takes over
  mode.fail = undefined;
  const current = await createWorker(env.nativeConnection, testSettings(env.address, taskQueue), 'worker', acts);
  const status = (await current.runUntil(async () => {
    await handle.signal('retry', { by: 'ops@laptop' });
    const result = handle.result();
    return within(60_000, 'the upgraded deploy to end', Promise.race([result, failedWorkflowTask(workflowId, result)]));
  })) as WorkflowStatus;

  assert.equal(status.state, 'completed', `calls: ${calls.join(' ')}`);
  assert.equal(calls.filter((c) => c.startsWith('runMigrations')).length, 2, 'the held step ran again');
  for (const once of ['ensureBuildJail', 'uploadSource', 'chooseSlot', 'buildRelease', 'createSlotJail', 'installRelease', 'writeAppEnv', 'startApp']) {
    assert.equal(calls.filter((c) => c.startsWith(once)).length, 1, `${once} is not repeated`);
  }
  // the drain watching Caddy and the prune after the deploy is recorded are new code reached
  // live, not replayed: they run
  assert.deepEqual(calls.slice(-7), [
    'checkHealth(green)',
    'switchTraffic(green,blue)',
    'verifyThroughCaddy(green)',
    'drainSlot(blue)',
    'stopSlot(blue)',
    'recordDeploy',
    'pruneReleases',
  ]);
  // both releases wrote this history: the previous one up to the hold, the current one from the retry
  const history = await handle.fetchHistory();
  const by = new Set((history.events ?? []).map((e) => e.workflowTaskCompletedEventAttributes?.identity).filter(Boolean));
  assert.ok(by.has(`previous-release-${PREVIOUS.commit}`) && [...by].some((i) => i?.startsWith('alcaide-worker:')), [...by].join(', '));
  // and the whole mixed history replays through the current code
  await Worker.runReplayHistory({ workflowBundle: { codePath: WORKFLOW_BUNDLE }, dataConverter: dataConverterFor(TEST_CODEC_KEY) }, history, workflowId);
});
