// The deploy's releases steps with recording fake activities: the prune after the deploy is
// recorded (its failure reported, nothing undone) and `rollback --to` a kept release (checked,
// no upload, no build, then the deploy's path).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { deploy, fakes, statusOf } from '../helpers/deployFakes';
import { startTestEnv } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestEnv();
});
after(async () => {
  await env?.teardown();
});

const stepOf = (s: { steps: Array<{ name: string; state: string; note?: string; error?: string }> } | undefined, name: string) =>
  s?.steps.find((x) => x.name === name);

describe('releases kept and pruned', () => {
  test('after the deploy is recorded the releases beyond retain go; a plain deploy has no kept-release check', async () => {
    const { calls, acts } = fakes({}, 'blue');
    const { status } = await deploy(env, acts);
    assert.equal(status?.state, 'completed');
    assert.deepEqual(calls.slice(-2), ['recordDeploy', 'pruneReleases']);
    assert.equal(stepOf(status, 'pruneReleases')?.state, 'done');
    assert.equal(stepOf(status, 'checkKeptRelease'), undefined);
  });

  test('a failed prune is reported on its step and undoes nothing: the deploy completed', async () => {
    const { calls, acts } = fakes({ fail: 'pruneReleases' }, 'blue');
    const { status, error } = await deploy(env, acts);
    assert.equal(error, undefined, error?.cause?.message);
    assert.equal(status?.state, 'completed');
    assert.equal(calls.at(-1), 'pruneReleases');
    assert.equal(stepOf(status, 'pruneReleases')?.state, 'failed');
    assert.match(stepOf(status, 'pruneReleases')?.error ?? '', /injected failure in pruneReleases/);
    assert.equal(status?.compensations, undefined);
  });
});

describe('rollback --to a kept release', () => {
  test('its artifact is checked instead of an upload and a build; then the deploy path to the idle slot', async () => {
    const { calls, acts } = fakes({}, 'blue');
    const { status } = await deploy(env, acts, { input: { keptRelease: true, ref: 'v1.0' } });
    assert.equal(status?.state, 'completed');
    assert.ok(!calls.includes('uploadSource') && !calls.includes('buildRelease'), calls.join(' '));
    assert.deepEqual(calls, [
      'ensureBuildJail',
      'checkKeptRelease',
      'chooseSlot',
      'createSlotJail(green)',
      'installRelease(green)',
      'writeAppEnv(green)',
      'startApp(green)',
      'runMigrations(green)',
      'checkHealth(green)',
      'switchTraffic(green,blue)',
      'verifyThroughCaddy(green)',
      'drainSlot(blue)',
      'stopSlot(blue)',
      'recordDeploy',
      'pruneReleases',
    ]);
    for (const skipped of ['uploadSource', 'buildRelease']) {
      assert.equal(stepOf(status, skipped)?.state, 'skipped');
      assert.match(stepOf(status, skipped)?.note ?? '', /^kept release aaaaaaaaaaaa: /);
    }
    assert.deepEqual(
      status!.steps.slice(0, 3).map((s) => s.name),
      ['ensureBuildJail', 'checkKeptRelease', 'uploadSource'],
    );
  });

  test('a release the host does not keep fails its check before anything changed', async () => {
    const { calls, acts } = fakes({ fail: 'checkKeptRelease' }, 'blue');
    const { error } = await deploy(env, acts, { input: { keptRelease: true } });
    assert.ok(error);
    assert.deepEqual(calls, ['ensureBuildJail', 'checkKeptRelease']);
    assert.match(
      error.cause!.message,
      /^rollback to the kept release of my_app aaaaaaaaaaaa failed on .*check the kept release failed: .*Restored: nothing had changed on the server\./,
    );
    assert.equal(statusOf(error).steps.find((s) => s.name === 'checkKeptRelease')?.state, 'failed');
  });
});
