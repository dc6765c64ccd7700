// RollbackWorkflow on the real dev server with recording fake activities: the steps in order,
// and a failure after the switch whose undo fails too — reported, as a deploy reports it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { failure } from '../../src/failures';
import { ROLLBACK_STEPS } from '../../workflows/rollback';
import type { WorkflowStatus } from '../../workflows/status';
import { activitiesOf } from '../../workflows/stepTable';
import { statusOf, TARGET, VERSION, withFakeWorker } from '../helpers/deployFakes';
import { startTestEnv } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestEnv();
});
after(async () => {
  await env?.teardown();
});

/** Fakes of every activity of the rollback's table: green (the kept slot) comes back, blue was live; `fail` throws. */
function rollbackFakes(fail: string[] = []) {
  const calls: string[] = [];
  const acts = Object.fromEntries(
    activitiesOf(ROLLBACK_STEPS).map((name) => [
      name,
      async (...args: unknown[]) => {
        calls.push(`${name}${args.length > 1 && typeof args[1] === 'string' ? `(${args[1]})` : ''}`);
        if (fail.includes(name)) throw failure('VerifyFailed', `injected failure in ${name}`);
        if (name === 'chooseRollback') return { to: 'green', from: 'blue', version: VERSION, changed: false, note: 'green has the previous release' };
        return { changed: true, note: `did ${name}` };
      },
    ]),
  );
  return { calls, acts };
}

async function rollback(acts: object): Promise<{ status?: WorkflowStatus; error?: WorkflowFailedError }> {
  return withFakeWorker(env, acts, async (taskQueue) => {
    const handle = await env.client.workflow.start('rollbackWorkflow', {
      taskQueue,
      workflowId: `rollback-${taskQueue}`,
      args: [{ target: TARGET, startedBy: 'test@ci' }],
    });
    try {
      return { status: (await handle.result()) as WorkflowStatus };
    } catch (e) {
      if (e instanceof WorkflowFailedError) return { error: e };
      throw e;
    }
  });
}

describe('rollbackWorkflow', () => {
  test('the previous slot back: every step in order, the rolled-back slot stopped', async () => {
    const { calls, acts } = rollbackFakes();
    const { status } = await rollback(acts);
    assert.equal(status?.state, 'completed');
    assert.deepEqual(calls, [
      'chooseRollback',
      'startSlot(green)',
      'checkHealth(green)',
      'switchTraffic(green)',
      'verifyThroughCaddy(green)',
      'drainSlot(blue)',
      'stopSlot(blue)',
      'recordDeploy',
    ]);
  });

  test('an undo step that fails is reported, and the others still run', async () => {
    const { calls, acts } = rollbackFakes(['verifyThroughCaddy']);
    // a final failure type: the undo's ten attempts would take minutes
    acts.restoreTraffic = async () => {
      calls.push('restoreTraffic');
      throw failure('HealthCheckFailed', 'blue will not start');
    };
    const { error } = await rollback(acts);
    assert.deepEqual(calls.slice(-2), ['restoreTraffic', 'stopSlot(green)']);
    assert.match(
      error!.cause!.message,
      /^rollback of my_app \(started by test@ci\) failed on 192\.0\.2\.1: verify through Caddy failed: injected failure in verifyThroughCaddy\. Restored: FAILED: traffic back to blue; stop green again\. Some undo steps failed: check the server \(alcaide status\) before deploying again\.$/,
    );
    assert.deepEqual(
      statusOf(error).compensations?.map((c) => [c.name, c.state]),
      [
        ['restoreTraffic', 'failed'],
        ['stopSlot', 'done'],
      ],
    );
  });
});
