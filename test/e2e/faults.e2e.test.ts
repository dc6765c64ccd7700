// The fault matrix: a deploy is hit at a chosen step by (a) kill -9 of its worker mid-step,
// (b) kill -9 at the step boundary (the step just began), each followed by a new `alcaide
// worker`; (c) an SSH cut mid-step (mid-upload on a throttled link); (d) a restart of the
// Temporal dev server (SQLite); (e) a reboot of the simulated host. Every cell must converge —
// the deploy completes, or is compensated with the previous slot serving — and the host is then
// checked: what Caddy serves, exactly one running slot jail with its jail.conf.d file and
// jail_list entry, the app running there only, and no completed side effect repeated (one
// `jail -c` per slot creation in the host's invocation log, one `mix release` per attempt of
// the build in the SSH command log, each migration applied once), and no two attempts of the
// build, a migration or an install ever ran at the same moment (the host's process table,
// sampled every 50 ms). A cell counts only if its fault landed in its step (the workflow
// history: the step's activity was under way when the fault hit, and a killed, cut or
// rebooted attempt was retried); one that did not is run again, then fails. Worker kills
// (a, b) must end with the deploy completed: resuming is what they test. One sim host and one
// dev server for the whole matrix; consecutive deploys alternate slots.
// FAULT_CELLS=a:buildRelease,c runs a subset. Prints the matrix.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { AttemptWatch, type WorkKind } from '../helpers/attemptWatch';
import { Rig, sleep } from '../helpers/faultRig';
import { within } from '../helpers/within';
import { jailCreates, sshRun } from '../simhost/index';
import type { WorkflowStatus } from '../../workflows/status';

type Fault = 'a' | 'b' | 'c' | 'd' | 'e';
const FAULTS: Record<Fault, string> = {
  a: 'kill -9 worker mid-step',
  b: 'kill -9 worker at step start',
  c: 'SSH cut mid-step',
  d: 'Temporal restart',
  e: 'host reboot',
};
const STEPS = [
  'ensureBuildJail',
  'uploadSource',
  'chooseSlot',
  'buildRelease',
  'createSlotJail',
  'installRelease',
  'writeAppEnv',
  'startApp',
  'runMigrations',
  'checkHealth',
  'switchTraffic',
  'verifyThroughCaddy',
  'drainOldSlot',
  'stopOldSlot',
  'recordDeploy',
] as const;
type Step = (typeof STEPS)[number];
const ACTIVITY: Partial<Record<Step, string>> = { drainOldSlot: 'drainSlot', stopOldSlot: 'stopSlot' };

// Which cells run. Every step for the worker kills; SSH cuts where the step talks to the host
// for long enough to cut; Temporal restarts and reboots at one step of each phase.
const CELLS: Record<Fault, readonly Step[]> = {
  a: [
    'uploadSource',
    'buildRelease',
    'createSlotJail',
    'installRelease',
    'startApp',
    'runMigrations',
    'checkHealth',
    'switchTraffic',
    'drainOldSlot',
    'stopOldSlot',
  ],
  b: [
    'ensureBuildJail',
    'buildRelease',
    'chooseSlot',
    'createSlotJail',
    'writeAppEnv',
    'checkHealth',
    'switchTraffic',
    'verifyThroughCaddy',
    'stopOldSlot',
    'recordDeploy',
  ],
  c: ['uploadSource', 'buildRelease', 'createSlotJail', 'installRelease', 'runMigrations', 'checkHealth', 'stopOldSlot'],
  d: ['buildRelease', 'checkHealth', 'drainOldSlot'],
  e: ['buildRelease', 'createSlotJail', 'checkHealth', 'drainOldSlot'],
};

function selected(): Array<[Fault, Step]> {
  const all = (Object.keys(CELLS) as Fault[]).flatMap((f) => CELLS[f].map((s) => [f, s] as [Fault, Step]));
  const want = process.env.FAULT_CELLS?.split(',').filter(Boolean);
  if (!want?.length) return all;
  const cells = all.filter(([f, s]) => want.some((w) => w === f || w === `${f}:${s}`));
  // a selection that matches nothing would run no cell and pass
  const unknown = want.filter((w) => !all.some(([f, s]) => w === f || w === `${f}:${s}`));
  if (unknown.length) throw new Error(`FAULT_CELLS: ${unknown.join(', ')} matches no cell (cells: ${all.map(([f, s]) => `${f}:${s}`).join(', ')})`);
  return cells;
}

