// A fleet of four simulated FreeBSD hosts under faults, through the real CLI, a real dev server,
// a separate `alcaide worker` process, real OpenSSH, each host's own Caddy and a real Elixir
// release; web hosts switch two at a time (boot.limit 2). Each deploy is hit once:
//   - host 3's new slot turns unhealthy after the first batch switched (its own check through
//     Caddy fails), under keep-alive load through every host's Caddy;
//   - kill -9 of the worker while a host's switch is under way (a new worker takes over);
//   - the SSH link of one host cut while the release is copied to it (throttled, so the cut
//     lands mid-copy);
//   - a host rebooted while it waits, prepared, for its batch.
// Each must converge: every host serves one version (the new one, or all the old one), one
// slot jail runs on each (listed and configured), the app runs there only; and no work is
// done twice: one build, one `jail -c` per slot and host, each migration applied once.
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { jailCreates, readCommandLog, readInvocations, sshRun, type SimHost } from '../simhost/index';
import { E2eProject, ok } from '../helpers/e2eProject';
import { hostStateOf, sleep } from '../helpers/faultRig';
import { startLoad } from '../helpers/load';
import { within } from '../helpers/within';
import { WorkerProcess } from '../helpers/workerProcess';
import { queryStatus } from '../../src/temporal/statusQuery';
import { releaseArtifact } from '../../src/freebsd/layout';
import type { WorkflowStatus } from '../../workflows/status';

const UNHEALTHY = '/tmp/alcaide-unhealthy';
const SLOW = '/tmp/alcaide-slow-health';

let p: E2eProject;
let hosts: SimHost[];
let worker: WorkerProcess;

before(async () => {
  p = await E2eProject.start({
    prefix: 'fleet-faults-',
    queue: 'fleet-faults',
    hosts: 4,
    config: { boot: { limit: 2, wait: '2s' }, drain_timeout: '2s', env: { clear: { HEALTH_FAIL_FILE: UNHEALTHY, HEALTH_SLOW_FILE: SLOW } } },
  });
  hosts = p.hosts;
  worker = await startWorker();
});
after(async () => {
  await worker?.kill();
  await p?.sim.sshRestore().catch(() => undefined);
  await p?.stop();
});

const startWorker = () => WorkerProcess.start({ cwd: p.app, env: { ...process.env, ...p.cliEnv() } });
const parent = () => p.env.client.workflow.getHandle('alcaide-hello');
const child = (h: SimHost) => p.env.client.workflow.getHandle(`alcaide-hello@${h.host}`);
const status = (h: WorkflowHandle) => queryStatus(h).catch(() => undefined);

/** Polls `read` until it returns something (every 50 ms, up to 5 min); else fails with where the deploy stood. */
async function until<T>(what: string, read: () => Promise<T | undefined>): Promise<T> {
  for (const end = Date.now() + 300_000; Date.now() < end; await sleep(50)) {
    const v = await read();
    if (v !== undefined) return v;
  }
  const s = await status(parent());
  throw new Error(`never: ${what}; the deploy: ${s?.state} ${s?.error ?? ''} ${JSON.stringify(s?.hosts)}`);
}

/** `alcaide deploy --detach` of `version`: the parent's handle, and where each host's logs stood. */
async function deploy(version: string) {
  const from = hosts.map((h) => ({ ran: readInvocations(h).length, cmds: readCommandLog(h).length }));
  ok(await p.cli(['deploy', '--detach']));
  const run = await until('the deploy runs', async () => {
    const s = await status(parent());
    return s?.version === version ? s : undefined;
  });
  assert.equal(run.kind, 'fleet-deploy');
  return { handle: parent(), from };
}

