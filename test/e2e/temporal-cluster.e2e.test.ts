// End to end on a Temporal cluster instead of the dev server (docs/temporal-cluster.md): two
// server processes with PostgreSQL and mutual TLS behind a TCP load balancer
// (test/helpers/temporalCluster.ts), alcaide's CLI and TWO `alcaide worker` processes — each with
// its own directory, home and cache, as on two machines — on one task queue, all connected
// through the balancer with alcaide's own settings (TEMPORAL_ADDRESS, TEMPORAL_TLS_*). A real
// deploy on a simulated FreeBSD host: the worker running the build is killed -9 and the other
// retries the step; the server whose history service owns the deploy's shard is killed -9
// during the health check and the deploy goes on, on the other. The outcome is checked: the
// deploy completed, the app serves the new version, the server is gone, the build step's last
// attempt ran on the surviving worker; `alcaide status` and `history` (PostgreSQL visibility)
// answer through the surviving server.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Client, type WorkflowHandle } from '@temporalio/client';
import { codecKey, dataConverterFor } from '../../src/temporal/codec';
import { queryStatus } from '../../src/temporal/statusQuery';
import type { WorkflowStatus } from '../../workflows/status';
import { cliEnv, runCliAsync, tempProject, type CliResult } from '../helpers/cli';
import { deployYml, MAKE_APP } from '../helpers/e2eProject';
import { CLI } from '../helpers/paths';
import { connectTls, startTemporalCluster, type ClusterServer, type TemporalCluster } from '../helpers/temporalCluster';
import { within } from '../helpers/within';
import { readCommandLog, sshRun, startSimHosts, type SimHost, type SimHosts } from '../simhost/index';

const MASTER_KEY = Buffer.alloc(32, 5);
const QUEUE = 'cluster';
const WORKFLOW_ID = 'alcaide-hello';
/** the fixture answers /health with 503 while this file exists in its jail */
const UNHEALTHY = '/tmp/alcaide-unhealthy';

let cluster: TemporalCluster;
let sim: SimHosts;
let host: SimHost;
let client: Client;
const project = tempProject('alcaide-cluster-e2e-');
const app = path.join(project.dir, 'hello');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const git = (...a: string[]) => spawnSync('git', ['-C', app, '-c', 'user.name=t', '-c', 'user.email=t@t', ...a], { encoding: 'utf8' });
const ok = (r: CliResult) => assert.equal(r.code, 0, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);

/** What every alcaide process here is given: the cluster's settings, the task queue, the project's master key. */
const alcaideEnv = (): NodeJS.ProcessEnv => ({
  ...cluster.env(),
  ALCAIDE_TASK_QUEUE: QUEUE,
  ALCAIDE_MASTER_KEY: MASTER_KEY.toString('base64'),
  SSH_AUTH_SOCK: '',
});

const cli = (args: string[], timeoutMs = 300_000) => runCliAsync(args, { cwd: app, env: alcaideEnv(), timeoutMs });

interface Worker {
  name: string;
  proc: ChildProcess;
  identity: string;
  output: string;
}
const workers: Worker[] = [];

