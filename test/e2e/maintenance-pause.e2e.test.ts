// Maintenance mode and pauses on the simulated host, under a keep-alive load through Caddy.
// Maintenance: clients get 503 with the page and Retry-After while the app keeps running; a
// deploy meanwhile completes (its checks through Caddy come from the host itself) and keeps
// maintenance on; turning it off loses no request. Pause: new requests wait at Caddy and go on
// at the resume — by `alcaide resume`, by --max, and by the host's own timer when no worker is
// left. Every answer the load saw is the app's or the maintenance page, never an error.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Rig, sleep } from '../helpers/faultRig';
import type { CliResult } from '../helpers/cli';
import { startLoad, type Load } from '../helpers/load';
import { sshRun } from '../simhost/index';

const rig = new Rig('maintenance', 'drain_timeout: 2s\n');
const APP = /^hello v[\d.]+ slot=(blue|green)$/;
const PAGE = /Down for maintenance/;

before(async () => {
  await rig.startDeployed();
});

after(async () => {
  await rig.stop();
});

const fetchSite = async () => {
  const r = await fetch(`http://${rig.host.host}/`, { signal: AbortSignal.timeout(5_000) });
  return { status: r.status, retryAfter: r.headers.get('retry-after'), body: await r.text() };
};

test('a site written before maintenance mode: `maintenance on` changes nothing and says to run setup, which makes it ready', async () => {
  const site = '/usr/local/etc/caddy/sites/hello.caddy';
  await sshRun(rig.host, `grep -v 'alcaide: maintenance and pause gates' ${site} > /tmp/old-site && cat /tmp/old-site > ${site}`);
  const on = await rig.cli(['maintenance', 'on']);
  assert.equal(on.code, 1, on.stdout + on.stderr);
  assert.match(on.stderr, /the Caddy site of hello on .* was written before maintenance mode: run `alcaide setup` once/);
  assert.equal((await sshRun(rig.host, 'ls /var/db/alcaide/hello/gates')).stdout.includes('maintenance'), false, 'nothing written');
  assert.match(await rig.through(), /^200 hello v/);
  const s = await rig.cli(['setup']);
  assert.equal(s.code, 0, s.stdout + s.stderr);
  assert.equal((await sshRun(rig.host, `grep -c 'alcaide: maintenance and pause gates' ${site}`)).stdout.trim(), '1');
});

