// End to end on a Temporal cluster instead of the dev server (docs/temporal-cluster.md): two
// server processes with PostgreSQL and mutual TLS behind a TCP load balancer
// (test/helpers/temporalCluster.ts), alcaide's CLI and TWO `alcaide worker` processes — each with
// its own directory, home and cache, as on two machines — on one task queue, all connected
// through the balancer with alcaide's own settings (TEMPORAL_ADDRESS, TEMPORAL_TLS_*). A fleet
// deploy (docs/fleets.md) on two simulated FreeBSD hosts: the parent workflow and a child per
// host. The second host's new slot is held unhealthy; the worker running that child's health
// check is killed -9 and the other retries the step; then the server whose history service owns
// the parent's shard is killed -9 and the deploy goes on, on the other. The outcome is checked:
// the parent and both children completed, both hosts serve the new version through their own
// Caddy, the server is gone, the health check's last attempt ran on the surviving worker;
// `alcaide status` and `history` (PostgreSQL visibility) answer through the surviving server.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
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
import { fleetYml, MAKE_APP } from '../helpers/e2eProject';
import { connectTls, startTemporalCluster, type ClusterServer, type TemporalCluster } from '../helpers/temporalCluster';
import { within } from '../helpers/within';
import { WorkerProcess } from '../helpers/workerProcess';
import { sshRun, startSimHosts, type SimHost, type SimHosts } from '../simhost/index';

const MASTER_KEY = Buffer.alloc(32, 5);
const QUEUE = 'cluster';
/** the fleet deploy's parent; each host's child is `alcaide-hello@HOST` */
const WORKFLOW_ID = 'alcaide-hello';
/** the fixture answers /health with 503 while this file exists in its jail */
const UNHEALTHY = '/tmp/alcaide-unhealthy';

let cluster: TemporalCluster;
let sim: SimHosts;
/** the build host (the first) and the one the release is copied to */
let a: SimHost;
let b: SimHost;
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

interface Worker extends WorkerProcess {
  identity: string;
}
const workers: Worker[] = [];

/** `alcaide worker` in a directory of its own (its cwd, HOME and cache), as on a machine of its own; resolves when it polls. */
async function startWorker(name: string): Promise<Worker> {
  const dir = path.join(project.dir, name);
  mkdirSync(path.join(dir, 'cache'), { recursive: true });
  const p = await WorkerProcess.start({ cwd: dir, name, env: cliEnv({ ...alcaideEnv(), HOME: dir, XDG_CACHE_HOME: path.join(dir, 'cache') }) });
  const w = Object.assign(p, { identity: `alcaide-worker:${p.proc.pid}@${os.hostname()}` });
  workers.push(w);
  return w;
}

function commitVersion(v: string): void {
  const tmp = path.join(project.dir, `v-${v}`);
  assert.equal(spawnSync('sh', [MAKE_APP, tmp, v]).status, 0);
  spawnSync('sh', ['-c', `rm -rf "${app}/lib" "${app}/priv" "${app}/VERSION" && cp -R "${tmp}/lib" "${tmp}/priv" "${tmp}/VERSION" "${app}/"`]);
  git('add', '-A');
  assert.equal(git('commit', '-qm', `v${v}`).status, 0);
}

/** What a host's Caddy serves on :80. */
async function served(h: SimHost): Promise<string> {
  try {
    const r = await fetch(`http://${h.host}/`, { signal: AbortSignal.timeout(5_000) });
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
  [cluster, sim] = await Promise.all([startTemporalCluster(), startSimHosts({ hosts: 2 })]);
  [a, b] = sim.hosts as [SimHost, SimHost];
  assert.equal(spawnSync('sh', [MAKE_APP, app, '1.0.0']).status, 0);
  writeFileSync(
    path.join(app, 'deploy.yml'),
    fleetYml(sim.hosts, path.join(project.dir, 'known_hosts'), { drain_timeout: '1s', env: { clear: { HEALTH_FAIL_FILE: UNHEALTHY } } }),
  );
  git('add', '-A');
  git('commit', '-qm', 'config');
  const connection = await connectTls(cluster.address, cluster.tls);
  client = new Client({ connection, namespace: cluster.namespace, dataConverter: dataConverterFor(codecKey(MASTER_KEY, 'cluster e2e master key')) });
  await Promise.all([startWorker('worker-a'), startWorker('worker-b')]);
});

after(async () => {
  for (const w of workers) await w.kill();
  await client?.connection.close().catch(() => undefined);
  await sim?.down();
  await cluster?.stop();
  project.cleanup();
});

const childId = (h: SimHost) => `${WORKFLOW_ID}@${h.host}`;
const PENDING_STARTED = 2;

test('setup and a fleet deploy through TLS, both workers polling; the balancer spreads connections over both servers', async () => {
  ok(await cli(['doctor']));
  ok(await cli(['setup']));
  const d = await cli(['deploy']);
  ok(d);
  assert.doesNotMatch(d.stdout + d.stderr, /running one in this process/, 'the long-lived workers ran the deploy');
  for (const h of [a, b]) assert.equal(await served(h), '200 hello v1.0.0 slot=blue', h.name);
  assert.ok(
    cluster.balancer.served.every((n) => n > 0),
    `connections per server: ${cluster.balancer.served.join(', ')}`,
  );
});

