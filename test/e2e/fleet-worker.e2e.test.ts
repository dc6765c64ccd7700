// End to end on two simulated FreeBSD hosts: a `web` role on the first and a `worker` role on
// the second that runs its own command (`bin/hello eval "Hello.Worker.run()"`, the fixture's
// heartbeat writer) with an environment of its own and no Caddy site. The worker's readiness is
// its release staying up; a build whose worker exits at once takes both hosts back.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sshRun, type SimHost } from '../simhost/index';
import { E2eProject, fleetYml, ok } from '../helpers/e2eProject';
import { envFile, siteFile } from '../../src/freebsd/layout';
import type { WorkflowStatus } from '../../workflows/status';

let p: E2eProject;
let web: SimHost;
let worker: SimHost;
const GREETING = `it's a "worker"`;
let v1 = '';

before(async () => {
  p = await E2eProject.start({ prefix: 'fleet-worker-e2e-', queue: 'fleet-worker-e2e', hosts: 2 });
  [web, worker] = p.hosts as [SimHost, SimHost];
  const roles = {
    web: { hosts: [web.host] },
    worker: { hosts: [worker.host], cmd: 'bin/hello eval "Hello.Worker.run()"', env: { WORKER_GREETING: GREETING } },
  };
  writeFileSync(path.join(p.app, 'deploy.yml'), fleetYml(p.hosts, path.join(p.project.dir, 'known_hosts'), { roles }));
  p.commitVersion('1.0.0', ['--worker']);
});
after(async () => p?.stop());

const cli = (args: string[]) => p.cli(args, { timeoutMs: 600_000 });
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const inSlot = (h: SimHost, slot: string, file: string) => path.join(h.root, `usr/local/jails/hello_${slot}`, file);
/** What a host's Caddy serves on :80, or why nothing does. */
async function served(h: SimHost): Promise<string> {
  try {
    const res = await fetch(`http://${h.host}/`, { signal: AbortSignal.timeout(10_000) });
    return `${res.status} ${await res.text()}`;
  } catch (e) {
    return `no answer (${(e as Error).cause ?? (e as Error).message})`;
  }
}
/** The worker's heartbeat in `slot`, read twice a second apart: it must still be beating. */
async function beats(slot: string): Promise<[string, string]> {
  const file = inSlot(worker, slot, 'var/db/hello/worker.beat');
  const first = readFileSync(file, 'utf8');
  await new Promise((r) => setTimeout(r, 1000));
  return [first, readFileSync(file, 'utf8')];
}
const beatCount = (line: string) => Number(line.split(' ')[2]);

describe('a web host and a worker host running its own command', () => {
  test('setup: the web host gets the Caddy site, the worker host none', async () => {
    ok(await cli(['setup']));
    assert.ok(existsSync(path.join(web.root, siteFile('hello'))), 'the web host has the site');
    assert.ok(!existsSync(path.join(worker.root, siteFile('hello'))), 'the worker host has no site');
  });

  test("deploy: the web host serves v1 through Caddy; the worker's command runs with its role's environment, served by no Caddy", async () => {
    v1 = p.head();
    const r = await cli(['deploy']);
    ok(r);
    assert.equal(await served(web), '200 hello v1.0.0 slot=blue');
    assert.doesNotMatch(await served(worker), /hello/, 'no Caddy route serves the app on the worker host');
    const [before, after] = await beats('blue');
    assert.match(after, new RegExp(`^1\\.0\\.0 blue \\d+ ${esc(GREETING)}\\n$`));
    assert.ok(beatCount(after) > beatCount(before), `the worker keeps beating: ${before.trim()} then ${after.trim()}`);
    const env = readFileSync(inSlot(worker, 'blue', envFile('hello')), 'utf8');
    assert.doesNotMatch(env, /^PHX_SERVER=/m, 'the worker does not start the endpoint');
    assert.match(readFileSync(inSlot(web, 'blue', envFile('hello')), 'utf8'), /^PHX_SERVER=true$/m);
    const child = (await p.env.client.workflow.getHandle(`alcaide-hello@${worker.host}`).result()) as WorkflowStatus;
    const step = (n: string) => child.steps.find((s) => s.name === n);
    assert.equal(step('checkRunning')?.state, 'unchanged', JSON.stringify(step('checkRunning')));
    assert.match(step('checkRunning')?.note ?? '', /^pid \d+ up for 5s$/);
    assert.equal(step('switchTraffic')?.state, 'skipped');
  });

  test('a build whose worker exits at once: the deploy fails on the worker host and both hosts stay on v1', async () => {
    p.commitVersion('2.0.0', ['--worker', '--worker-exit']);
    const r = await cli(['deploy']);
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, new RegExp(`${esc(worker.host)}`));
    assert.match(r.stderr, /the release in hello_green ended/);
    assert.match(r.stderr, /exiting at once \(worker=exit\)/, "the app log's tail says why");
    assert.equal(await served(web), '200 hello v1.0.0 slot=blue', 'the web host is back on v1');
    assert.doesNotMatch((await sshRun(worker, 'jls name')).stdout, /hello_green/, 'the new slot is gone');
    const [before, after] = await beats('blue');
    assert.match(after, /^1\.0\.0 blue /);
    assert.ok(beatCount(after) > beatCount(before), 'the v1 worker still runs');
    const end = (await p.env.client.workflow
      .getHandle('alcaide-hello')
      .result()
      .catch((e: { cause?: { details?: unknown[] } }) => e.cause?.details?.[0])) as WorkflowStatus;
    assert.deepEqual(
      end.hosts?.map((h) => [h.host, h.state]),
      [
        [web.host, 'undone'],
        [worker.host, 'failed'],
      ],
    );
  });

  test("status --all: the worker host's live slot is its running jail (it has no gates)", async () => {
    const r = await cli(['status', '--all', '--json']);
    ok(r);
    const views = JSON.parse(r.stdout) as Array<{ host: string; apps: Array<{ app: string; live?: string; slots: object; last?: { version: string } }> }>;
    assert.deepEqual(
      views.map((v) => [v.host, v.apps.map((x) => [x.app, x.live, x.slots, x.last?.version])]),
      [
        [web.host, [['hello', 'blue', { blue: 'up', green: 'no jail' }, v1]]],
        [worker.host, [['hello', 'blue', { blue: 'up', green: 'no jail' }, v1]]],
      ],
    );
  });
});
