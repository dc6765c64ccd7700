// Zero downtime, measured as a client without retries sees it: continuous keep-alive requests
// through Caddy while 5 deploys, 2 rollbacks and 1 deploy that fails its health check run
// against a simulated FreeBSD host. Every response is recorded with its version and time and
// held to what the product guarantees (`timeline`): 200 with the exact body of a healthy
// version, one atomic switch per operation that moves traffic, in-flight requests finished on
// the old slot. Latency (p50/p99) in switch windows vs steady state is printed, not asserted.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { readCommandLog, type SimHost } from '../simhost/index';
import type { CliResult } from '../helpers/cli';
import { E2eProject, ok } from '../helpers/e2eProject';
import { percentile, startLoad, type LoadEnd, type Sample } from '../helpers/load';
import { openGate } from '../../src/freebsd/caddy';
import { codecKey } from '../../src/temporal/codec';

const MASTER_KEY = Buffer.alloc(32, 9);
const CONCURRENCY = 6;
const SLOW_MS = 2_000;
const SLOW_EVERY_MS = 300;

let p: E2eProject;
let host: SimHost;

const cli = (args: string[]): Promise<CliResult> => p.cli(args);
const commitVersion = (v: string, flags: string[] = []) => p.commitVersion(v, flags);

before(async () => {
  p = await E2eProject.start({
    prefix: 'alcaide-zd-',
    queue: 'zd',
    masterKey: MASTER_KEY,
    codecKeys: [codecKey(MASTER_KEY, 'zd master key')],
    config: { health_check: { path: '/health', interval: '200ms', timeout: '10s' }, drain_timeout: '4s' },
  });
  host = p.host;
  ok(await cli(['setup']));
  ok(await cli(['deploy']));
});

after(async () => {
  await p?.stop();
});

/** An operation under load: the version live before and after it, and when its switch began. */
interface Op {
  name: string;
  /** ms on the load's clock */
  from: number;
  to: number;
  before: string;
  after: string;
  /** the gate commands the product sent during the operation (load clock, from the host's command log) */
  switches: number[];
}

function stats(samples: Sample[]): string {
  const ms = samples.map((s) => s.ms);
  return `n=${String(samples.length).padStart(6)}  p50=${percentile(ms, 50).toFixed(1).padStart(6)} ms  p99=${percentile(ms, 99).toFixed(1).padStart(7)} ms  max=${ms
    .reduce((a, b) => Math.max(a, b), 0)
    .toFixed(1)
    .padStart(7)} ms`;
}

const sec = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
const versionOf = (s: Sample) => (s.ok ? / v(\S+)/.exec(s.body)?.[1] : undefined);
const end = (s: Sample) => s.start + s.ms;

/**
 * What the product guarantees, checked on every response: the problems found (none is a pass).
 * - Outside operations only the live version answers.
 * - During an operation only the version before it and the version after it answer.
 * - Caddy switches atomically: once a response of the new version has ended (the switch is
 *   complete), no request that starts later is answered by the old version (no flapping back);
 *   and no response of the new version ends before the product opened its gate.
 * - Requests already in flight finish on the old slot: every slow request started before the
 *   switch began and still running then finishes 200 on the old version, and some of them only
 *   after the new version answered (so the drain was tested). The switch begins with the gate
 *   command, logged by the host before it runs: until the gate opens the new slot's readiness
 *   answers 503, so Caddy cannot have routed an earlier request there.
 * - An operation that keeps the version moves no traffic (no gate command).
 * `seen`: what each switch looked like, for the log.
 */