interface Cell {
  fault: Fault;
  step: Step;
  landed: string;
  /** the fault hit the step (false: it hit before or after it, and the cell proves nothing) */
  hit: boolean;
  outcome: string;
  ok: boolean;
  problems: string[];
  seconds: number;
  resumeMs?: number;
}

/** A migration long enough that a worker killed in it leaves an orphan the retry would meet. */
const SLOW_MIGRATION_SECONDS = 15;
/** The work each step does on the host, which two attempts must never do at the same moment. */
const WORK: Partial<Record<Step, WorkKind>> = { buildRelease: 'build', runMigrations: 'migrate', installRelease: 'install' };

/**
 * The fixture answers /health with 503 while this file exists in its jail: a checkHealth cell
 * holds the new slot unhealthy until its fault has hit, else a quick health check could end
 * before the fault arrives and the cell would prove nothing.
 */
const UNHEALTHY = '/tmp/alcaide-unhealthy';
/** While it exists in a slot jail, that slot's /health answers after 2 s (the fixture app). */
const SLOW = '/tmp/alcaide-slow-health';
const rig = new Rig('faults', `drain_timeout: 2s\nenv:\n  clear:\n    HEALTH_FAIL_FILE: ${UNHEALTHY}\n    HEALTH_SLOW_FILE: ${SLOW}\n`);
const watch = new AttemptWatch('hello');
const cells: Cell[] = [];

before(async () => {
  await rig.start();
  watch.start(rig.host.initPid);
  await rig.startWorker();
  const s = await rig.cli(['setup']);
  assert.equal(s.code, 0, s.stdout + s.stderr);
  const d = await rig.cli(['deploy']);
  assert.equal(d.code, 0, d.stdout + d.stderr);
});

after(async () => {
  watch.stop();
  printMatrix();
  await rig.stop();
});

function printMatrix(): void {
  if (!cells.length) return;
  const at = (f: Fault, s: Step) => cells.find((c) => c.fault === f && c.step === s);
  const faults = Object.keys(FAULTS) as Fault[];
  const lines = [`| step | ${faults.map((f) => `(${f}) ${FAULTS[f]}`).join(' | ')} |`, `| --- |${faults.map(() => ' --- |').join('')}`];
  for (const s of STEPS)
    lines.push(
      `| ${s} | ${faults
        .map((f) => {
          const c = at(f, s);
          return c ? `${c.ok ? 'pass' : 'FAIL'} (${c.outcome}${c.resumeMs !== undefined ? `, resumed ${(c.resumeMs / 1000).toFixed(1)} s` : ''})` : '—';
        })
        .join(' | ')} |`,
    );
  console.log(`\nfault matrix (${cells.filter((c) => c.ok).length}/${cells.length} pass; — = not run):\n${lines.join('\n')}`);
  for (const c of cells)
    console.log(
      `  (${c.fault}) ${c.step}: fault landed ${c.landed}; ${c.outcome} in ${c.seconds.toFixed(0)} s${c.problems.length ? `; PROBLEMS: ${c.problems.join('; ')}` : ''}`,
    );
}

/** How often the deploy scheduled its build step, and how many attempts the last one took. */
async function buildAttempts(h: WorkflowHandle): Promise<{ scheduled: number; attempts: number }> {
  const events = (await h.fetchHistory()).events ?? [];
  const ids = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'buildRelease').map((e) => Number(e.eventId));
  const started = events.filter((e) => ids.includes(Number(e.activityTaskStartedEventAttributes?.scheduledEventId ?? -1)));
  return { scheduled: ids.length, attempts: Math.max(1, ...started.map((e) => e.activityTaskStartedEventAttributes?.attempt ?? 1)) };
}

