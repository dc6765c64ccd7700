// RebuildBuildJailWorkflow on the real dev server with recording fake activities: step order,
// the undo steps for a failure or an abort at every step, the cache note, replay.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { TEST_TARGET } from '../helpers/target';
import { createWorker, WORKFLOW_BUNDLE } from '../../src/temporal/worker';
import { REBUILD_STEPS } from '../../workflows/rebuild';
import type { WorkflowStatus } from '../../workflows/status';
import { rebuildFakes, VERSION } from '../helpers/rebuildFakes';
import { FAKE_HEARTBEAT_THROTTLE, startTestEnv, TEST_CODEC_KEY, testSettings } from '../helpers/temporal';
import { dataConverterFor } from '../../src/temporal/codec';

const STEPS: string[] = REBUILD_STEPS.map((s) => s.name);

let env: TestWorkflowEnvironment;
let n = 0;
before(async () => {
  env = await startTestEnv();
});
after(async () => {
  await env?.teardown();
});

async function rebuild(
  acts: object,
  during?: (workflowId: string) => Promise<void>,
): Promise<{ status?: WorkflowStatus; error?: WorkflowFailedError; workflowId: string }> {
  const taskQueue = `rebuild-test-${process.pid}-${n++}`;
  const worker = await createWorker(env.nativeConnection, testSettings(env.address, taskQueue), 'worker', acts, FAKE_HEARTBEAT_THROTTLE);
  const workflowId = `rebuild-${taskQueue}`;
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.start('rebuildBuildJailWorkflow', {
      taskQueue,
      workflowId,
      args: [{ target: TEST_TARGET, startedBy: 'test@ci' }],
    });
    const d = during?.(workflowId);
    try {
      const status = (await handle.result()) as WorkflowStatus;
      await d;
      return { status, workflowId };
    } catch (e) {
      await d;
      if (e instanceof WorkflowFailedError) return { error: e, workflowId };
      throw e;
    }
  });
}

const cacheNote = (status?: WorkflowStatus) => status?.steps.find((s) => s.name === 'carryBuildCache')?.note;
const statusOf = (e?: WorkflowFailedError) => (e?.cause as ApplicationFailure | undefined)?.details?.[0] as WorkflowStatus;

/** The undo steps a failure at this step must run, in order. */
function expectedUndo(step: string): string[] {
  const i = STEPS.indexOf(step);
  if (step === 'retireOldBuildJail' || i < STEPS.indexOf('createNextBuildJail')) return [];
  if (i >= STEPS.indexOf('swapBuildJail')) return ['restoreOldBuildJail(id)', 'destroyNextBuildJail'];
  return ['destroyNextBuildJail'];
}

describe('rebuildBuildJailWorkflow', () => {
  test('every step in order; the deployed commit is test-built; the rebuild id marks the new root', async () => {
    const { calls, ids, acts } = rebuildFakes();
    const { status, workflowId } = await rebuild(acts);
    assert.equal(status?.state, 'completed');
    assert.equal(status?.kind, 'rebuild');
    assert.equal(status?.version, VERSION);
    assert.deepEqual(calls, [
      'inspectBuildJail',
      'createNextBuildJail(id)',
      'installBuildPackages',
      'refreshHexRebar(false)',
      'carryBuildCache(25)',
      'testBuild(version)',
      'swapBuildJail(id)',
      'retireOldBuildJail',
    ]);
    const runId = (await env.client.workflow.getHandle(workflowId).describe()).runId;
    assert.deepEqual(ids, [runId, runId], 'the new root is marked with the run id, and the swap looks for it');
    assert.equal(cacheNote(status), 'OTP 25 in both: deps/, _build/ and the hex/rebar caches carried over');
  });

  // the note is the product's decision (buildCacheDecision) on the OTP the workflow passed on from inspectBuildJail
  test('a different OTP major drops the cache, with a note in the status', async () => {
    const { calls, acts } = rebuildFakes({ newOtp: 26 });
    const { status } = await rebuild(acts);
    assert.ok(calls.includes('carryBuildCache(25)'), calls.join(' '));
    assert.equal(cacheNote(status), 'OTP 25 → 26: build cache dropped, the next build compiles everything');
  });

  test('the OTP of the build jail in service unknown: the cache is dropped', async () => {
    const { calls, acts } = rebuildFakes({ oldOtp: null });
    const { status } = await rebuild(acts);
    assert.ok(calls.includes('carryBuildCache(undefined)'), calls.join(' '));
    assert.equal(cacheNote(status), 'OTP of the build jail in service unknown, new jail OTP 25: build cache dropped, the next build compiles everything');
  });

  test('nothing deployed yet: the test build gets no version', async () => {
    const { calls, acts } = rebuildFakes({ deployed: false });
    const { status } = await rebuild(acts);
    assert.ok(calls.includes('testBuild(undefined)'), calls.join(' '));
    assert.equal(status?.version, undefined);
  });

  for (const step of STEPS) {
    test(`a failure in ${step} runs exactly the right undo steps`, async () => {
      const { calls, acts } = rebuildFakes({ fail: step });
      const { status, error } = await rebuild(acts);
      const at = calls.findIndex((c) => c.startsWith(step));
      assert.deepEqual(calls.slice(at + 1), expectedUndo(step), calls.join(' '));
      if (step === 'retireOldBuildJail') {
        // the new jail is proven and in service: a leftover old root is recorded, not undone
        assert.equal(status?.state, 'completed');
        assert.equal(status?.steps.find((s) => s.name === step)?.state, 'failed');
        return;
      }
      assert.ok(error, 'the rebuild fails');
      const title = REBUILD_STEPS.find((s) => s.name === step)!.title;
      assert.match(
        error.cause!.message,
        new RegExp(
          `^rebuild of my_app's build jail .*started by test@ci failed on 192\\.0\\.2\\.1: ${title.replace(/[()]/g, '\\$&')} failed: injected failure in ${step}\\. Restored: .*the build jail in service is the old one\\.`,
        ),
      );
      assert.deepEqual(
        (statusOf(error).compensations ?? []).map((c) => c.name),
        expectedUndo(step).map((u) => u.replace(/\(.*/, '')),
      );
    });
  }

  for (const step of ['installBuildPackages', 'testBuild', 'swapBuildJail']) {
    test(`abort during ${step} stops it and undoes only the new jail's changes`, async () => {
      const { calls, acts, reached } = rebuildFakes({ block: step });
      const { error } = await rebuild(acts, async (id) => {
        await reached;
        await env.client.workflow.getHandle(id).signal('abort', { by: 'ops@laptop' });
      });
      assert.ok(error);
      assert.match(error.cause!.message, /aborted by ops@laptop on 192\.0\.2\.1: during /);
      const at = calls.indexOf(`${step}:cancelled`);
      assert.ok(at > 0, calls.join(' '));
      assert.deepEqual(calls.slice(at + 1), expectedUndo(step));
    });
  }

  test('replay: recorded histories run through the current workflow code deterministically', async () => {
    for (const f of [rebuildFakes(), rebuildFakes({ fail: 'testBuild' }), rebuildFakes({ fail: 'swapBuildJail', newOtp: 26 })]) {
      const { workflowId } = await rebuild(f.acts);
      const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
      await Worker.runReplayHistory({ workflowBundle: { codePath: WORKFLOW_BUNDLE }, dataConverter: dataConverterFor(TEST_CODEC_KEY) }, history, workflowId);
    }
  });
});