/** `alcaide worker` in a directory of its own (its cwd, HOME and cache), as on a machine of its own; resolves when it polls. */
async function startWorker(name: string): Promise<Worker> {
  const dir = path.join(project.dir, name);
  mkdirSync(path.join(dir, 'cache'), { recursive: true });
  const proc = spawn(process.execPath, [CLI, 'worker'], {
    cwd: dir,
    env: cliEnv({ ...alcaideEnv(), HOME: dir, XDG_CACHE_HOME: path.join(dir, 'cache') }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const w: Worker = { name, proc, identity: `alcaide-worker:${proc.pid}@${os.hostname()}`, output: '' };
  workers.push(w);
  await within(
    90_000,
    `${name} polls`,
    new Promise<void>((resolve, reject) => {
      const on = (d: Buffer) => {
        w.output += d;
        if (/worker polling/.test(w.output)) resolve();
      };
      proc.stdout!.on('data', on);
      proc.stderr!.on('data', on);
      proc.on('exit', (c, s) => reject(new Error(`${name} exited (${c ?? s}) before polling: ${w.output}`)));
    }),
  );
  return w;
}

const alive = (w: Worker) => w.proc.exitCode === null && w.proc.signalCode === null;

async function killWorker(w: Worker): Promise<void> {
  if (!alive(w)) return;
  const exited = new Promise((r) => w.proc.once('exit', r));
  w.proc.kill('SIGKILL');
  await exited;
}

function commitVersion(v: string): void {
  const tmp = path.join(project.dir, `v-${v}`);
  assert.equal(spawnSync('sh', [MAKE_APP, tmp, v]).status, 0);
  spawnSync('sh', ['-c', `rm -rf "${app}/lib" "${app}/priv" "${app}/VERSION" && cp -R "${tmp}/lib" "${tmp}/priv" "${tmp}/VERSION" "${app}/"`]);
  git('add', '-A');
  assert.equal(git('commit', '-qm', `v${v}`).status, 0);
}

async function served(): Promise<string> {
  try {
    const r = await fetch(`http://${host.host}/`, { signal: AbortSignal.timeout(5_000) });
    return `${r.status} ${await r.text()}`;
  } catch (e) {
    return `error ${(e as Error).message}`;
  }
}

const status = (h: WorkflowHandle): Promise<WorkflowStatus | undefined> => queryStatus(h).catch(() => undefined);
const stepState = (st: WorkflowStatus | undefined, step: string) => st?.steps.find((s) => s.name === step)?.state;

/** Polls `probe` every 50 ms until it returns a value; fails after `ms` with what it saw last. */
async function waitFor<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms / 1000} s`);
    await sleep(50);
  }
}

/** Whether something accepts TCP connections at `address`. */
const listening = (address: string) =>
  new Promise<boolean>((resolve) => {
    const [h, p] = address.split(':');
    const c = net.connect(Number(p), h!, () => (c.destroy(), resolve(true)));
    c.on('error', () => resolve(false));
  });

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];
const eventMs = (e: HistoryEvent) => Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);

/** The ActivityTaskStarted event of each completed `activity` (it holds the last attempt's number and worker). */
function startedOf(events: HistoryEvent[], activity: string): Array<{ attempt: number; identity: string; completedMs?: number }> {
  return events
    .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activity)
    .map((sch) => {
      const id = Number(sch.eventId);
      const started = events.find((e) => Number(e.activityTaskStartedEventAttributes?.scheduledEventId ?? -1) === id)?.activityTaskStartedEventAttributes;
      const completed = events.find((e) => Number(e.activityTaskCompletedEventAttributes?.scheduledEventId ?? -1) === id);
      return { attempt: started?.attempt ?? 0, identity: started?.identity ?? '', completedMs: completed ? eventMs(completed) : undefined };
    });
}

before(async () => {
  [cluster, sim] = await Promise.all([startTemporalCluster(), startSimHosts({ hosts: 1 })]);
  host = sim.hosts[0]!;
  assert.equal(spawnSync('sh', [MAKE_APP, app, '1.0.0']).status, 0);
  writeFileSync(path.join(app, 'deploy.yml'), deployYml(host, { drain_timeout: '1s', env: { clear: { HEALTH_FAIL_FILE: UNHEALTHY } } }));
  git('add', '-A');
  git('commit', '-qm', 'config');
  const connection = await connectTls(cluster.address, cluster.tls);
  client = new Client({ connection, namespace: cluster.namespace, dataConverter: dataConverterFor(codecKey(MASTER_KEY, 'cluster e2e master key')) });
  await Promise.all([startWorker('worker-a'), startWorker('worker-b')]);
});

after(async () => {
  for (const w of workers) await killWorker(w);
  await client?.connection.close().catch(() => undefined);
  await sim?.down();
  await cluster?.stop();
  project.cleanup();
});

test('setup and a deploy through TLS, both workers polling; the balancer spreads connections over both servers', async () => {
  ok(await cli(['doctor']));
  ok(await cli(['setup']));
  const d = await cli(['deploy']);
  ok(d);
  assert.doesNotMatch(d.stdout + d.stderr, /running one in this process/, 'the long-lived workers ran the deploy');
  assert.equal(await served(), '200 hello v1.0.0 slot=blue');
  assert.ok(
    cluster.balancer.served.every((n) => n > 0),
    `connections per server: ${cluster.balancer.served.join(', ')}`,
  );
});

test('kill -9 of the worker running the build and of the server owning the deploy: the deploy completes on the others', async () => {
  commitVersion('2.0.0');
  const logFrom = readCommandLog(host).length;
  const r = await cli(['deploy', '--detach']);
  ok(r);
  const runId = (await client.workflow.getHandle(WORKFLOW_ID).describe()).runId;
  const h = client.workflow.getHandle(WORKFLOW_ID, runId);

  // 1. the worker running the build, while `mix release` runs on the host
  const builder = await waitFor('the build runs on the host', 120_000, async () => {
    if (
      !readCommandLog(host)
        .slice(logFrom)
        .some((c) => /mix (do .*\+ )?release/.test(c.cmd ?? ''))
    )
      return undefined;
    const pending = (await h.describe()).raw.pendingActivities?.find((p) => p.activityType?.name === 'buildRelease');
    return workers.find((w) => w.identity === pending?.lastWorkerIdentity);
  });
  const survivor = workers.find((w) => w !== builder)!;
  await sleep(500);
  await killWorker(builder);

  // 2. the new slot held unhealthy until the server kill, so that the kill lands in the health check
  const slot = await waitFor('the slot jail is created', 180_000, async () => {
    const st = await status(h);
    if (st && st.state !== 'running') throw new Error(`the deploy ended (${st.state}) before its slot jail was made`);
    return st?.slot && ['done', 'unchanged'].includes(stepState(st, 'createSlotJail') ?? '') ? st.slot : undefined;
  });
  await sshRun(host, `touch /usr/local/jails/hello_${slot}${UNHEALTHY}`);
  await waitFor('the health check runs', 180_000, async () => {
    const pending = (await h.describe()).raw.pendingActivities?.find((p) => p.activityType?.name === 'checkHealth');
    return pending && Number(pending.state) === 2 /* STARTED */ ? true : undefined;
  });
  const victim: ClusterServer = cluster.shardOwner(WORKFLOW_ID) ?? assert.fail('no server owns the deploy’s shard');
  const killedAt = Date.now();
  await cluster.kill(victim);
  await sshRun(host, `rm -f /usr/local/jails/hello_${slot}${UNHEALTHY}`);
  assert.equal(victim.alive(), false, `${victim.name} still runs`);
  assert.throws(() => process.kill(victim.pid, 0), /ESRCH/, `${victim.name} (pid ${victim.pid}) still exists`);
  assert.equal(await listening(victim.frontend), false, `${victim.name}'s frontend still listens`);
  // the deploy answers again through the balancer: the other server has its shard, a worker its query
  await waitFor('the deploy answers a query again', 120_000, async () => ((await status(h)) ? true : undefined));
  const answeredMs = Date.now() - killedAt;

  const final = (await within(300_000, 'the deploy ends', h.result())) as WorkflowStatus;
  assert.equal(final.state, 'completed');
  assert.equal(await served(), `200 hello v2.0.0 slot=${slot}`);
  assert.ok(alive(survivor), `${survivor.name} still runs`);
  assert.ok(cluster.servers.some((s) => s !== victim && s.alive()));

  const events = (await h.fetchHistory()).events ?? [];
  const [build] = startedOf(events, 'buildRelease');
  assert.ok(build && build.attempt >= 2, `the build was retried after its worker died (attempt ${build?.attempt})`);
  assert.equal(build.identity, survivor.identity, `the build's last attempt ran on ${survivor.name}`);
  const [health] = startedOf(events, 'checkHealth');
  assert.ok(health?.completedMs, 'the health check completed');
  console.log(
    `  ${victim.name} (owner of the deploy's history shard) killed during the health check: the deploy answered a query ${(answeredMs / 1000).toFixed(1)} s later, ` +
      `its health check completed ${((health.completedMs - killedAt) / 1000).toFixed(1)} s later (attempt ${health.attempt}); ` +
      `the build, its worker killed, ran again on ${survivor.name} (attempt ${build.attempt})`,
  );

  // the CLI reaches the surviving server; visibility (PostgreSQL) lists both deploys
  const st = await cli(['status']);
  ok(st);
  assert.match(st.stdout, /deployWorkflow completed/);
  const hist = await cli(['history', '--json']);
  ok(hist);
  assert.deepEqual((JSON.parse(hist.stdout) as Array<{ kind: string; outcome: string; version?: string }>).map((e) => `${e.kind}:${e.outcome}`).slice(0, 2), [
    'deploy:completed',
    'deploy:completed',
  ]);
});
