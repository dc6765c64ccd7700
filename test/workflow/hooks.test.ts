// Hooks as steps (docs/hooks.md) on the real dev server with recording fake activities: each
// hook the input names runs as its own step at its moment, no other; a failed pre-* hook stops
// the run before what it guards (undoing what changed); a failed post-* hook is reported and
// undoes nothing; --skip-hooks (an empty plan) runs none.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { failure } from '../../src/failures';
import { HOOK_NAMES, type HookName, type HookPlan, type HookRun } from '../../src/model/hooks';
import type { WorkflowStatus } from '../../workflows/status';
import { activitiesOf } from '../../workflows/stepTable';
import { STEP_TABLES } from '../../workflows/stepTables';
import { deploy, fakes, statusOf, TARGET, VERSION, withFakeWorker } from '../helpers/deployFakes';
import { startTestEnv } from '../helpers/temporal';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startTestEnv();
});
after(async () => {
  await env?.teardown();
});

const plan = (hooks: readonly HookName[], extra: Partial<HookPlan> = {}): HookPlan => ({
  hooks: hooks.map((hook) => ({ hook, local: true, timeoutMs: 60_000 })),
  ...extra,
});
const DEPLOY_HOOK_NAMES = HOOK_NAMES.filter((h) => h !== 'post-rollback');

/** The hook steps of a status, as [name, state]. */
const hookSteps = (s: WorkflowStatus) => s.steps.filter((x) => x.name.endsWith('Hook')).map((x) => [x.name, x.state]);

/** Fakes that also keep each hook's input. */
function hookFakes(fail?: string, host?: 'blue') {
  const f = fakes({ fail }, host);
  const runs: HookRun[] = [];
  const runHook = f.acts.runHook!;
  f.acts.runHook = (...args: unknown[]) => (runs.push(args[1] as HookRun), runHook(...args));
  return { ...f, runs };
}