test('maintenance on: 503 with the page and Retry-After, the app keeps running; a deploy keeps it on; off loses no request', async () => {
  let offAt = Infinity;
  const load = startLoad({
    host: rig.host.host,
    concurrency: 3,
    maxMs: 10 * 60_000,
    accept: (status, body) => (status === 200 && APP.test(body)) || (status === 503 && PAGE.test(body)),
  });
  try {
    const on = await rig.cli(['maintenance', 'on', '--message', 'Back at <14:00> & soon', '--retry-after', '90s']);
    assert.equal(on.code, 0, on.stdout + on.stderr);
    assert.match(on.stdout, /hello is in maintenance on .*: its clients get 503 with the maintenance page \(Retry-After: 90\)/);
    const down = await fetchSite();
    assert.equal(down.status, 503);
    assert.equal(down.retryAfter, '90');
    assert.match(down.body, /Back at &#60;14:00&#62; &#38; soon/);
    const state = await rig.hostState();
    assert.ok(state.running.length > 0 && Object.values(state.appRunning).some(Boolean), `the app keeps running: ${JSON.stringify(state)}`);

    const overview = await rig.cli(['status', '--all', '--json']);
    assert.equal(overview.code, 0, overview.stdout + overview.stderr);
    const app = (JSON.parse(overview.stdout) as Array<{ apps: Array<{ app: string; maintenance?: { retryAfterSeconds: number; by: string } }> }>)[0]!.apps.find(
      (a) => a.app === 'hello',
    );
    assert.equal(app?.maintenance?.retryAfterSeconds, 90, overview.stdout);

    // a deploy meanwhile: its checks through Caddy reach the new slot; clients still get the page
    rig.commitVersion('3.0.0');
    const d = await rig.cli(['deploy']);
    assert.equal(d.code, 0, d.stdout + d.stderr);
    const still = await fetchSite();
    assert.equal(still.status, 503, 'the deploy kept maintenance on');

    const off = await rig.cli(['maintenance', 'off']);
    assert.equal(off.code, 0, off.stdout + off.stderr);
    offAt = load.now();
    const up = await fetchSite();
    assert.equal(up.status, 200);
    assert.match(up.body, /^hello v3\.0\.0 /, 'the version deployed during maintenance serves');
    await new Promise((r) => setTimeout(r, 1_000));
  } finally {
    const end = await load.stop();
    assert.ok(end.ranToEnd, 'the load ran until it was stopped');
  }
  const failed = load.samples.filter((s) => !s.ok);
  assert.deepEqual(
    failed.slice(0, 5).map((s) => s.error ?? s.body.slice(0, 80)),
    [],
    `${failed.length} of ${load.samples.length} requests failed`,
  );
  const pages = load.samples.filter((s) => s.body.startsWith('503 '));
  assert.ok(pages.length > 0, 'the load saw the maintenance page');
  const afterOff = load.samples.filter((s) => s.start > offAt);
  assert.ok(afterOff.length > 0, 'requests after maintenance off');
  assert.deepEqual(
    afterOff.filter((s) => !s.body.startsWith('200 ')).map((s) => s.body.slice(0, 40)),
    [],
    'once `maintenance off` returned, every request reached the app',
  );
});

/** Runs `alcaide pause` in the background and waits until the requests are held. */
async function pauseRunning(args: string[]): Promise<{ done: Promise<CliResult> }> {
  const pause = rig.cli(['pause', ...args]);
  const h = rig.handle();
  for (let i = 0; i < 300; i++) {
    const s = await rig.status(h);
    if (s?.kind === 'pause' && s.currentStep === 'paused') return { done: pause };
    await sleep(100);
  }
  throw new Error(`the pause never held requests: ${JSON.stringify(await Promise.race([pause, sleep(10).then(() => 'still running')]))}`);
}

/** Every request the load made was answered by the app, and some came after `t` (load clock). */
function noneFailedAndServedAfter(load: Load, t: number, what: string): void {
  const failed = load.samples.filter((s) => !s.ok);
  assert.deepEqual(
    failed.slice(0, 5).map((s) => s.error ?? s.body.slice(0, 80)),
    [],
    `${failed.length} of ${load.samples.length} requests failed`,
  );
  assert.ok(
    load.samples.some((s) => s.start > t),
    what,
  );
}

const appLoad = () => startLoad({ host: rig.host.host, concurrency: 3, maxMs: 10 * 60_000, accept: (status, body) => status === 200 && APP.test(body) });

test('pause: new requests wait at Caddy (none fails) and go on at `alcaide resume`, and by themselves at --max', async () => {
  const load = appLoad();
  let resumedAt = 0;
  try {
    await sleep(500);
    const pause = await pauseRunning(['--max', '25s']);
    const heldFrom = load.now();
    await sleep(2_000);
    const resume = await rig.cli(['resume']);
    resumedAt = load.now();
    assert.equal(resume.code, 0, resume.stdout + resume.stderr);
    assert.match(resume.stdout, /hello resumed: the held requests go on/);
    const p = await pause.done;
    assert.equal(p.code, 0, p.stdout + p.stderr);
    assert.match(p.stdout, /hello serves again: resumed by /);
    // the requests in flight when the pause took hold waited through it, then were answered
    const held = load.samples.filter((x) => x.start <= heldFrom && x.start + x.ms >= heldFrom + 1_500);
    assert.ok(held.length > 0, `a request waited through the pause: ${load.samples.map((x) => `${x.start}+${Math.round(x.ms)}`).join(' ')}`);

    // not resumed: it ends by itself at --max
    const short = await pauseRunning(['--max', '2s']);
    const s2 = await short.done;
    assert.equal(s2.code, 0, s2.stdout + s2.stderr);
    assert.match(s2.stdout, /ended after 2s \(--max\)/);
    await sleep(500);
  } finally {
    await load.stop();
  }
  noneFailedAndServedAfter(load, resumedAt, 'requests after the resume');
});

test("pause: with no worker left, the host's own timer lets the requests go on at --max; a worker later finishes the workflow", async () => {
  const load = appLoad();
  let endedBy = 0;
  try {
    const pause = await pauseRunning(['--max', '4s']);
    const pausedAt = load.now();
    // the worker that runs the pause, and the CLI, go away: no step will resume it
    await rig.killWorker();
    await pause.done.catch(() => undefined);
    await sleep(6_000);
    endedBy = pausedAt + 6_000;
    assert.match(await rig.through(), /^200 hello v/, 'serving again, with no worker');
    await rig.startWorker();
    const done = await rig.handle().result();
    assert.equal(done.state, 'completed');
  } finally {
    await load.stop();
  }
  noneFailedAndServedAfter(load, endedBy, 'requests after the timer resumed');
});
