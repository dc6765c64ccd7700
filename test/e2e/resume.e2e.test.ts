// A setup whose CLI (and its embedded worker) is killed mid-step is finished by a long-lived
// `alcaide worker` started afterwards: the workflow resumes, nothing is done twice.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { readCommandLog, sshRun, startSimHosts, type SimHost, type SimHosts, simServerYaml } from '../simhost/index';
import { tempProject } from '../helpers/cli';
import { CLI } from '../helpers/paths';
import { startTestEnv } from '../helpers/temporal';
import type { WorkflowStatus } from '../../workflows/status';

let sim: SimHosts;
let host: SimHost;
let env: TestWorkflowEnvironment;
const project = tempProject('alcaide-resume-');

before(async () => {
  [sim, env] = await Promise.all([startSimHosts({ hosts: 1 }), startTestEnv()]);
  host = sim.hosts[0]!;
  writeFileSync(
    path.join(project.dir, 'deploy.yml'),
    `app: shop\n${simServerYaml(host)}`,
  );
});

after(async () => {
  await sim?.down();
  await env?.teardown();
  project.cleanup();
});

test('kill the CLI during setup; `alcaide worker` finishes it without repeating finished steps', async () => {
  const cliEnv = { ...process.env, TEMPORAL_ADDRESS: env.address, ALCAIDE_TASK_QUEUE: 'resume', SSH_AUTH_SOCK: '', NO_COLOR: '1' };
  const handle = env.client.workflow.getHandle('alcaide-setup-shop');
  const setup = spawn(process.execPath, [CLI, 'setup'], { cwd: project.dir, env: cliEnv, stdio: 'ignore' });
  let step = '';
  for (let i = 0; i < 600 && step !== 'setupCaddy'; i++) {
    step = (await handle.query<WorkflowStatus>('status').catch(() => ({ currentStep: '' }) as Partial<WorkflowStatus>)).currentStep ?? '';
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.equal(step, 'setupCaddy');
  setup.kill('SIGKILL');
  await once(setup, 'exit');
  const killedAt = readCommandLog(host).length;
  assert.equal((await handle.describe()).status.name, 'RUNNING');

  const worker = spawn(process.execPath, [CLI, 'worker'], { cwd: project.dir, env: cliEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  worker.stdout.on('data', (d) => (out += d));
  try {
    const status = (await handle.result()) as WorkflowStatus;
    assert.equal(status.state, 'completed');
    assert.ok(status.steps.every((s) => s.state === 'done' || s.state === 'unchanged' || (s.name === 'setupPostgres' && s.state === 'skipped')), JSON.stringify(status.steps));
  } finally {
    worker.kill('SIGTERM');
    await once(worker, 'exit');
  }
  assert.match(out, /worker polling task queue resume/);
  assert.match(out, /worker stopped/, 'SIGTERM stops the worker gracefully');

  const after = readCommandLog(host).slice(killedAt).map((e) => e.cmd ?? '');
  assert.ok(!after.some((c) => /uname -s -r -m|kldload|fetch -q/.test(c)), 'finished steps were not run again');
  assert.ok(after.some((c) => /jail -f \/etc\/jail\.conf\.d\/shop_build\.conf -c shop_build/.test(c)), 'the remaining steps ran');
  assert.match((await sshRun(host, 'jls -N name')).stdout, /shop_build/);
  assert.equal((await sshRun(host, 'service caddy status')).code, 0);
});
