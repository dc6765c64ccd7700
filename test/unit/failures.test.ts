// The failure catalogue (src/failures.ts) is the one source of a failure type: every type
// raised anywhere is in it, activities raise them only through it (so a type is retried in
// every place or in none), the retry policies list its final types, and the CLI's hint goes
// by the failed step's type, never by the text of its message.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import '../helpers/plainOutput';
import { describe, test } from 'node:test';
import { ActivityFailure, ApplicationFailure, ChildWorkflowFailure, RetryState } from '@temporalio/common';
import { Remote } from '../../activities/remote';
import { hintFor } from '../../src/cli/follow';
import { FAILURES, NON_RETRYABLE_FAILURES } from '../../src/failures';
import type { SshConnection } from '../../src/ssh/connection';
import { HostKeyError } from '../../src/ssh/errors';
import { ACTIVITY_OPTIONS } from '../../workflows/saga';
import type { WorkflowStatus } from '../../workflows/status';
import { rootFailureType, undoFailedIn } from '../../workflows/tracker';
import { REPO_ROOT } from '../helpers/paths';

function sources(dir: string): Array<[string, string]> {
  return readdirSync(path.join(REPO_ROOT, dir)).flatMap((f) => {
    const rel = path.join(dir, f);
    if (statSync(path.join(REPO_ROOT, rel)).isDirectory()) return sources(rel);
    return rel.endsWith('.ts') ? [[rel, readFileSync(path.join(REPO_ROOT, rel), 'utf8')] as [string, string]] : [];
  });
}
const PRODUCT = ['src', 'activities', 'workflows'].flatMap(sources);
const TESTS = ['test'].flatMap(sources);
const catalogued = (type: string) => type in FAILURES;

describe('the failure catalogue', () => {
  test('every failure type raised anywhere is in the catalogue', () => {
    const raised = new Map<string, string>();
    for (const [file, text] of PRODUCT) {
      for (const m of text.matchAll(/\bfailure\('(\w+)'/g)) raised.set(m[1]!, file);
      // an Error subclass thrown in an activity reaches Temporal as a failure of its name
      for (const m of text.matchAll(/(?:override name|this\.name) = '(\w+)'/g)) raised.set(m[1]!, file);
    }
    // test fakes raise the product's types, so the workflows treat them as they would the real ones
    for (const [file, text] of TESTS)
      for (const m of text.matchAll(/\btype: '(\w+)'/g)) if (/Failed|Error|Lost|Broken|Interrupted|NotRunning|NotSeen/.test(m[1]!)) raised.set(m[1]!, file);
    assert.ok(raised.size > 20, `found only ${raised.size} failure types`);
    assert.deepEqual(
      [...raised].filter(([t]) => !catalogued(t)).map(([t, f]) => `${t} (${f})`),
      [],
    );
  });

  test('only the catalogue creates failures: retried or final as it says, everywhere', () => {
    const outside = PRODUCT.filter(([file, text]) => file !== path.join('src', 'failures.ts') && /ApplicationFailure\.create\(/.test(text)).map(([f]) => f);
    assert.deepEqual(outside, []);
  });

  test("the retry policies give up at once on exactly the catalogue's final types", () => {
    assert.deepEqual(
      NON_RETRYABLE_FAILURES,
      Object.entries(FAILURES)
        .filter(([, f]) => !f.retryable)
        .map(([t]) => t),
    );
    for (const [retryClass, o] of Object.entries(ACTIVITY_OPTIONS)) assert.deepEqual(o.retry?.nonRetryableErrorTypes, NON_RETRYABLE_FAILURES, retryClass);
  });

  test('a host key problem becomes a failure of its own type, final', async () => {
    for (const [reason, type] of [
      ['unknown', 'HostKeyUnknown'],
      ['mismatch', 'HostKeyMismatch'],
      ['revoked', 'HostKeyRevoked'],
    ] as const) {
      const conn = { run: async () => Promise.reject(new HostKeyError('h', reason, `host key ${reason}`, 'SHA256:x')) } as unknown as SshConnection;
      const err = await new Remote(conn).run('true', 'label').catch((e: unknown) => e);
      assert.ok(err instanceof ApplicationFailure);
      assert.equal(err.type, type);
      assert.equal(err.nonRetryable, true);
    }
  });

  test("a step's failure type is its activity's, under Temporal's wrapper", () => {
    const wrapped = new ActivityFailure(
      'activity failed',
      'checkHealth',
      '1',
      RetryState.NON_RETRYABLE_FAILURE,
      'w',
      ApplicationFailure.create({ type: 'HealthCheckFailed', message: 'GET /health: 500' }),
    );
    assert.equal(rootFailureType(wrapped), 'HealthCheckFailed');
    assert.equal(rootFailureType(new Error('plain')), undefined);
  });

  test('a run whose undo step failed: by its failure type, or by its status for a run that ended before UndoFailed existed; never by its message', () => {
    const status = (undo: 'done' | 'failed') => ({ steps: [], compensations: [{ name: 'restoreTraffic', title: 'traffic back to blue', state: undo }] });
    const child = (cause: ApplicationFailure) =>
      new ChildWorkflowFailure('default', { workflowId: 'alcaide-shop@web1', runId: 'r' }, 'hostDeployWorkflow', RetryState.NON_RETRYABLE_FAILURE, cause);
    assert.equal(undoFailedIn(child(ApplicationFailure.create({ type: 'UndoFailed', message: 'x' }))), true);
    assert.equal(undoFailedIn(child(ApplicationFailure.create({ type: 'StepFailed', message: 'x', details: [status('failed')] }))), true);
    assert.equal(undoFailedIn(child(ApplicationFailure.create({ type: 'StepFailed', message: 'Some undo steps failed', details: [status('done')] }))), false);
    assert.equal(undoFailedIn(new Error('Some undo steps failed')), false);
  });

  test("the CLI's hint goes by the failed step's failure type, not by its message", () => {
    const failedWith = (errorType: string | undefined, error: string): WorkflowStatus => ({
      kind: 'setup',
      app: 'a',
      host: 'h',
      state: 'failed',
      startedAt: 0,
      steps: [{ name: 'verifyHost', title: 'verify', state: 'failed', error, errorType }],
    });
    assert.equal(hintFor(failedWith('HostKeyMismatch', 'anything at all')), FAILURES.HostKeyMismatch.hint);
    assert.equal(hintFor(failedWith('HostKeyUnknown', 'x')), FAILURES.HostKeyUnknown.hint);
    assert.equal(hintFor(failedWith('SshAuthError', 'x')), FAILURES.SshAuthError.hint);
    // a message that only quotes the words gets the general hint
    assert.equal(
      hintFor(failedWith('RemoteCommandError', 'HOST KEY MISMATCH in the app log')),
      'fix the cause, then run the same command again: finished steps are checked, not repeated',
    );
  });
});