/** Polls the status query until the deploy is at `step`; for a mid-step fault, until its activity runs on the host. */
async function reach(h: WorkflowHandle, step: Step, mid: boolean, logFrom: number, since: number): Promise<string> {
  const end = Date.now() + 180_000;
  while (Date.now() < end) {
    const st = await rig.status(h);
    if (st && st.state !== 'running') throw new Error(`the deploy ended (${st.state}) before ${step}`);
    // (two steps run side by side: the step's own state, not the current step, says where it is)
    if (st?.steps.find((x) => x.name === step)?.state === 'running') {
      if (!mid || step === 'drainOldSlot') return step;
      if (step === 'buildRelease') {
        // mid-build: `mix release` running, and the slot jail made beside it already done, so
        // that the fault lands in the build alone (a cut during the slot's `jail -c` is the
        // createSlotJail cells' business, and on a loaded machine the two overlap longer)
        while (Date.now() < end && !rig.commandsSince(logFrom).some((c) => /mix (do .*\+ )?release/.test(c.cmd))) await sleep(20);
        const building = Date.now();
        const slotDone = (s?: WorkflowStatus) => ['done', 'unchanged'].includes(s?.steps.find((x) => x.name === 'createSlotJail')?.state ?? '');
        while (Date.now() < end && !slotDone(await rig.status(h))) await sleep(20);
        await sleep(Math.max(0, 800 - (Date.now() - building)));
        return 'buildRelease (build running)';
      }
      if (step === 'runMigrations') {
        // mid-migration: its VM is running on the host
        while (Date.now() < end && !watch.since(since).sessions('migrate')) await sleep(20);
        await sleep(1_000);
        return 'runMigrations (migration running)';
      }
      const d = await h.describe();
      const act = ACTIVITY[step] ?? step;
      const pending = d.raw.pendingActivities?.find((p) => p.activityType?.name === act);
      if (pending && Number(pending.state) === 2 /* STARTED */) return `${step} (activity started)`;
      if (!pending) return `${step} (activity ${act} not pending: scheduled or already done)`;
    }
    await sleep(15);
  }
  throw new Error(`the deploy never reached ${step}`);
}

/**
 * Makes the deploy's new slot unhealthy (or its health slow) as soon as its jail exists, until
 * release(): a quick step would otherwise end before its fault landed.
 */
function holdUnhealthy(h: WorkflowHandle, marker = UNHEALTHY): { release(): Promise<void> } {
  let done = false;
  let slot: string | undefined;
  const held = (async () => {
    while (!done) {
      const st = await rig.status(h);
      if (st?.slot && ['done', 'unchanged'].includes(st.steps.find((x) => x.name === 'createSlotJail')?.state ?? '')) {
        slot = st.slot;
        await sshRun(rig.host, `touch /usr/local/jails/hello_${slot}${marker}`);
        return;
      }
      await sleep(20);
    }
  })();
  return {
    async release() {
      done = true;
      await held;
      if (slot) await sshRun(rig.host, `rm -f /usr/local/jails/hello_${slot}${marker}`);
    },
  };
}

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];
const ms = (e: HistoryEvent) => Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);

/** Steps whose activity rides out a cut link or a reboot within one attempt (it polls again; the drain waits out its time). */
const RIDES_OUT: readonly Step[] = ['checkHealth', 'drainOldSlot'];

/**
 * Did the fault (at `at`, ms epoch) land in the step? From the history: the step's activity
 * was scheduled before and closed after it; a worker killed mid-step,
 * a cut link or a reboot also cost the attempt under way (the step took ≥ 2 attempts).
 */
async function landing(h: WorkflowHandle, step: Step, fault: Fault, at: number): Promise<{ hit: boolean; how: string }> {
  const events = (await h.fetchHistory()).events ?? [];
  const act = ACTIVITY[step] ?? step;
  const closeOf = (e: HistoryEvent) =>
    Number(
      (
        e.activityTaskCompletedEventAttributes ??
        e.activityTaskFailedEventAttributes ??
        e.activityTaskTimedOutEventAttributes ??
        e.activityTaskCanceledEventAttributes
      )?.scheduledEventId ?? -1,
    );
  for (const sch of events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === act)) {
    const id = Number(sch.eventId);
    const closed = events.find((e) => closeOf(e) === id);
    const attempt =
      events.find((e) => Number(e.activityTaskStartedEventAttributes?.scheduledEventId ?? -1) === id)?.activityTaskStartedEventAttributes?.attempt ?? 1;
    if (ms(sch) > at || (closed && ms(closed) < at)) continue;
    const mustRetry = fault === 'a' || ((fault === 'c' || fault === 'e') && !RIDES_OUT.includes(step));
    const how = `${act} under way (attempts: ${attempt})`;
    return { hit: !mustRetry || attempt >= 2, how: mustRetry && attempt < 2 ? `${how}, but no attempt was lost` : how };
  }
  return { hit: false, how: `${act} was not under way` };
}