describe('hooks in a deploy', () => {
  test('every hook at its moment, each its own step; the run described in ALCAIDE_* variables', async () => {
    const { calls, acts, runs } = hookFakes(undefined, 'blue');
    const { status } = await deploy(env, acts, { hooks: plan(DEPLOY_HOOK_NAMES, { webUi: 'http://ui/wf' }) });
    assert.equal(status?.state, 'completed');
    const seq = calls.filter(
      (c) => c.startsWith('hook:') || ['ensureBuildJail', 'uploadSource', 'chooseSlot', 'checkHealth', 'recordDeploy'].includes(c.replace(/\(.*/, '')),
    );
    assert.deepEqual(
      seq.filter((c) => !c.startsWith('buildRelease') && !c.startsWith('createSlotJail')),
      [
        'hook:pre-connect',
        'ensureBuildJail',
        'hook:pre-build',
        'uploadSource',
        'chooseSlot',
        'hook:pre-deploy(green)',
        'checkHealth(green)',
        'hook:pre-switch(green)',
        'hook:post-switch(green)',
        'recordDeploy',
        'hook:post-deploy(green)',
      ],
    );
    // pre-deploy before the slot jail and the build; pre-switch before the switch, post-switch after the verification
    const at = (c: string) => calls.findIndex((x) => x.startsWith(c));
    assert.ok(at('hook:pre-deploy') < at('createSlotJail') && at('hook:pre-deploy') < at('buildRelease'));
    assert.ok(at('hook:pre-switch') < at('switchTraffic') && at('verifyThroughCaddy') < at('hook:post-switch'));
    assert.deepEqual(
      hookSteps(status!),
      ['preConnectHook', 'preBuildHook', 'preDeployHook', 'preSwitchHook', 'postSwitchHook', 'postDeployHook'].map((n) => [n, 'done']),
    );
    const vars = (h: HookName) => runs.find((r) => r.hook === h)!.vars;
    assert.deepEqual(vars('pre-connect'), {
      ALCAIDE_HOOK: 'pre-connect',
      ALCAIDE_APP: TARGET.app,
      ALCAIDE_COMMAND: 'deploy',
      ALCAIDE_PERFORMER: 'test@ci',
      ALCAIDE_HOSTS: TARGET.server.host,
      ALCAIDE_VERSION: VERSION,
      ALCAIDE_WEB_UI: 'http://ui/wf',
    });
    assert.equal(vars('pre-switch').ALCAIDE_SLOT, 'green');
    assert.equal(vars('pre-switch').ALCAIDE_PREVIOUS_SLOT, 'blue');
    assert.equal(vars('pre-switch').ALCAIDE_RUNTIME, undefined, 'a pre-* hook has no runtime');
    assert.match(vars('post-deploy').ALCAIDE_RUNTIME ?? '', /^\d+$/);
  });

  test('only the hooks the input names are steps; --skip-hooks (an empty plan) and runs from before hooks run none', async () => {
    const one = hookFakes();
    const { status } = await deploy(env, one.acts, { hooks: plan(['pre-deploy']) });
    assert.deepEqual(hookSteps(status!), [['preDeployHook', 'done']]);
    assert.deepEqual(
      one.calls.filter((c) => c.startsWith('hook:')),
      ['hook:pre-deploy(blue)'],
    );
    for (const hooks of [plan([]), undefined]) {
      const none = hookFakes();
      const { status: s } = await deploy(env, none.acts, { hooks });
      assert.equal(s?.state, 'completed');
      assert.deepEqual(hookSteps(s!), []);
      assert.deepEqual(
        none.calls.filter((c) => c.startsWith('hook:')),
        [],
      );
    }
  });

  // what each pre-* hook guards: the first step that must not have run after its failure, and the undo steps that run
  const PRE: Array<[HookName, string, string[]]> = [
    ['pre-connect', 'ensureBuildJail', []],
    ['pre-build', 'uploadSource', []],
    ['pre-deploy', 'createSlotJail', []],
    ['pre-switch', 'switchTraffic', ['destroySlot(blue)']],
  ];
  for (const [hook, guarded, undo] of PRE) {
    test(`a failed ${hook} hook stops the deploy before ${guarded}, with the hook's error`, async () => {
      const { calls, acts } = hookFakes(`hook:${hook}`);
      const { error } = await deploy(env, acts, { hooks: plan(DEPLOY_HOOK_NAMES) });
      assert.ok(error, 'failed');
      assert.equal(
        calls.find((c) => c.startsWith(guarded)),
        undefined,
        `${guarded} ran: ${calls.join(' ')}`,
      );
      if (hook === 'pre-deploy')
        assert.equal(
          calls.find((c) => c.startsWith('buildRelease')),
          undefined,
          'nor the build',
        );
      const failedAt = calls.indexOf(calls.find((c) => c.startsWith(`hook:${hook}`))!);
      assert.deepEqual(calls.slice(failedAt + 1), undo);
      const status = statusOf(error);
      const step = status.steps.find((s) => s.state === 'failed')!;
      assert.equal(step.title, `${hook} hook`);
      assert.equal(step.errorType, 'HookFailed');
      assert.match(error!.cause!.message, new RegExp(`${hook} hook failed: injected failure in hook:${hook}`));
    });
  }

  for (const hook of ['post-switch', 'post-deploy'] as const) {
    test(`a failed ${hook} hook is reported on its step and undoes nothing`, async () => {
      const { calls, acts } = hookFakes(`hook:${hook}`, 'blue');
      const { status } = await deploy(env, acts, { hooks: plan(DEPLOY_HOOK_NAMES) });
      assert.equal(status?.state, 'completed');
      assert.equal(
        calls.find((c) => c.startsWith('restoreTraffic') || c.startsWith('destroySlot')),
        undefined,
      );
      assert.ok(calls.includes('recordDeploy') && calls.includes('hook:post-deploy(green)'), calls.join(' '));
      const step = status!.steps.find((s) => s.title === `${hook} hook`)!;
      assert.equal(step.state, 'warned');
      assert.match(step.error ?? '', new RegExp(`injected failure in hook:${hook}`));
      assert.equal(status!.compensations, undefined);
    });
  }
});

describe('hooks in a rollback', () => {
  function rollbackFakes(fail?: string) {
    const calls: string[] = [];
    const acts = Object.fromEntries(
      activitiesOf(STEP_TABLES.rollback.steps).map((name) => [
        name,
        async (...args: unknown[]) => {
          const label = name === 'runHook' ? `hook:${(args[1] as HookRun).hook}` : name;
          calls.push(label);
          if (fail === label) throw failure('HookFailed', `injected failure in ${label}`);
          if (name === 'chooseRollback') return { to: 'green', from: 'blue', version: VERSION, changed: false, note: 'green has the previous release' };
          return { changed: true, note: `did ${name}` };
        },
      ]),
    );
    return { calls, acts };
  }

  async function rollback(acts: object, hooks: HookPlan): Promise<{ status?: WorkflowStatus; error?: WorkflowFailedError }> {
    return withFakeWorker(env, acts, async (taskQueue) => {
      const handle = await env.client.workflow.start('rollbackWorkflow', {
        taskQueue,
        workflowId: `rollback-${taskQueue}`,
        args: [{ target: TARGET, startedBy: 'test@ci', hooks }],
      });
      try {
        return { status: (await handle.result()) as WorkflowStatus };
      } catch (e) {
        if (e instanceof WorkflowFailedError) return { error: e };
        throw e;
      }
    });
  }

  test('pre-connect first, pre-switch and post-switch around the switch, post-rollback last; no deploy hook', async () => {
    const { calls, acts } = rollbackFakes();
    const { status } = await rollback(acts, plan(HOOK_NAMES));
    assert.equal(status?.state, 'completed');
    assert.deepEqual(calls, [
      'hook:pre-connect',
      'chooseRollback',
      'startSlot',
      'checkHealth',
      'hook:pre-switch',
      'switchTraffic',
      'verifyThroughCaddy',
      'hook:post-switch',
      'drainSlot',
      'stopSlot',
      'recordDeploy',
      'hook:post-rollback',
    ]);
  });

  test('rollback --to a kept release (the deploy path) runs the rollback hooks: pre-connect first, post-rollback last', async () => {
    const { calls, acts, runs } = hookFakes(undefined, 'blue');
    const rollbackHooks: HookName[] = ['pre-connect', 'pre-switch', 'post-switch', 'post-rollback'];
    const { status } = await deploy(env, acts, { input: { keptRelease: true, ref: 'v1.0' }, hooks: plan(rollbackHooks) });
    assert.equal(status?.state, 'completed');
    const hooksRun = calls.filter((c) => c.startsWith('hook:')).map((c) => c.replace(/\(.*/, ''));
    assert.deepEqual(hooksRun, ['hook:pre-connect', 'hook:pre-switch', 'hook:post-switch', 'hook:post-rollback']);
    assert.equal(calls.at(-1)?.replace(/\(.*/, ''), 'hook:post-rollback', 'last, after the prune');
    assert.ok(runs.every((r) => r.vars.ALCAIDE_COMMAND === 'rollback'));
    assert.deepEqual(
      hookSteps(status!),
      ['preConnectHook', 'preSwitchHook', 'postSwitchHook', 'postRollbackHook'].map((n) => [n, 'done']),
    );
  });

  test('a failed pre-switch hook leaves traffic where it was: the started slot is stopped again', async () => {
    const { calls, acts } = rollbackFakes('hook:pre-switch');
    const { error } = await rollback(acts, plan(HOOK_NAMES));
    assert.ok(error);
    assert.deepEqual(calls.slice(calls.indexOf('hook:pre-switch')), ['hook:pre-switch', 'stopSlot']);
  });
});
