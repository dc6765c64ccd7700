// Zero downtime, measured as a client without retries sees it: continuous keep-alive requests
// through Caddy while 5 deploys, 2 rollbacks and 1 deploy that fails its health check run
// against a simulated FreeBSD host. Every request must answer 200 with the exact body of a
// healthy version; slow requests in flight at each switch must finish on the old slot.
// Latency (p50/p99) in switch windows vs steady state is printed, not asserted.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { readCommandLog, startSimHosts, type SimHost, type SimHosts, simServerYaml } from '../simhost/index';
import { runCliAsync, tempProject, type CliResult } from '../helpers/cli';
import { percentile, startLoad, type Sample } from '../helpers/load';
import { REPO_ROOT } from '../helpers/paths';
import { startTestEnv } from '../helpers/temporal';
import { codecKey } from '../../src/temporal/codec';

const MAKE_APP = path.join(REPO_ROOT, 'test', 'fixtures', 'make-app.sh');
const MASTER_KEY = Buffer.alloc(32, 9);
const CONCURRENCY = 6;
const SLOW_MS = 2_000;
const SLOW_EVERY_MS = 300;

let sim: SimHosts;
let host: SimHost;
let env: TestWorkflowEnvironment;
const project = tempProject('alcaide-zd-');
const app = path.join(project.dir, 'hello');

const cliEnv = () => ({ TEMPORAL_ADDRESS: env.address, ALCAIDE_TASK_QUEUE: 'zd', SSH_AUTH_SOCK: '', ALCAIDE_MASTER_KEY: MASTER_KEY.toString('base64'), NO_COLOR: '1' });
const cli = (args: string[]): Promise<CliResult> => runCliAsync(args, { cwd: app, env: cliEnv(), timeoutMs: 300_000 });
const ok = (r: CliResult) => assert.equal(r.code, 0, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);

function commitVersion(v: string, flags: string[] = []): void {
  const tmp = path.join(project.dir, `v-${v}`);
  assert.equal(spawnSync('sh', [MAKE_APP, tmp, v, ...flags]).status, 0);
  spawnSync('sh', ['-c', `rm -rf "${app}/lib" "${app}/priv" "${app}/VERSION" && cp -R "${tmp}/lib" "${tmp}/priv" "${tmp}/VERSION" "${app}/"`]);
  const git = (...a: string[]) => spawnSync('git', ['-C', app, '-c', 'user.name=t', '-c', 'user.email=t@t', ...a], { encoding: 'utf8' });
  git('add', '-A');
  assert.equal(git('commit', '-qm', `v${v}`).status, 0);
}

before(async () => {
  [sim, env] = await Promise.all([startSimHosts({ hosts: 1 }), startTestEnv({ codecKeys: [codecKey(MASTER_KEY, 'zd master key')] })]);
  host = sim.hosts[0]!;
  assert.equal(spawnSync('sh', [MAKE_APP, app, '1.0.0']).status, 0);
  writeFileSync(
    path.join(app, 'deploy.yml'),
    `app: hello
${simServerYaml(host)}health_check:
  path: /health
  interval: 200ms
  timeout: 10s
drain_timeout: 4s
`,
  );
  spawnSync('sh', ['-c', `cd "${app}" && git add -A && git -c user.name=t -c user.email=t@t commit -qm config`]);
  ok(await cli(['setup']));
  ok(await cli(['deploy']));
});

after(async () => {
  await sim?.down();
  await env?.teardown();
  project.cleanup();
});

interface Op {
  name: string;
  from: number;
  to: number;
}

function stats(samples: Sample[]): string {
  const ms = samples.map((s) => s.ms);
  return `n=${String(samples.length).padStart(6)}  p50=${percentile(ms, 50).toFixed(1).padStart(6)} ms  p99=${percentile(ms, 99).toFixed(1).padStart(7)} ms  max=${ms.reduce((a, b) => Math.max(a, b), 0).toFixed(1).padStart(7)} ms`;
}