async function runCell(fault: Fault, step: Step): Promise<Cell> {
  const t0 = Date.now();
  const problems: string[] = [];
  const before = await rig.hostState();
  const prevBody = before.body;
  const prevSlot = before.running[0]?.replace('hello_', '');
  const slow = step === 'runMigrations' && fault !== 'b';
  const [v] = rig.commitVersion(undefined, slow ? ['--slow-migration', String(SLOW_MIGRATION_SECONDS)] : []);
  if (!rig.workerAlive()) await rig.startWorker();
  const logFrom = rig.logLength();
  const ranFrom = rig.invocationsSince(0).length;
  if (fault === 'c' && step === 'uploadSource') await rig.sim.slowLink(rig.host.name, '48kbit');
  // the drain ends once the old slot has no request in flight: one that outlasts the drain keeps
  // it going for drain_timeout, time for the fault to land (stopping the slot ends the request)
  const inFlight = step === 'drainOldSlot' ? new AbortController() : undefined;
  if (inFlight) void fetch(`http://${rig.host.host}/slow?ms=30000`, { signal: inFlight.signal }).catch(() => undefined);
  const h = await rig.deployDetached();
  // checkHealth is held unhealthy; the ~50 ms check through Caddy is held slow (its five
  // requests answer after 2 s), so a kill at its start lands while it runs
  const hold = step === 'checkHealth' ? holdUnhealthy(h) : step === 'verifyThroughCaddy' ? holdUnhealthy(h, SLOW) : undefined;
  let landed = '';
  let resumeMs: number | undefined;
  let faultAt = 0;
  try {
    landed = await reach(h, step, fault !== 'b', logFrom, t0);
    if (fault === 'c' && step === 'uploadSource') await sleep(1_500); // part of the archive is on the host
    faultAt = Date.now();
    if (fault === 'a' || fault === 'b') {
      await rig.killWorker();
      await sleep(200);
      const spawned = await rig.startWorker();
      // resume latency: the new worker's start to the first command it sends to the host
      const seen = Date.now() + 60_000;
      while (Date.now() < seen) {
        const first = rig.commandsSince(logFrom).find((c) => c.t > spawned);
        if (first) {
          resumeMs = first.t - spawned;
          break;
        }
        const st = await rig.status(h);
        if (st && st.state !== 'running') break;
        await sleep(50);
      }
    } else if (fault === 'c') {
      await rig.sim.sshCut(rig.host.name, 3);
    } else if (fault === 'd') {
      await rig.temporal.restart();
    } else {
      await rig.sim.reboot(rig.host.name);
    }
  } finally {
    if (fault === 'c' && step === 'uploadSource') await rig.sim.slowLink(rig.host.name);
    if (hold) await hold.release();
    inFlight?.abort();
  }
  if (!rig.workerAlive()) {
    problems.push('the worker died with the fault');
    await rig.startWorker();
  }

  let outcome: string;
  let status: WorkflowStatus | undefined;
  try {
    status = (await within(240_000, 'no result', h.result())) as WorkflowStatus;
    outcome = 'completed';
  } catch (e) {
    const msg = (e as Error & { cause?: Error }).cause?.message ?? (e as Error).message;
    status = (await rig.status(h)) ?? undefined;
    outcome = /Restored:/.test(msg) && !/Some undo steps failed/.test(msg) ? 'compensated' : 'NOT CONVERGED';
    if (outcome === 'compensated') console.log(`  (${fault}) ${step} compensated: ${msg.slice(0, 300)}`);
    else problems.push(msg.slice(0, 300));
    if (/no result: not within/.test(msg)) await h.terminate('fault matrix: no result').catch(() => undefined);
  }

  const hit = await landing(h, step, fault, faultAt);
  landed += `; ${hit.how}`;
  // a worker kill tests resuming: a deploy that rolled back instead did not resume
  if ((fault === 'a' || fault === 'b') && outcome !== 'completed')
    problems.push(`expected the deploy to complete after the worker kill, it ${outcome === 'compensated' ? 'rolled back' : 'did not'}`);

  // the host
  await sleep(600); // Caddy's health checks settle (200 ms interval)
  const st = await rig.hostState();
  const next = outcome === 'completed' ? (status?.slot ?? '') : prevSlot;
  const wantBody = outcome === 'completed' ? `200 hello v${v} slot=${next}` : prevBody;
  if (st.body !== wantBody) problems.push(`Caddy serves "${st.body}", expected "${wantBody}"`);
  if (st.running.join() !== `hello_${next}`) problems.push(`running slot jails: [${st.running.join()}], expected hello_${next}`);
  if (st.jailList.join() !== `hello_${next}`) problems.push(`jail_list: [${st.jailList.join()}], expected hello_${next}`);
  if (!st.confs.includes(`hello_${next}.conf`)) problems.push(`no /etc/jail.conf.d/hello_${next}.conf`);
  const other = next === 'blue' ? 'green' : 'blue';
  if (!st.appRunning[next!] || st.appRunning[other]) problems.push(`app running: ${JSON.stringify(st.appRunning)}`);
  // side effects since the deploy started (commands sent; stand-ins that really ran)
  const cmds = rig.commandsSince(logFrom).map((c) => c.cmd);
  const builds = cmds.filter((c) => /mix do .*\+ release \$release /.test(c)).length;
  // a build cut short (its worker killed, its SSH session cut, its host rebooted) runs again; a finished one never
  // (the build runs beside the slot jail's creation, so a fault in either can cut it): each
  // attempt of the one build step sends it once, and a finished build is never scheduled again
  const build = await buildAttempts(h);
  if (build.scheduled !== 1) problems.push(`buildRelease was scheduled ${build.scheduled} times`);
  if (builds < 1 || builds > build.attempts) problems.push(`mix release ran ${builds} times in ${build.attempts} attempt(s) of the build step`);
  // a fault that cut the build short made it run again: once more, not zero times more
  if (step === 'buildRelease' && ['a', 'c', 'e'].includes(fault) && (build.attempts < 2 || builds < 2))
    problems.push(`the fault cut no build short: ${builds} build(s) in ${build.attempts} attempt(s)`);
  // no two attempts of the same work at the same moment (the host's process table)
  const seen = watch.since(t0);
  for (const o of seen.overlaps.slice(0, 3))
    problems.push(
      `two attempts of the ${o.kind} ran at the same time (${new Date(o.at).toISOString()}: ${Object.entries(o.sessions)
        .map(([sid, p]) => `session ${sid}, pid ${p}`)
        .join(' | ')})`,
    );
  const work = WORK[step];
  if (work && fault !== 'b' && fault !== 'd' && seen.sessions(work) < 1)
    problems.push(`the host's process table never showed the ${work} (the watch is blind)`);
  // each migration applied once in the slot that went live
  if (outcome === 'completed') {
    const log = await sshRun(rig.host, `jexec hello_${next} cat /var/db/hello/migrations.log`);
    const names = log.stdout.split('\n').filter(Boolean);
    if (log.code !== 0 || !names.length) problems.push(`no migrations log in hello_${next}: ${log.stderr.trim()}`);
    const twice = names.filter((n, i) => names.indexOf(n) !== i);
    if (twice.length) problems.push(`migrations applied twice: ${twice.join(', ')}`);
    if (slow && !names.includes('500_slow_migration')) problems.push('the slow migration was not applied');
  }
  const ran = rig.invocationsSince(ranFrom);
  for (const slot of ['blue', 'green']) {
    const creates = jailCreates(ran, `hello_${slot}`);
    if (creates > 1) problems.push(`jail -c hello_${slot} ran ${creates} times`);
  }
  // opening a gate is `touch` (idempotent): a switch cut short opens it again, and only then
  const opens = cmds.filter((c) => /touch \S+\/gates\/(blue|green)\.open/.test(c)).length;
  if (opens > (step === 'switchTraffic' ? 2 : 1) + (outcome === 'completed' ? 0 : 1)) problems.push(`a gate was opened ${opens} times`);
  if (outcome === 'NOT CONVERGED') problems.unshift('did not converge');
  return { fault, step, landed, hit: hit.hit, outcome, ok: problems.length === 0 && hit.hit, problems, seconds: (Date.now() - t0) / 1000, resumeMs };
}

