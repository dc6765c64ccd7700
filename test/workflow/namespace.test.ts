// A namespace Temporal does not have (a typo in TEMPORAL_NAMESPACE) is said as such, with exit 1,
// by every command that reads or starts a run — never taken for "no deploy yet".
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { committedProject, runCliAsync } from '../helpers/cli';
import { startTestEnv } from '../helpers/temporal';

const APP = 'ns_app';

describe('a Temporal namespace that does not exist', () => {
  let env: TestWorkflowEnvironment;
  const project = committedProject('alcaide-ns-', `app: ${APP}\nserver:\n  host: 203.0.113.10\n`);
  const cliEnv = (namespace: string) => ({ TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: namespace, ALCAIDE_TASK_QUEUE: 'test-ns', SSH_AUTH_SOCK: '' });

  before(async () => {
    env = await startTestEnv();
  });
  after(async () => {
    await env?.teardown();
    project.cleanup();
  });

  test('the namespace that exists: status says there is no deploy yet', async () => {
    const r = await runCliAsync(['status'], { cwd: project.dir, env: cliEnv('default') });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /no deploy of ns_app yet/);
  });

  for (const args of [['status'], ['status', '--json'], ['abort'], ['approve'], ['history'], ['deploy']]) {
    test(`\`alcaide ${args.join(' ')}\`: "Temporal has no namespace", exit 1`, async () => {
      const r = await runCliAsync(args, { cwd: project.dir, env: cliEnv('no-such-ns') });
      assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stderr, /error: Temporal has no namespace 'no-such-ns'\nhint: set TEMPORAL_NAMESPACE or temporal\.namespace in deploy\.yml/);
      assert.doesNotMatch(r.stdout + r.stderr, /no deploy|nothing to|is running/);
    });
  }
});