test('5 deploys, 2 rollbacks and a failing deploy under continuous load: 0 failed requests', { timeout: 30 * 60_000 }, async () => {
  const good = new Set(['1.0.0']);
  const accept = (status: number, body: string) => {
    const m = /^hello v(\S+) slot=(blue|green)$/.exec(body);
    return status === 200 && !!m && good.has(m[1]!);
  };
  const acceptSlow = (status: number, body: string) => {
    const m = /^slow done v(\S+)$/.exec(body);
    return status === 200 && !!m && good.has(m[1]!);
  };
  const load = startLoad({ host: host.host, concurrency: CONCURRENCY, maxMs: 25 * 60_000, accept });
  const slow: Array<Promise<Sample>> = [];
  const ops: Op[] = [];
  let opRunning = false;
  // slow requests on their own connections, all through every operation
  const slowTimer = setInterval(() => opRunning && slow.push(load.one(`/slow?ms=${SLOW_MS}`, acceptSlow)), SLOW_EVERY_MS);

  const run = async (name: string, args: string[], expectOk = true): Promise<CliResult> => {
    const from = load.now();
    opRunning = true;
    const r = await cli(args);
    // let the last slow requests started during the operation finish inside its window
    await new Promise((res) => setTimeout(res, SLOW_MS + 200));
    opRunning = false;
    ops.push({ name, from, to: load.now() });
    if (expectOk && r.code !== 0) console.log(readCommandLog(host).slice(-60).map((e) => `${e.ts} ${e.pid} ${e.cmd}`).join('\n'));
    if (expectOk) ok(r);
    else assert.equal(r.code, 1, r.stdout + r.stderr);
    return r;
  };

  try {
    await new Promise((r) => setTimeout(r, 3_000)); // steady state before anything moves
    const deploy = async (v: string) => {
      commitVersion(v);
      good.add(v);
      await run(`deploy ${v}`, ['deploy']);
    };
    await deploy('2.0.0');
    await deploy('3.0.0');
    await run('rollback', ['rollback']);
    await deploy('4.0.0');
    await deploy('5.0.0');
    await run('rollback', ['rollback']);
    commitVersion('6.0.0', ['--health-fail']); // its body is not in `good`: it must never be served
    const failed = await run('deploy 6.0.0 (health fails)', ['deploy'], false);
    assert.match(failed.stderr, /health check on the slot address failed/);
    await deploy('7.0.0');
    await new Promise((r) => setTimeout(r, 3_000));
  } finally {
    clearInterval(slowTimer);
    await load.stop();
  }
  const slowSamples = await Promise.all(slow);

  // switches: where the body served changes (requests sorted by start)
  const okSamples = load.samples.filter((s) => s.ok).sort((a, b) => a.start - b.start);
  const switches: number[] = [];
  const oldVersion: string[] = [];
  const versionOf = (body: string) => / v(\S+)/.exec(body)?.[1];
  for (let i = 1; i < okSamples.length; i++) {
    if (okSamples[i]!.body !== okSamples[i - 1]!.body && !switches.some((t) => okSamples[i]!.start - t < 1_000)) {
      switches.push(okSamples[i]!.start);
      oldVersion.push(versionOf(okSamples[i - 1]!.body)!);
    }
  }
  const near = (s: Sample) => switches.some((t) => Math.abs(s.start - t) <= 1_000);
  const inOp = (s: Sample) => ops.some((o) => s.start >= o.from && s.start <= o.to);
  const straddling = switches.map((t) => slowSamples.filter((s) => s.start < t && s.start + s.ms > t));

  const failures = load.samples.filter((s) => !s.ok);
  const slowFailures = slowSamples.filter((s) => !s.ok);
  const seconds = load.now() / 1000;
  console.log(`\nzero downtime: ${load.samples.length} requests in ${seconds.toFixed(0)} s (${CONCURRENCY} keep-alive connections, no retries), ${slowSamples.length} slow requests (${SLOW_MS} ms)`);
  console.log(`operations: ${ops.map((o) => `${o.name} ${((o.to - o.from) / 1000).toFixed(1)} s`).join(', ')}`);
  console.log(`switches seen by the client: ${switches.length}; slow requests in flight at each: ${straddling.map((s) => s.length).join(', ')}`);
  console.log(`  failed requests:              ${failures.length}  (slow: ${slowFailures.length})`);
  console.log(`  idle (no operation running):  ${stats(load.samples.filter((s) => !inOp(s)))}`);
  console.log(`  during operations, no switch: ${stats(load.samples.filter((s) => inOp(s) && !near(s)))}`);
  console.log(`  switch windows (±1 s):        ${stats(load.samples.filter(near))}`);
  for (const f of [...failures, ...slowFailures].slice(0, 10)) console.log(`  FAILED at ${(f.start / 1000).toFixed(3)} s: ${f.error ?? f.body}`);

  assert.deepEqual(failures.map((f) => f.error ?? f.body), [], 'no failed request');
  assert.deepEqual(slowFailures.map((f) => f.error ?? f.body), [], 'no failed slow request');
  assert.equal(switches.length, 7, '5 deploys and 2 rollbacks each moved traffic once; the failing deploy never did');
  assert.ok(straddling.every((s) => s.length > 0), 'slow requests were in flight at every switch, and all completed');
  assert.ok(straddling.every((s, i) => s.some((x) => versionOf(x.body) === oldVersion[i])), 'in-flight slow requests finished on the old slot');
  assert.ok(load.samples.length > 1_000);
});