test('kill -9 of the worker running a host’s health check and of the server owning the fleet deploy: the deploy completes on the others', async () => {
  commitVersion('2.0.0');
  ok(await cli(['deploy', '--detach']));
  const runId = (await client.workflow.getHandle(WORKFLOW_ID).describe()).runId;
  const parent = client.workflow.getHandle(WORKFLOW_ID, runId);

  // the second host's child of this deploy (the first deploy's child has the same id)
  const child = await waitFor('the second host’s child starts', 300_000, async () => {
    const st = await status(parent);
    if (st && st.state !== 'running') throw new Error(`the deploy ended (${st.state}) before its hosts were started`);
    const d = await client.workflow
      .getHandle(childId(b))
      .describe()
      .catch(() => undefined);
    return d?.raw.workflowExecutionInfo?.parentExecution?.runId === runId ? client.workflow.getHandle(childId(b), d.runId) : undefined;
  });
  // its new slot held unhealthy, so that its health check runs until both kills are done
  const slot = await waitFor('the second host’s slot jail is created', 180_000, async () => {
    const st = await status(child);
    if (st && st.state !== 'running') throw new Error(`the second host ended (${st.state}) before its slot jail was made`);
    return st?.slot && ['done', 'unchanged'].includes(stepState(st, 'createSlotJail') ?? '') ? st.slot : undefined;
  });
  await sshRun(b, `touch /usr/local/jails/hello_${slot}${UNHEALTHY}`);
  const health = async () => (await child.describe()).raw.pendingActivities?.find((p) => p.activityType?.name === 'checkHealth');

  // 1. the worker running the child's health check
  const checker = await waitFor('the second host’s health check runs', 180_000, async () => {
    const p = await health();
    return p && Number(p.state) === PENDING_STARTED ? workers.find((w) => w.identity === p.lastWorkerIdentity) : undefined;
  });
  const survivor = workers.find((w) => w !== checker)!;
  const workerKilledAt = Date.now();
  await checker.kill();
  await waitFor('the other worker runs the health check', 120_000, async () => {
    const p = await health();
    return p && Number(p.state) === PENDING_STARTED && (p.attempt ?? 0) >= 2 && p.lastWorkerIdentity === survivor.identity ? true : undefined;
  });
  const tookOverMs = Date.now() - workerKilledAt;

  // 2. the server owning the parent's shard, while the child's health check runs on the survivor
  const victim: ClusterServer = cluster.shardOwner(WORKFLOW_ID) ?? assert.fail('no server owns the deploy’s shard');
  const childOwners = [a, b].map((h) => `${h.name}'s child on ${cluster.shardOwner(childId(h))?.name ?? '?'}`).join(', ');
  const killedAt = Date.now();
  await cluster.kill(victim);
  await sshRun(b, `rm -f /usr/local/jails/hello_${slot}${UNHEALTHY}`);
  assert.equal(victim.alive(), false, `${victim.name} still runs`);
  assert.throws(() => process.kill(victim.pid, 0), /ESRCH/, `${victim.name} (pid ${victim.pid}) still exists`);
  assert.equal(await listening(victim.frontend), false, `${victim.name}'s frontend still listens`);
  // the deploy answers again through the balancer: the other server has its shard, a worker its query
  await waitFor('the deploy answers a query again', 120_000, async () => ((await status(parent)) ? true : undefined));
  const answeredMs = Date.now() - killedAt;

  const final = (await within(300_000, 'the deploy ends', parent.result())) as WorkflowStatus;
  assert.equal(final.state, 'completed');
  assert.deepEqual(
    final.hosts?.map((h) => `${h.host}:${h.state}`),
    [a, b].map((h) => `${h.host}:completed`),
  );
  for (const h of [a, b]) assert.equal(await served(h), '200 hello v2.0.0 slot=green', `${h.name} serves v2 through its Caddy`);
  assert.ok(survivor.alive(), `${survivor.name} still runs`);
  assert.ok(cluster.servers.some((s) => s !== victim && s.alive()));

  // the parent and both children completed, the children this parent's
  const [pd, ...cds] = await Promise.all([parent.describe(), ...[a, b].map((h) => client.workflow.getHandle(childId(h)).describe())]);
  assert.equal(pd.status.name, 'COMPLETED');
  for (const [i, d] of cds.entries()) {
    assert.equal(d.status.name, 'COMPLETED', `${d.workflowId}`);
    assert.equal(d.raw.workflowExecutionInfo?.parentExecution?.runId, runId, `${[a, b][i]!.name}'s child belongs to this deploy`);
  }
  const events = (await child.fetchHistory()).events ?? [];
  const [check] = startedOf(events, 'checkHealth');
  assert.ok(check && check.attempt >= 2, `the health check was retried after its worker died (attempt ${check?.attempt})`);
  assert.equal(check.identity, survivor.identity, `the health check's last attempt ran on ${survivor.name}`);
  assert.ok(check.completedMs, 'the health check completed');
  console.log(
    `  ${checker.name}, running ${b.name}'s health check, killed: ${survivor.name} ran it ${(tookOverMs / 1000).toFixed(1)} s later (attempt ${check.attempt}); ` +
      `${victim.name} (owner of the parent's history shard; ${childOwners}) killed: the deploy answered a query ${(answeredMs / 1000).toFixed(1)} s later, ` +
      `the health check's completion was recorded ${((check.completedMs - killedAt) / 1000).toFixed(1)} s later`,
  );

  // the CLI reaches the surviving server; visibility (PostgreSQL) lists both deploys, host by host
  const st = await cli(['status']);
  ok(st);
  assert.match(st.stdout, /fleetDeployWorkflow completed/);
  const hist = await cli(['history', '--json']);
  ok(hist);
  assert.deepEqual(
    (JSON.parse(hist.stdout) as Array<{ outcome: string; hosts?: Array<{ host: string; outcome: string }> }>)
      .slice(0, 2)
      .map((e) => [e.outcome, e.hosts?.map((h) => `${h.host}:${h.outcome}`).join(' ')]),
    [0, 1].map(() => ['completed', `${a.host}:completed ${b.host}:completed`]),
  );
});