/** The deploy's end: 'completed', or 'restored' with the failure's message. */
async function outcome(h: WorkflowHandle): Promise<{ end: 'completed' | 'restored'; message: string; status: WorkflowStatus }> {
  try {
    const s = (await within(480_000, 'the deploy ends', h.result())) as WorkflowStatus;
    return { end: 'completed', message: '', status: s };
  } catch (e) {
    const err = e as Error & { cause?: Error & { details?: unknown[] } };
    const message = err.cause?.message ?? err.message;
    assert.match(message, /Restored:/, `the deploy neither completed nor restored: ${message}`);
    assert.doesNotMatch(message, /Some undo steps failed|not taken back/, message);
    return { end: 'restored', message, status: err.cause?.details?.[0] as WorkflowStatus };
  }
}

/**
 * Every host serves `version` from exactly one slot jail (running, in jail_list, configured),
 * the app runs there only; since `from`: one build, one `jail -c` per slot on each host, each
 * migration applied once on the primary host.
 */
async function assertOneVersion(version: string, from: Array<{ ran: number; cmds: number }>): Promise<void> {
  await sleep(600); // Caddy's health checks of the gates settle (200 ms interval)
  const problems: string[] = [];
  for (const [i, h] of hosts.entries()) {
    const st = await hostStateOf(h);
    const m = /^200 hello v(\S+) slot=(blue|green)$/.exec(st.body);
    if (m?.[1] !== version) problems.push(`${h.name}: Caddy serves "${st.body}", expected v${version}`);
    const slot = m?.[2] ?? '?';
    if (st.running.join() !== `hello_${slot}`) problems.push(`${h.name}: running slot jails [${st.running.join()}], expected hello_${slot}`);
    if (st.jailList.join() !== `hello_${slot}`) problems.push(`${h.name}: jail_list [${st.jailList.join()}], expected hello_${slot}`);
    if (!st.confs.includes(`hello_${slot}.conf`)) problems.push(`${h.name}: no hello_${slot}.conf`);
    if (Object.entries(st.appRunning).some(([s, on]) => on !== (s === slot))) problems.push(`${h.name}: the app runs in ${JSON.stringify(st.appRunning)}`);
    const ran = readInvocations(h).slice(from[i]!.ran);
    for (const s of ['blue', 'green'])
      if (jailCreates(ran, `hello_${s}`) > 1) problems.push(`${h.name}: jail -c hello_${s} ran ${jailCreates(ran, `hello_${s}`)} times`);
    const builds = readCommandLog(h)
      .slice(from[i]!.cmds)
      .filter((e) => /mix do .*\+ release \$release /.test(e.cmd ?? '')).length;
    if (builds !== (i === 0 ? 1 : 0)) problems.push(`${h.name}: mix release ran ${builds} times`);
  }
  const live = /slot=(\w+)/.exec((await hostStateOf(hosts[0]!)).body)?.[1];
  const log = await sshRun(hosts[0]!, `jexec hello_${live} cat /var/db/hello/migrations.log`);
  const names = log.stdout.split('\n').filter(Boolean);
  if (log.code !== 0 || !names.length) problems.push(`no migrations log on the primary host: ${log.stderr.trim()}`);
  if (new Set(names).size !== names.length) problems.push(`a migration applied twice: ${names.join(', ')}`);
  assert.deepEqual(problems, [], `one version on every host (v${version})`);
}

/** A slot jail's file of the app's own (a marker the fixture reads on each request). */
const marker = (h: SimHost, slot: string | undefined, file: string, on: boolean) =>
  sshRun(h, on ? `touch /usr/local/jails/hello_${slot}${file}` : `rm -f /usr/local/jails/hello_${slot}${file}`);