function timeline(ops: Op[], fast: Sample[], slow: Sample[], first: string): { problems: string[]; seen: string[] } {
  const problems: string[] = [];
  const seen: string[] = [];
  const all = [...fast, ...slow].filter((s) => s.ok);
  let live = first;
  let previousEnd = -Infinity;
  for (const op of ops) {
    const idle = all.filter((s) => s.start > previousEnd && s.start < op.from && versionOf(s) !== live);
    for (const s of idle.slice(0, 5))
      problems.push(`before ${op.name}, no operation running: a request started at ${sec(s.start)} was answered by v${versionOf(s)}, not the live v${live}`);
    const during = all.filter((s) => s.start >= op.from && s.start <= op.to);
    for (const s of during.filter((x) => ![op.before, op.after].includes(versionOf(x)!)).slice(0, 5)) {
      problems.push(`${op.name}: a request started at ${sec(s.start)} was answered by v${versionOf(s)}, neither v${op.before} nor v${op.after}`);
    }
    if (op.before === op.after) {
      if (op.switches.length) problems.push(`${op.name}: kept v${op.before} yet sent a gate command at ${op.switches.map(sec).join(', ')}`);
    } else if (op.switches.length !== 1) {
      problems.push(`${op.name}: ${op.switches.length} gate commands in the host's command log, expected 1`);
    } else {
      const [switchAt] = op.switches as [number];
      const firstNew = during.filter((s) => versionOf(s) === op.after).reduce<Sample | undefined>((a, s) => (a && end(a) <= end(s) ? a : s), undefined);
      if (!firstNew) {
        problems.push(`${op.name}: v${op.after} never answered`);
      } else {
        const done = end(firstNew);
        if (done < switchAt) problems.push(`${op.name}: v${op.after} answered at ${sec(done)}, before the product opened its gate at ${sec(switchAt)}`);
        const late = during.filter((s) => versionOf(s) === op.before && s.start > done);
        for (const s of late.slice(0, 5))
          problems.push(
            `${op.name}: flapped: a request started at ${sec(s.start)} was answered by the old v${op.before} after the new v${op.after} had answered at ${sec(done)} (${late.length} such)`,
          );
        const inFlight = slow.filter((s) => s.start < switchAt && end(s) > switchAt);
        for (const s of inFlight.filter((x) => versionOf(x) !== op.before)) {
          problems.push(
            `${op.name}: a slow request in flight when the switch began (${sec(s.start)} to ${sec(end(s))}, switch at ${sec(switchAt)}) ended ${s.error ?? s.body}, not 200 from the old v${op.before}`,
          );
        }
        if (!inFlight.some((s) => end(s) > done))
          problems.push(
            `${op.name}: no slow request was still in flight on the old slot once v${op.after} answered (${inFlight.length} in flight at the switch)`,
          );
        const lastOld = during.filter((s) => versionOf(s) === op.before).reduce((m, s) => Math.max(m, s.start), -Infinity);
        seen.push(
          `${op.name}: gate at ${sec(switchAt)}; last v${op.before} request started ${(lastOld - switchAt).toFixed(0)} ms after it, first v${op.after} answer ended ${(done - switchAt).toFixed(0)} ms after it; ${inFlight.length} slow requests in flight`,
        );
      }
    }
    live = op.after;
    previousEnd = op.to;
  }
  for (const s of all.filter((x) => x.start > previousEnd && versionOf(x) !== live).slice(0, 5)) {
    problems.push(`after the last operation: a request started at ${sec(s.start)} was answered by v${versionOf(s)}, not the live v${live}`);
  }
  return { problems, seen };
}

