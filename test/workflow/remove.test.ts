// RemoveWorkflow on the real dev server with recording fake activities: the steps in order, a
// failure that stops it (nothing undone; a rerun finishes), an abort before the next step.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { REMOVE_STEPS } from '../../workflows/remove';
import type { WorkflowStatus } from '../../workflows/status';
import { statusOf, TARGET, waitForStatus, withFakeWorker } from '../helpers/deployFakes';
import { startTestEnv } from '../helpers/temporal';

// the removal's activities, from its step table (each has its step's name)
const STEPS: string[] = REMOVE_STEPS.map((s) => s.activity);

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestEnv();
});
after(async () => {
  await env?.teardown();
});

/** Fakes that record their calls; `fail` throws, `gate` waits until it is opened. */
function removeFakes(o: { fail?: string; gate?: { step: string; open: Promise<void> } } = {}) {
  const calls: string[] = [];
  const acts = Object.fromEntries(
    STEPS.map((name) => [
      name,
      async () => {
        calls.push(name);
        if (o.fail === name) throw ApplicationFailure.create({ message: `injected failure in ${name}`, type: 'RemoteCommandError', nonRetryable: true });
        if (o.gate?.step === name) await o.gate.open;
        return { changed: true, note: `did ${name}` };
      },
    ]),
  );
  return { calls, acts };
}

async function remove(acts: object, during?: (id: string) => Promise<void>) {
  return withFakeWorker(env, acts, async (taskQueue) => {
    const workflowId = `remove-${taskQueue}`;
    const handle = await env.client.workflow.start('removeWorkflow', { taskQueue, workflowId, args: [{ target: TARGET, startedBy: 'test@ci' }] });
    const d = during?.(workflowId);
    try {
      const status = (await handle.result()) as WorkflowStatus;
      await d;
      return { status };
    } catch (e) {
      await d;
      if (e instanceof WorkflowFailedError) return { error: e };
      throw e;
    }
  });
}

describe('removeWorkflow', () => {
  test('site first (traffic stops), then the jails, the database jail, the claim last', async () => {
    const { calls, acts } = removeFakes();
    const { status } = await remove(acts);
    assert.deepEqual(calls, STEPS);
    assert.equal(status?.kind, 'remove');
    assert.deepEqual(
      status?.steps.map((s) => s.state),
      STEPS.map(() => 'done'),
    );
  });

  test('a failed step ends it there: nothing after it runs, nothing is undone, the message says to run it again', async () => {
    const { calls, acts } = removeFakes({ fail: 'removeAppJails' });
    const { error } = await remove(acts);
    assert.deepEqual(calls, ['removeAppSite', 'removeAppJails']);
    assert.match(
      error?.cause?.message ?? '',
      /removal of my_app \(started by test@ci\) failed on \S+: remove the slot and build jails failed: injected failure in removeAppJails\. What was removed stays removed; `alcaide remove` again finishes it\./,
    );
    assert.deepEqual(
      statusOf(error).steps.map((s) => s.state),
      ['done', 'failed', 'pending', 'pending'],
    );
  });

  test('an abort lets the running step finish and stops before the next one', async () => {
    let open!: () => void;
    const gate = { step: 'removeAppJails', open: new Promise<void>((r) => (open = r)) };
    const { calls, acts } = removeFakes({ gate });
    const { error } = await remove(acts, async (id) => {
      const handle = env.client.workflow.getHandle(id);
      await waitForStatus(handle, (s) => s.currentStep === 'removeAppJails');
      await handle.signal('abort', { by: 'ops@laptop' });
      open();
    });
    assert.deepEqual(calls, ['removeAppSite', 'removeAppJails']);
    assert.match(
      error?.cause?.message ?? '',
      /removal of my_app \(started by test@ci\) aborted by ops@laptop before "remove the database jail \(its data stays\)" on \S+\. What was removed stays removed/,
    );
    assert.deepEqual(
      statusOf(error).steps.map((s) => s.state),
      ['done', 'done', 'skipped', 'skipped'],
    );
  });
});