test('fault matrix: every cell converges with the host in a known state', { timeout: 24 * 60_000 }, async () => {
  for (const [fault, step] of selected()) {
    let cell!: Cell;
    for (let run = 1; run <= 2; run++) {
      try {
        cell = await runCell(fault, step);
      } catch (e) {
        cell = { fault, step, landed: '?', hit: true, outcome: 'ERROR', ok: false, problems: [(e as Error).message], seconds: 0 };
        // leave no deploy running into the next cell
        await rig
          .handle()
          .terminate('fault matrix: cell error')
          .catch(() => undefined);
        if (!rig.workerAlive()) await rig.startWorker();
      }
      if (cell.hit) break;
      console.log(`  cell (${fault}) ${step}: the fault did not land in the step (${cell.landed})${run === 1 ? '; running it again' : ''}`);
    }
    if (!cell.hit) cell.problems.unshift('the fault did not land in the step, twice');
    cells.push(cell);
    console.log(
      `  cell (${fault}) ${step}: ${cell.ok ? 'pass' : 'FAIL'} — ${cell.outcome}, ${cell.seconds.toFixed(0)} s, landed ${cell.landed}${cell.resumeMs !== undefined ? `, resumed ${cell.resumeMs} ms after the new worker started` : ''}${cell.problems.length ? ` — ${cell.problems.join('; ')}` : ''}`,
    );
  }
  assert.deepEqual(
    cells.filter((c) => !c.ok).map((c) => `(${c.fault}) ${c.step}: ${c.problems.join('; ')}`),
    [],
  );
});