test('5 deploys, 2 rollbacks and a failing deploy under continuous load: 0 failed requests, one atomic switch each', { timeout: 30 * 60_000 }, async () => {
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
  let live = '1.0.0';
  let opRunning = false;
  // slow requests on their own connections, all through every operation
  const slowTimer = setInterval(() => opRunning && slow.push(load.one(`/slow?ms=${SLOW_MS}`, acceptSlow)), SLOW_EVERY_MS);
  // the product's switch: the command that opens a slot's gate, as the host logged it (load clock)
  const gateCommands = (from: number, to: number) =>
    readCommandLog(host)
      .filter((e) => (['blue', 'green'] as const).some((slot) => e.cmd?.includes(openGate('hello', slot))))
      .map((e) => e.t * 1000 - load.t0)
      .filter((t) => t >= from && t <= to);

  const run = async (name: string, args: string[], after: string, expectOk = true): Promise<CliResult> => {
    const from = load.now();
    opRunning = true;
    const r = await cli(args);
    // let the last slow requests started during the operation finish inside its window
    await new Promise((res) => setTimeout(res, SLOW_MS + 200));
    opRunning = false;
    const to = load.now();
    ops.push({ name, from, to, before: live, after, switches: gateCommands(from, to) });
    live = after;
    if (expectOk && r.code !== 0)
      console.log(
        readCommandLog(host)
          .slice(-60)
          .map((e) => `${e.ts} ${e.pid} ${e.cmd}`)
          .join('\n'),
      );
    if (expectOk) ok(r);
    else assert.equal(r.code, 1, r.stdout + r.stderr);
    return r;
  };

  let loadEnd: LoadEnd;
  try {
    await new Promise((r) => setTimeout(r, 3_000)); // steady state before anything moves
    const deploy = async (v: string) => {
      commitVersion(v);
      good.add(v);
      const r = await run(`deploy ${v}`, ['deploy'], v);
      // the drain ended once Caddy had no request in flight to the old slot (read through SSH),
      // not at drain_timeout, and not before the slow ones: one starts every 300 ms and takes
      // 2 s, so one still runs there for 1.7 s after the switch (the app's own graceful stop
      // would let it finish even so: the drain's length is what shows it waited)
      const drained = /drain the old slot.*no request in flight on (?:blue|green) after (\d+\.\d)s/.exec(r.stdout);
      assert.ok(drained, r.stdout);
      assert.ok(Number(drained[1]) >= 1, `the drain ended after ${drained[1]} s, with slow requests in flight`);
    };
    await deploy('2.0.0');
    await deploy('3.0.0');
    await run('rollback', ['rollback'], '2.0.0');
    await deploy('4.0.0');
    await deploy('5.0.0');
    await run('rollback', ['rollback'], '4.0.0');
    commitVersion('6.0.0', ['--health-fail']); // its body is not in `good`: it must never be served
    const failed = await run('deploy 6.0.0 (health fails)', ['deploy'], '4.0.0', false);
    assert.match(failed.stderr, /health check on the slot address failed/);
    await deploy('7.0.0');
    await new Promise((r) => setTimeout(r, 3_000));
  } finally {
    clearInterval(slowTimer);
    loadEnd = await load.stop();
  }
  const slowSamples = await Promise.all(slow);

  const near = (s: Sample) => ops.some((o) => o.switches.some((t) => Math.abs(s.start - t) <= 1_000));
  const inOp = (s: Sample) => ops.some((o) => s.start >= o.from && s.start <= o.to);
  const failures = load.samples.filter((s) => !s.ok);
  const slowFailures = slowSamples.filter((s) => !s.ok);
  console.log(
    `\nzero downtime: ${load.samples.length} requests in ${(loadEnd.stoppedAt / 1000).toFixed(0)} s (${CONCURRENCY} keep-alive connections, no retries), ${slowSamples.length} slow requests (${SLOW_MS} ms)`,
  );
  console.log(`operations: ${ops.map((o) => `${o.name} ${((o.to - o.from) / 1000).toFixed(1)} s`).join(', ')}`);
  console.log(
    `switches (the gate command on the host): ${ops
      .flatMap((o) => o.switches)
      .map(sec)
      .join(', ')}`,
  );
  console.log(`  failed requests:              ${failures.length}  (slow: ${slowFailures.length})`);
  console.log(`  idle (no operation running):  ${stats(load.samples.filter((s) => !inOp(s)))}`);
  console.log(`  during operations, no switch: ${stats(load.samples.filter((s) => inOp(s) && !near(s)))}`);
  console.log(`  switch windows (±1 s):        ${stats(load.samples.filter(near))}`);
  for (const f of [...failures, ...slowFailures].slice(0, 10)) console.log(`  FAILED at ${sec(f.start)}: ${f.error ?? f.body}`);
  const { problems: broken, seen } = timeline(ops, load.samples, slowSamples, '1.0.0');
  for (const line of seen) console.log(`  ${line}`);

  // every broken guarantee at once, so a failure shows all of them
  const summary = (what: string, list: Sample[]) =>
    list.length
      ? [
          `${list.length} ${what}, first: ${list
            .slice(0, 5)
            .map((f) => `${sec(f.start)} ${f.error ?? f.body}`)
            .join('; ')}`,
        ]
      : [];
  const problems = [
    ...(loadEnd.ranToEnd
      ? []
      : [`the load stopped at its deadline (${sec(loadEnd.stoppedAt)}) before the operations ended: the requests after it were never made`]),
    ...summary('failed requests', failures),
    ...summary('failed slow requests', slowFailures),
    ...broken,
  ];
  assert.deepEqual(problems, [], 'every request answered as the product guarantees');
  assert.equal(ops.filter((o) => o.switches.length).length, 7, '5 deploys and 2 rollbacks each moved traffic once; the failing deploy never did');
  assert.ok(load.samples.length > 1_000);
});