describe('a fleet of four simulated FreeBSD hosts under faults', () => {
  let current = '1.0.0';

  test('setup and deploy v1 on four hosts: each serves it, built once', async () => {
    ok(await p.cli(['setup'], { timeoutMs: 600_000 }));
    const { handle, from } = await deploy(p.head());
    const r = await outcome(handle);
    assert.equal(r.end, 'completed', r.message);
    await assertOneVersion(current, from);
  });

  test('host 3 unhealthy after the first batch switched: every host back on v1, 0 failed requests through every Caddy', async () => {
    const v2 = p.commitVersion('2.0.0');
    const accept = (s: number, body: string) => s === 200 && /^hello v(1\.0\.0|2\.0\.0) slot=(blue|green)$/.test(body);
    const loads = hosts.map((h) => startLoad({ host: h.host, concurrency: 2, maxMs: 600_000, accept }));
    try {
      const { handle, from } = await deploy(v2);
      const third = hosts[2]!;
      // the first batch (hosts 1 and 2) has switched; host 3 waits for the second
      const s = await until('the first batch switched', async () => {
        const x = await status(handle);
        return x?.hosts?.[0]?.state === 'switched' && x.hosts[1]?.state === 'switched' ? x : undefined;
      });
      assert.equal(s.hosts?.[2]?.state, 'prepared', 'host 3 had not switched yet');
      assert.equal((await marker(third, s.hosts?.[2]?.slot, UNHEALTHY, true)).code, 0);
      const r = await outcome(handle);
      await marker(third, s.hosts?.[2]?.slot, UNHEALTHY, false);
      assert.equal(r.end, 'restored', 'the deploy went back');
      assert.match(r.message, new RegExp(`${third.host.replace(/\./g, '\\.')}: `), 'host 3 is named');
      assert.deepEqual(
        r.status.hosts?.map((h) => h.state),
        ['undone', 'undone', 'failed', 'undone'],
      );
      // host 3 failed after its gate opened: Caddy never answered healthy from its new slot
      // (switchTraffic waits for that), not its health check in the slot
      const c = (await status(child(third)))!;
      const state = (n: string) => c.steps.find((x) => x.name === n)?.state;
      assert.ok(['done', 'unchanged'].includes(state('checkHealth') ?? ''), `checkHealth ${state('checkHealth')}`);
      assert.equal(state('switchTraffic'), 'failed', c.error);
      assert.match(c.steps.find((x) => x.name === 'switchTraffic')?.error ?? '', /Caddy did not route to (blue|green)/);
      assert.deepEqual(
        c.compensations?.map((x) => `${x.name} ${x.state}`),
        ['restoreTraffic done', 'destroySlot done'],
        'its traffic went back, its new slot removed',
      );
      await assertOneVersion(current, from);
    } finally {
      const ends = await Promise.all(loads.map((l) => l.stop()));
      assert.ok(
        ends.every((e) => e.ranToEnd),
        'the loads ran to the end',
      );
    }
    const failed = loads.flatMap((l, i) => l.samples.filter((x) => !x.ok).map((x) => `${hosts[i]!.name}: ${x.body || x.error}`));
    const seen = loads.map((l) => new Set(l.samples.map((x) => /v(\S+) /.exec(x.body)?.[1])));
    console.log(`  load: ${loads.map((l, i) => `${hosts[i]!.name} ${l.samples.length} requests (${[...seen[i]!].join(', ')})`).join('; ')}`);
    assert.deepEqual(failed.slice(0, 5), [], `${failed.length} failed requests`);
    // the switched hosts really served v2 under the load before they went back
    for (const i of [0, 1]) assert.ok(seen[i]!.has('2.0.0'), `${hosts[i]!.name} served v2 for a while`);
  });

  test('kill -9 of the worker while a host switches: a new worker finishes the deploy, every host on v3', async () => {
    const v3 = p.commitVersion('3.0.0');
    const { handle, from } = await deploy(v3);
    const first = hosts[0]!;
    // hold the first host's checks through Caddy open (its /health answers in 2 s, from as soon as
    // its slot jail exists), and kill the worker inside its switch
    const slot = await until('host 1 has its slot jail', async () => {
      const c = await status(child(first));
      return c?.slot && ['done', 'unchanged'].includes(c.steps.find((x) => x.name === 'createSlotJail')?.state ?? '') ? c.slot : undefined;
    });
    await marker(first, slot, SLOW, true);
    const step = await until('host 1 switches', async () => {
      const c = await status(child(first));
      return c?.currentStep === 'switchTraffic' || c?.currentStep === 'verifyThroughCaddy' ? c.currentStep : undefined;
    });
    await worker.kill();
    await marker(first, slot, SLOW, false);
    worker = await startWorker();
    const r = await outcome(handle);
    assert.equal(r.end, 'completed', r.message);
    // the kill landed: the step ran again, on the new worker
    const attempts = await activityAttempts(child(first), step);
    assert.ok(attempts >= 2, `${step} ran ${attempts} time(s)`);
    current = '3.0.0';
    await assertOneVersion(current, from);
  });

  test("host 2's link cut while the release is copied to it: the copy resumes, never rebuilt, every host on v4", async () => {
    const v4 = p.commitVersion('4.0.0');
    const second = hosts[1]!;
    await p.sim.slowLink(second.name, '16mbit');
    try {
      const { handle, from } = await deploy(v4);
      // part of the release has reached host 2
      const part = path.join(second.root, 'usr/local/jails/hello_build', `${releaseArtifact('hello', v4)}.part`);
      await until('the copy to host 2 under way', async () => (existsSync(part) && statSync(part).size > 0 ? true : undefined));
      const killed = await p.sim.sshCut(second.name, 5);
      assert.ok(killed >= 1, 'an SSH session was cut');
      await p.sim.slowLink(second.name, undefined);
      const r = await outcome(handle);
      assert.equal(r.end, 'completed', r.message);
      assert.ok((await activityAttempts(handle, 'copyRelease')) >= 2, 'the copy was cut and ran again');
      const notes = (await activityResults(handle, 'copyRelease')).map((x) => (x as { note: string }).note);
      assert.ok(
        notes.some((n) => /resumed at \d/.test(n)),
        `the copy to host 2 resumed where it was cut: ${notes.join(' | ')}`,
      );
      current = '4.0.0';
      await assertOneVersion(current, from);
    } finally {
      await p.sim.slowLink(second.name, undefined).catch(() => undefined);
    }
  });

  test('host 4 rebooted while it waits for its batch: the fleet converges on one version', async () => {
    const v5 = p.commitVersion('5.0.0');
    const fourth = hosts[3]!;
    const { handle, from } = await deploy(v5);
    await until('host 4 prepared, the first batch switching', async () => {
      const x = await status(handle);
      return x?.hosts?.[3]?.state === 'prepared' && x.hosts.slice(0, 2).some((h) => h.state === 'switched') ? true : undefined;
    });
    const boot = await p.sim.reboot(fourth.name);
    assert.ok(boot.ok, 'the host came back');
    const r = await outcome(handle);
    console.log(`  reboot of ${fourth.name} (${boot.seconds} s): ${r.end}${r.message ? ` — ${r.message.slice(0, 200)}` : ''}`);
    if (r.end === 'completed') current = '5.0.0';
    await assertOneVersion(current, from);
  });
});

/** What each completed activity of type `type` returned, in a workflow's history. */
async function activityResults(h: WorkflowHandle, type: string): Promise<unknown[]> {
  const events = (await h.fetchHistory()).events ?? [];
  const scheduled = new Set(events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === type).map((e) => Number(e.eventId)));
  return events
    .filter((e) => e.activityTaskCompletedEventAttributes && scheduled.has(Number(e.activityTaskCompletedEventAttributes.scheduledEventId)))
    .map((e) => defaultPayloadConverter.fromPayload(e.activityTaskCompletedEventAttributes!.result!.payloads![0]!));
}

/** The most attempts any activity of type `type` took in a workflow's history (its started event records the last). */
async function activityAttempts(h: WorkflowHandle, type: string): Promise<number> {
  const events = (await h.fetchHistory()).events ?? [];
  const scheduled = new Set(events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === type).map((e) => Number(e.eventId)));
  const attempts = events
    .filter((e) => e.activityTaskStartedEventAttributes && scheduled.has(Number(e.activityTaskStartedEventAttributes.scheduledEventId)))
    .map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 1);
  return Math.max(0, ...attempts);
}
