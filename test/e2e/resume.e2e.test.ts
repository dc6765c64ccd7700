// A setup whose CLI (and its embedded worker) is killed mid-step is finished by a long-lived
// `alcaide worker` started afterwards: the workflow resumes, nothing is done twice.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { temporal } from '@temporalio/proto';
import { readCommandLog, sshRun, startSimHosts, type SimHost, type SimHosts, simServerYaml } from '../simhost/index';
import { tempProject } from '../helpers/cli';
import { CLI } from '../helpers/paths';
import { startTestEnv } from '../helpers/temporal';
import { within } from '../helpers/within';
import type { WorkflowStatus } from '../../workflows/status';
import { SETUP_STEPS } from '../../workflows/setupSteps';

let sim: SimHosts;
let host: SimHost;
let env: TestWorkflowEnvironment;
const project = tempProject('alcaide-resume-');
const children: ChildProcess[] = [];

before(async () => {
  [sim, env] = await Promise.all([startSimHosts({ hosts: 1 }), startTestEnv()]);
  host = sim.hosts[0]!;
  writeFileSync(path.join(project.dir, 'deploy.yml'), `app: shop\n${simServerYaml(host)}`);
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

/**
 * Per activity type, from the workflow's history: how often it was scheduled (a step run again
 * by the workflow is scheduled again) and the attempt that ended it (a retry of the same
 * scheduled step, as after a killed worker, is a later attempt, not a new schedule).
 */
function activities(history: temporal.api.history.v1.IHistory): Record<string, { scheduled: number; attempt: number }> {
  const out: Record<string, { scheduled: number; attempt: number }> = {};
  const typeOf = new Map<string, string>();
  for (const e of history.events ?? []) {
    const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (name) {
      typeOf.set(String(e.eventId), name);
      out[name] = { scheduled: (out[name]?.scheduled ?? 0) + 1, attempt: 0 };
    }
    const started = e.activityTaskStartedEventAttributes;
    if (started) out[typeOf.get(String(started.scheduledEventId))!]!.attempt = started.attempt ?? 0;
  }
  return out;
}

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
  assert.equal((await handle.describe()).status.name, 'RUNNING');

  const worker = cli(['worker'], cliEnv);
  try {
    const status = (await within(300_000, 'the setup result', handle.result()).catch(async (e) => {
      const d = await handle.describe().catch(() => undefined);
      const pending = d?.raw.pendingActivities?.map((p) => `${p.activityType?.name} attempt ${p.attempt}: ${p.lastFailure?.message ?? ''}`);
      throw new Error(`${(e as Error).message}; pending: ${JSON.stringify(pending)}\nsetup printed:\n${setup.output()}\nworker printed:\n${worker.output()}`);
    })) as WorkflowStatus;
    assert.equal(status.state, 'completed');
    assert.ok(
      status.steps.every((s) => s.state === 'done' || s.state === 'unchanged' || (s.name === 'setupPostgres' && s.state === 'skipped')),
      JSON.stringify(status.steps),
    );
  } finally {
    worker.child.kill('SIGTERM');
    await once(worker.child, 'exit');
  }
  assert.match(worker.output(), /worker polling task queue resume/);
  assert.match(worker.output(), /worker stopped/, 'SIGTERM stops the worker gracefully');

  // Every step was scheduled once: the ones finished before the kill were not run again, and
  // the one the kill interrupted (setupCaddy) was retried as a later attempt of its schedule.
  const ran = activities(await handle.fetchHistory());
  const interrupted = 'setupCaddy';
  const steps = SETUP_STEPS.map((s) => s.name).filter((n) => n !== 'setupPostgres');
  assert.deepEqual(
    Object.fromEntries(Object.entries(ran).map(([name, a]) => [name, a.scheduled])),
    Object.fromEntries(steps.map((n) => [n, 1])),
    'each step scheduled exactly once (no accessory: setupPostgres skipped)',
  );
  assert.ok(ran[interrupted]!.attempt > 1, `${interrupted} resumed as a retry: attempt ${ran[interrupted]!.attempt}`);
  assert.deepEqual(
    steps.filter((n) => n !== interrupted && ran[n]!.attempt !== 1),
    [],
    'every other step ran in one attempt',
  );
  assert.match((await sshRun(host, 'jls -N name')).stdout, /shop_build/);
  assert.equal((await sshRun(host, 'service caddy status')).code, 0);
});
