// Chaos soak (`npm run proof:chaos`; not part of CI): under steady HTTP load, CHAOS_RUNS
// operations (deploys, rollbacks, deploys that fail their migration), each hit at a random
// moment by one fault: kill -9 of the worker, an SSH cut, a Temporal restart, a host reboot or
// the host's link down for 10 s. After each: one version live, exactly one slot jail running
// and in jail_list with its conf file, the deploy state naming it, Caddy serving it; no two
// attempts of a build, migration or install at the same moment (the host's process table); no
// failed request outside the link-down windows. CHAOS_SEED replays a run; every failure prints
// the seed. Figures go to bench/results/chaos-DATE.json.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { AttemptWatch } from '../helpers/attemptWatch';
import { Rig, sleep } from '../helpers/faultRig';
import { startLoad, type Load } from '../helpers/load';
import { REPO_ROOT } from '../helpers/paths';
import { within } from '../helpers/within';
import { sshRun } from '../simhost/index';

const RUNS = Number(process.env.CHAOS_RUNS ?? 30);
const SEED = Number(process.env.CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const OPS = ['deploy', 'deploy', 'rollback', 'failing deploy'] as const;
const FAULTS = ['worker kill -9', 'SSH cut', 'Temporal restart', 'host reboot', 'link down 10 s'] as const;
type Op = (typeof OPS)[number];
type Fault = (typeof FAULTS)[number];

/** mulberry32: a small seedable generator, so a seed replays the same operations and moments. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Run {
  n: number;
  op: Op;
  fault: Fault;
  faultAfterMs: number;
  outcome: string;
  live: string;
  seconds: number;
  problems: string[];
}

const rig = new Rig('chaos', 'drain_timeout: 2s\n');
const watch = new AttemptWatch('hello');
const runs: Run[] = [];
const linkDown: Array<[number, number]> = [];
let load: Load;

before(async () => {
  await rig.start();
  watch.start(rig.host.initPid);
  await rig.startWorker();
  assert.equal((await rig.cli(['setup'])).code, 0);
  assert.equal((await rig.cli(['deploy'])).code, 0);
  load = startLoad({ host: rig.host.host, concurrency: 4, maxMs: 4 * 3600_000, accept: (s, b) => s === 200 && /^hello v\S+ slot=(blue|green)$/.test(b) });
});

after(async () => {
  watch.stop();
  await load?.stop();
  report();
  await rig.stop();
});

/** The host's link down (the root side of its veth), as a pulled cable would. */
async function pullLink(seconds: number): Promise<void> {
  const dev = execFileSync('ip', ['-o', '-4', 'addr', 'show', 'to', `${rig.host.gateway}/32`], { encoding: 'utf8' }).split(/\s+/)[1]!;
  const from = load.now();
  execFileSync('ip', ['link', 'set', 'dev', dev, 'down']);
  await sleep(seconds * 1000);
  execFileSync('ip', ['link', 'set', 'dev', dev, 'up']);
  linkDown.push([from, load.now() + 2_000]); // connections dropped by the cut fail just after it too
}

async function inject(fault: Fault): Promise<void> {
  if (fault === 'worker kill -9') {
    await rig.killWorker();
    await rig.startWorker();
  } else if (fault === 'SSH cut') await rig.sim.sshCut(rig.host.name, 3);
  else if (fault === 'Temporal restart') await rig.temporal.restart();
  else if (fault === 'host reboot') await rig.sim.reboot(rig.host.name);
  else await pullLink(10);
}

async function start(op: Op): Promise<WorkflowHandle> {
  if (op === 'rollback') {
    const before = await rig
      .handle()
      .describe()
      .then((d) => d.runId);
    void rig.cli(['rollback']); // follows the run; the handle is what is watched
    for (let i = 0; i < 600; i++) {
      const d = await rig
        .handle()
        .describe()
        .catch(() => undefined);
      if (d && d.runId !== before) return rig.handle(d.runId);
      await sleep(50);
    }
    throw new Error('the rollback did not start');
  }
  rig.commitVersion(undefined, op === 'failing deploy' ? ['--migration-fail'] : []);
  return rig.deployDetached();
}

/** The host agrees with itself: one slot live everywhere it is recorded, and Caddy serves it. */
async function consistency(): Promise<{ live: string; problems: string[] }> {
  const problems: string[] = [];
  await sleep(600);
  const st = await rig.hostState();
  const active = (await sshRun(rig.host, 'cat /var/db/alcaide/hello/active')).stdout.trim();
  const slot = /slot=(blue|green)$/.exec(st.body)?.[1];
  if (!slot) problems.push(`Caddy serves "${st.body}"`);
  if (st.running.join() !== `hello_${slot}`) problems.push(`running slot jails: [${st.running.join()}], Caddy serves ${slot}`);
  if (st.jailList.join() !== `hello_${slot}`) problems.push(`jail_list: [${st.jailList.join()}]`);
  if (!st.confs.includes(`hello_${slot}.conf`)) problems.push(`no jail.conf.d file for hello_${slot}`);
  if (active !== slot) problems.push(`the deploy state names ${active || 'no slot'}, Caddy serves ${slot}`);
  return { live: st.body.replace(/^200 hello /, ''), problems };
}

test(`chaos soak: ${RUNS} operations, one fault each (seed ${SEED})`, { timeout: 4 * 3600_000 }, async () => {
  const rnd = random(SEED);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  for (let n = 1; n <= RUNS; n++) {
    // a rollback needs a previous release on the host: none before the second deploy
    const op = ((o) => (o === 'rollback' && !runs.some((r) => r.op === 'deploy' && r.outcome.startsWith('completed')) ? 'deploy' : o))(pick(OPS));
    const fault = pick(FAULTS);
    // most operations take 5-30 s here: a moment in the first 12 s lands in most of them
    const faultAfterMs = Math.round(300 + rnd() * 12_000);
    const t0 = Date.now();
    const problems: string[] = [];
    let outcome = '';
    try {
      if (!rig.workerAlive()) await rig.startWorker();
      const h = await start(op);
      const result = h.result().then(
        () => 'completed',
        (e: Error & { cause?: Error }) =>
          /Restored:/.test(e.cause?.message ?? e.message) && !/Some undo steps failed/.test(e.cause?.message ?? e.message)
            ? 'compensated'
            : `failed: ${(e.cause?.message ?? e.message).slice(0, 200)}`,
      );
      // the fault lands at its moment, or not at all when the operation ended before it
      const early = await Promise.race([result.then(() => true), sleep(faultAfterMs).then(() => false)]);
      if (!early) await inject(fault);
      if (!rig.workerAlive()) await rig.startWorker();
      outcome = await within(300_000, 'no result', result);
      if (early) outcome += ' (ended before the fault)';
      if (op === 'failing deploy' && !outcome.startsWith('compensated')) problems.push(`a failing deploy must be compensated, it ${outcome}`);
      if (op !== 'failing deploy' && !outcome.startsWith('completed') && !outcome.startsWith('compensated')) problems.push(outcome);
    } catch (e) {
      outcome = 'ERROR';
      problems.push((e as Error).message);
      await rig
        .handle()
        .terminate('chaos: run error')
        .catch(() => undefined);
    }
    const host = await consistency();
    problems.push(...host.problems);
    for (const o of watch.since(t0).overlaps.slice(0, 2)) problems.push(`two attempts of the ${o.kind} at the same time: ${JSON.stringify(o.sessions)}`);
    const run: Run = { n, op, fault, faultAfterMs, outcome, live: host.live, seconds: (Date.now() - t0) / 1000, problems };
    runs.push(run);
    console.log(
      `  ${n}/${RUNS} ${op} + ${fault} at ${(faultAfterMs / 1000).toFixed(1)} s: ${outcome}, live ${host.live}, ${run.seconds.toFixed(0)} s${problems.length ? ` — PROBLEMS (seed ${SEED}): ${problems.join('; ')}` : ''}`,
    );
  }
  const failed = failedRequests();
  assert.deepEqual(
    [
      ...runs.filter((r) => r.problems.length).map((r) => `run ${r.n} (${r.op} + ${r.fault}): ${r.problems.join('; ')}`),
      ...(failed.length ? [`${failed.length} failed requests outside link-down windows, first: ${JSON.stringify(failed[0])}`] : []),
    ],
    [],
    `seed ${SEED}`,
  );
});

function failedRequests() {
  return load.samples.filter((s) => !s.ok && !linkDown.some(([a, b]) => s.start + s.ms >= a && s.start <= b));
}

function report(): void {
  if (!runs.length) return;
  const lines = ['| # | operation | fault | at | outcome | live after | s | problems |', '| --- | --- | --- | --- | --- | --- | --- | --- |'];
  for (const r of runs)
    lines.push(
      `| ${r.n} | ${r.op} | ${r.fault} | ${(r.faultAfterMs / 1000).toFixed(1)} s | ${r.outcome} | ${r.live} | ${r.seconds.toFixed(0)} | ${r.problems.join('; ') || '—'} |`,
    );
  const requests = load.samples.length;
  const failed = failedRequests().length;
  const inWindows = load.samples.filter((s) => !s.ok).length - failed;
  const landed = runs.filter((r) => !r.outcome.includes('ended before the fault')).length;
  console.log(
    `\nchaos soak, seed ${SEED}: ${runs.filter((r) => !r.problems.length).length}/${runs.length} runs clean (${landed} hit by their fault, the others ended first); ${requests} requests, ${failed} failed outside link-down windows, ${inWindows} inside\n${lines.join('\n')}`,
  );
  const dir = path.join(REPO_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const date = new Date().toISOString().slice(0, 10);
  writeFileSync(
    path.join(dir, `chaos-${date}.json`),
    `${JSON.stringify({ date, command: `CHAOS_SEED=${SEED} CHAOS_RUNS=${RUNS} npm run proof:chaos`, seed: SEED, requests, failedOutsideLinkDown: failed, failedInLinkDown: inWindows, runs }, null, 2)}\n`,
  );
}
