// Canary deploys on the simulated host, through its real Caddy, under a keep-alive load that
// sends no cookie (each request placed anew: the share of requests is the share of clients):
// the share achieved is the target's within ±5 points over ≥ 2,000 requests; a client that keeps
// its cookie stays on one version; `alcaide promote` gives the new version every client with no
// failed request. A version that answers 500 to 20 % of its requests is sent back by itself, the
// CLI prints how many requests it failed, and the old slot failed none.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Rig, sleep } from '../helpers/faultRig';
import { startLoad } from '../helpers/load';

const rig = new Rig('canary', 'drain_timeout: 2s\nrollout:\n  interval: 10m\n  check_interval: 2s\n  max_error_rate: 5\n  min_requests: 20\n');
const APP = /^hello v([\d.]+) slot=(blue|green)$/;
const INJECTED = /^injected error \(errors=20 in VERSION\)$/;

before(async () => {
  await rig.startDeployed();
});

after(async () => {
  await rig.stop();
});

/** Waits until the running deploy's canary has `share` % of clients on the new slot. */
async function canaryAt(share: number): Promise<void> {
  const h = rig.handle();
  for (let i = 0; i < 1200; i++) {
    const s = await rig.status(h);
    if (s?.currentStep === 'canary' && s.canary?.share === share) return;
    await sleep(250);
  }
  throw new Error(`the canary never reached ${share}%: ${JSON.stringify(await rig.status(h))}`);
}

const versionOf = (body: string) => APP.exec(body.replace(/^200 /, ''))?.[1];

test('a 25% canary serves 25% ± 5 of 2,000 requests, a cookie keeps a client on one version, promote gives the new one every client', async () => {
  rig.commitVersion('2.0.0');
  const deploy = rig.cli(['deploy', '--canary', '25%'], 600_000);
  await canaryAt(25);
  // status: the share, until when, both slots' figures and what to do
  const status = await rig.cli(['status']);
  assert.match(status.stdout, /canary: 25% of clients on (blue|green) until \d\d:\d\d:\d\dZ \(steps 25%, then all\)/, status.stdout);
  assert.match(status.stdout, /(blue|green) \d+ of \d+ requests 5xx .*`alcaide promote` gives/);
  const load = startLoad({ host: rig.host.host, concurrency: 4, maxMs: 5 * 60_000, accept: (status, body) => status === 200 && APP.test(body) });
  let during: string[] = [];
  try {
    while (load.samples.length < 2_400) await sleep(200);
    during = load.samples.map((s) => s.body);

    // a client that keeps its cookie: placed once, then always on the same version
    const first = await fetch(`http://${rig.host.host}/`, { signal: AbortSignal.timeout(5_000) });
    const cookie = first.headers.get('set-cookie')?.split(';')[0];
    assert.match(cookie ?? '', /^alcaide_canary=[0-9a-f-]{36}$/);
    const placed = versionOf(await first.text());
    for (let i = 0; i < 100; i++) {
      const r = await fetch(`http://${rig.host.host}/`, { headers: { cookie: cookie! }, signal: AbortSignal.timeout(5_000) });
      assert.equal(r.headers.get('set-cookie'), null, 'a placed client is not placed again');
      assert.equal(versionOf(await r.text()), placed, `request ${i} of a placed client`);
    }

    const promote = await rig.cli(['promote']);
    assert.equal(promote.code, 0, promote.stdout + promote.stderr);
    assert.match(promote.stdout, /promote sent: every client goes to (blue|green)/);
    const d = await deploy;
    assert.equal(d.code, 0, d.stdout + d.stderr);
    assert.match(d.stdout, /canary: a share of clients on the new slot .*promoted by /);
    await sleep(1_000);
  } finally {
    await load.stop();
  }
  const failed = load.samples.filter((s) => !s.ok);
  assert.deepEqual(
    failed.slice(0, 5).map((s) => s.error ?? s.body.slice(0, 80)),
    [],
    `${failed.length} of ${load.samples.length} requests failed`,
  );
  const sample = during.slice(0, 2_400);
  const onNew = sample.filter((b) => versionOf(b) === '2.0.0').length;
  const share = (100 * onNew) / sample.length;
  console.log(`# canary 25%: ${onNew} of ${sample.length} requests on the new version (${share.toFixed(1)}%)`);
  assert.ok(Math.abs(share - 25) <= 5, `25% ± 5 of ${sample.length} requests, got ${share.toFixed(1)}%`);
  assert.equal(sample.filter((b) => !versionOf(b)).length, 0);
  // after the promote every request is the new version's
  const last = load.samples.slice(-50).map((s) => versionOf(s.body));
  assert.deepEqual([...new Set(last)], ['2.0.0']);
  const after = await rig.cli(['status']);
  assert.match(after.stdout, /canary: a share of clients on the new slot/);
});

test('a canary that answers 500 to 20% of its requests goes back by itself: the count is printed, the old slot failed none', async () => {
  rig.commitVersion('3.0.0', ['--error-rate', '20']);
  const load = startLoad({
    host: rig.host.host,
    concurrency: 4,
    maxMs: 5 * 60_000,
    accept: (status, body) => status === 200 && APP.test(body),
  });
  let d;
  try {
    d = await rig.cli(['deploy', '--canary', '50%'], 600_000);
    await sleep(1_000);
  } finally {
    await load.stop();
  }
  assert.equal(d.code, 1, d.stdout + d.stderr);
  const m =
    /at 50% of clients (blue|green) answered 5xx to [\d.]+% of its requests.*?; (\d+) requests were answered 5xx by \1 before traffic went back\. Restored: traffic back to (blue|green)/s.exec(
      d.stderr + d.stdout,
    );
  assert.ok(m, d.stdout + d.stderr);
  const printed = Number(m[2]);
  const failed = load.samples.filter((s) => !s.ok);
  const injected = failed.filter((s) => INJECTED.test(s.body.replace(/^500 /, '')));
  console.log(`# canary breach: ${printed} failed requests printed, ${injected.length} seen by the load (${load.samples.length} requests)`);
  // every failed request was the new version's injected 500: the old slot failed none
  assert.deepEqual(
    failed
      .filter((s) => !injected.includes(s))
      .slice(0, 5)
      .map((s) => s.error ?? s.body.slice(0, 80)),
    [],
    `${failed.length} failed, ${injected.length} of them the canary's`,
  );
  // the count is taken after every client went back: what users saw, give or take a request at a second's edge
  assert.ok(printed > 0 && Math.abs(printed - injected.length) <= Math.max(3, injected.length * 0.02), `printed ${printed}, the load saw ${injected.length}`);
  // users saw failures for about one check interval (2 s) at most: the count is share × error rate × rate × that
  const window = injected.at(-1)!.start - injected[0]!.start;
  console.log(`# the canary failed requests for ${window} ms (check_interval 2s)`);
  assert.ok(window <= 2_000 + 3_000, `failures for ${window} ms`);
  // after the roll back every request is the old version's
  assert.deepEqual([...new Set(load.samples.slice(-30).map((s) => versionOf(s.body)))], ['2.0.0']);
  assert.match(await rig.through(), /^200 hello v2\.0\.0 /);
});
