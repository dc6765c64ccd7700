// `alcaide deploy` loads Temporal's client while git checks the commit to deploy: a refusal of
// git's (exit 2) still comes before Temporal is contacted, so before any workflow starts.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { committedProject, git, runCliAsync } from '../helpers/cli';
import { startTestEnv } from '../helpers/temporal';

const APP = 'refusal_app';

describe('alcaide deploy: a refusal of git comes before anything starts', () => {
  let env: TestWorkflowEnvironment;
  const project = committedProject('alcaide-refusal-', `app: ${APP}\nserver:\n  host: 203.0.113.10\n`);
  const cliEnv = () => ({ TEMPORAL_ADDRESS: env.address, ALCAIDE_TASK_QUEUE: 'test-refusals', SSH_AUTH_SOCK: '' });

  before(async () => {
    env = await startTestEnv();
  });
  after(async () => {
    await env?.teardown();
    project.cleanup();
  });

  const noWorkflow = () => assert.rejects(env.client.workflow.getHandle(`alcaide-${APP}`).describe(), WorkflowNotFoundError, 'no deploy workflow was started');

  test('Temporal reachable: an unknown --ref and uncommitted changes are exit 2, and no workflow exists', async () => {
    const ref = await runCliAsync(['deploy', '--ref', 'v9.9.9'], { cwd: project.dir, env: cliEnv() });
    assert.equal(ref.code, 2, ref.stderr);
    assert.match(ref.stderr, /--ref v9\.9\.9: no such commit/);
    await noWorkflow();

    writeFileSync(path.join(project.dir, 'deploy.yml'), `app: ${APP}\nserver:\n  host: 203.0.113.10\n# edited\n`);
    try {
      const dirty = await runCliAsync(['deploy'], { cwd: project.dir, env: cliEnv() });
      assert.equal(dirty.code, 2, dirty.stderr);
      assert.match(dirty.stderr, /the working tree has uncommitted changes/);
      assert.doesNotMatch(dirty.stdout + dirty.stderr, /Temporal/, 'git answers, not the connection');
      await noWorkflow();
    } finally {
      git(project.dir, 'checkout', '--', 'deploy.yml');
    }
  });

  test('a server that never answers: the refusal ends the command before any connection is made', async () => {
    // accepts TCP and says nothing: a connection to it would wait for the client's connect timeout
    let connections = 0;
    const silent = net.createServer((socket) => {
      connections++;
      socket.on('error', () => undefined);
    });
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const address = `127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
    try {
      const r = await runCliAsync(['deploy', '--ref', 'v9.9.9'], { cwd: project.dir, env: { ...cliEnv(), TEMPORAL_ADDRESS: address }, timeoutMs: 30_000 });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /--ref v9\.9\.9: no such commit/);
      assert.equal(connections, 0, 'Temporal was not contacted');
    } finally {
      silent.close();
    }
  });
});
