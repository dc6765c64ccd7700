// A setup whose CLI (and its embedded worker) is killed mid-step is finished by a long-lived
// `alcaide worker` started afterwards: the workflow resumes, nothing is done twice.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { readCommandLog, sshRun, startSimHosts, type SimHost, type SimHosts, simServerYaml } from '../simhost/index';
import { tempProject } from '../helpers/cli';
import { CLI } from '../helpers/paths';
import { startTestEnv } from '../helpers/temporal';
import { within } from '../helpers/within';
import type { WorkflowStatus } from '../../workflows/status';

let sim: SimHosts;
let host: SimHost;
let env: TestWorkflowEnvironment;
const project = tempProject('alcaide-resume-');
const children: ChildProcess[] = [];

before(async () => {
  [sim, env] = await Promise.all([startSimHosts({ hosts: 1 }), startTestEnv()]);
  host = sim.hosts[0]!;
  writeFileSync(
    path.join(project.dir, 'deploy.yml'),
    `app: shop\n${simServerYaml(host)}`,
  );
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await sim?.down();
  await env?.teardown();
  project.cleanup();
});

/** Spawns the CLI with its output collected, so that a failure can say what it printed. */
function cli(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: project.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, output: () => out };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('kill the CLI during setup; `alcaide worker` finishes it without repeating finished steps', { timeout: 10 * 60_000 }, async () => {
  const cliEnv = { ...process.env, TEMPORAL_ADDRESS: env.address, ALCAIDE_TASK_QUEUE: 'resume', SSH_AUTH_SOCK: '', NO_COLOR: '1' };
  const handle = env.client.workflow.getHandle('alcaide-setup-shop');
  const setup = cli(['setup'], cliEnv);
  // Mid-step, as the host sees it: setupCaddy has sent `pkg install caddy`. (The host's command
  // log, not the status query: a query waits for a worker, and this one is about to be killed.)
  const installing = (c: string) => /pkg install -y caddy/.test(c);
  for (const end = Date.now() + 180_000; !readCommandLog(host).some((e) => installing(e.cmd ?? '')); await sleep(5)) {
    if (setup.child.exitCode !== null) assert.fail(`setup exited (${setup.child.exitCode}) before installing Caddy:\n${setup.output()}`);
    if (Date.now() > end) assert.fail(`setup did not install Caddy within 180 s:\n${setup.output()}`);
  }
  setup.child.kill('SIGKILL');
  await once(setup.child, 'exit');
  const killedAt = readCommandLog(host).length;
  assert.equal((await handle.describe()).status.name, 'RUNNING');

  const worker = cli(['worker'], cliEnv);
  try {
    const status = (await within(300_000, 'the setup result', handle.result()).catch(async (e) => {
      const d = await handle.describe().catch(() => undefined);
      const pending = d?.raw.pendingActivities?.map((p) => `${p.activityType?.name} attempt ${p.attempt}: ${p.lastFailure?.message ?? ''}`);
      throw new Error(`${(e as Error).message}; pending: ${JSON.stringify(pending)}\nsetup printed:\n${setup.output()}\nworker printed:\n${worker.output()}`);
    })) as WorkflowStatus;
    assert.equal(status.state, 'completed');
    assert.ok(status.steps.every((s) => s.state === 'done' || s.state === 'unchanged' || (s.name === 'setupPostgres' && s.state === 'skipped')), JSON.stringify(status.steps));
  } finally {
    worker.child.kill('SIGTERM');
    await once(worker.child, 'exit');
  }
  assert.match(worker.output(), /worker polling task queue resume/);
  assert.match(worker.output(), /worker stopped/, 'SIGTERM stops the worker gracefully');

  const after = readCommandLog(host).slice(killedAt).map((e) => e.cmd ?? '');
  assert.ok(!after.some((c) => /uname -s -r -m|kldload|fetch -q/.test(c)), 'finished steps were not run again');
  assert.ok(after.some((c) => /jail -f \/etc\/jail\.conf\.d\/shop_build\.conf -c shop_build/.test(c)), 'the remaining steps ran');
  assert.match((await sshRun(host, 'jls -N name')).stdout, /shop_build/);
  assert.equal((await sshRun(host, 'service caddy status')).code, 0);
});
