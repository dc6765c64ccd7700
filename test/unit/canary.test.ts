// A canary on the real Caddy (the pinned build, test/helpers/caddyBin.ts), loopback only: the
// site as renderSite writes it, the share files as the builders write them under a real /bin/sh,
// clients from 127.0.0.2 (not the host's own address). The share splits cookie-less clients at
// its percent, a client with its cookie never goes back from the canary, keep-alive clients see no
// failed request while the share changes, the figures come from the slot servers' own logs, and
// switchTraffic / restoreTraffic end a canary without a request reaching the slot they leave.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createDeployActivities } from '../../activities/deploy';
import { systemClock } from '../../activities/deps';
import { Remote } from '../../activities/remote';
import { CANARY_COOKIE, CANARY_MARKER, renderSite } from '../../src/caddy/caddyfile';
import {
  dropShares,
  figures,
  parseFigures,
  parseShareFiles,
  routeAllTo,
  setShare,
  shareFiles,
  shareThreshold,
  SITE_WITHOUT_CANARY,
} from '../../src/freebsd/canary';
import { putFunction } from '../../src/freebsd/files';
import { accessLogDir, canaryShareFile, siteFile, stateDir, type Slot } from '../../src/freebsd/layout';
import { script } from '../../src/freebsd/sh';
import type { AppTarget } from '../../src/model/target';
import { testDeps } from '../helpers/activityDeps';
import { caddyBin } from '../helpers/caddyBin';
import { freePort } from '../helpers/devServer';
import { localHost, type LocalHost } from '../helpers/localHost';
import { TEST_TARGET } from '../helpers/target';

const APP = 'my_app';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Answer {
  status: number;
  slot?: string;
  /** the alcaide_canary=VALUE part of a Set-Cookie, when the answer set one */
  cookie?: string;
  setCookie: string[];
}

/** A request as a client (127.0.0.2) makes it. */
function get(port: number, o: { cookie?: string; agent?: http.Agent; path?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.2', port, path: o.path ?? '/', localAddress: '127.0.0.2', agent: o.agent ?? false, headers: o.cookie ? { Cookie: o.cookie } : {} },
      (res) => {
        res.resume();
        res.on('end', () => {
          const setCookie = res.headers['set-cookie'] ?? [];
          const ours = setCookie.find((c) => c.startsWith(`${CANARY_COOKIE}=`));
          resolve({ status: res.statusCode ?? 0, slot: res.headers['alcaide-slot'] as string | undefined, cookie: ours?.split(';')[0], setCookie });
        });
      },
    );
    req.on('error', reject);
  });
}

/** The real Caddy serving the app's site with its state, site file and logs in a temp directory. */
interface Site {
  dir: string;
  port: number;
  host: LocalHost;
  /** a builder's script run under /bin/sh on the "host" (paths moved into `dir`) */
  sh(command: string): Promise<{ code: number | null; stdout: string; stderr: string }>;
  gate(slot: Slot): string;
  target: AppTarget;
  stop(): Promise<void>;
}

async function canarySite(): Promise<Site> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'alcaide-canary-'));
  const state = path.join(dir, 'state');
  const logs = path.join(dir, 'logs');
  mkdirSync(path.join(state, 'gates'), { recursive: true });
  const app = http.createServer((q, res) => {
    res.statusCode = q.url === '/fail' ? 500 : 200;
    res.setHeader('Set-Cookie', 'app_session=1; Path=/');
    res.end('app');
  });
  app.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const appPort = (app.address() as AddressInfo).port;
  const [port, blue, green] = await Promise.all([freePort(), freePort(), freePort()]);
  const site = renderSite({ app: APP, domain: `http://:${port}`, slots: { blue: '127.0.0.1', green: '127.0.0.1' }, port: appPort, proxyPorts: { blue, green } })
    .replaceAll(stateDir(APP), state)
    .replaceAll(accessLogDir(APP), logs);
  const caddyfile = path.join(dir, 'Caddyfile');
  writeFileSync(caddyfile, `{\n\tadmin off\n\tpersist_config off\n}\n${site}`);
  writeFileSync(path.join(state, 'gates', 'blue.open'), '');
  const caddy: ChildProcess = spawn(caddyBin(), ['run', '--config', caddyfile, '--adapter', 'caddyfile'], {
    env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
    stdio: 'ignore',
  });
  const host = localHost({
    paths: { [stateDir(APP)]: state, [siteFile(APP)]: caddyfile, [accessLogDir(APP)]: logs },
    ports: { 80: port, [TEST_TARGET.appPort]: appPort },
    binDir: path.join(dir, 'bin'),
    standIns: ['jls', 'sysrc', 'service'],
  });
  let up: Answer | undefined;
  for (let i = 0; i < 100 && up?.status !== 200; i++) {
    up = await get(port).catch(() => undefined);
    if (up?.status !== 200) await sleep(100);
  }
  assert.equal(up?.status, 200, 'Caddy serves the site');
  return {
    dir,
    port,
    host,
    sh: (command) => host.conn.exec(command),
    gate: (slot) => path.join(state, 'gates', `${slot}.open`),
    target: { ...TEST_TARGET, app: APP },
    async stop() {
      caddy.kill('SIGKILL');
      app.closeAllConnections();
      await new Promise<void>((r) => app.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function mustRun(s: Site, command: string): Promise<string> {
  const r = await s.sh(command);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

/** `n` cookie-less requests, `parallel` at a time on keep-alive connections: the share of each slot. */
async function spread(port: number, n: number, parallel = 8): Promise<{ green: number; blue: number; answers: Answer[] }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: parallel });
  const answers: Answer[] = [];
  try {
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        while (answers.length < n) answers.push(await get(port, { agent }));
      }),
    );
  } finally {
    agent.destroy();
  }
  return { green: answers.filter((a) => a.slot === 'green').length, blue: answers.filter((a) => a.slot === 'blue').length, answers };
}

/** Keep-alive clients requesting until stopped: each answer with when its request started. */
function load(port: number, clients = 6) {
  const seen: Array<{ at: number; status: number; slot?: string; error?: string }> = [];
  let running = true;
  const loops = Array.from({ length: clients }, async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let cookie: string | undefined;
    while (running) {
      const at = performance.now();
      try {
        const a = await get(port, { agent, cookie });
        cookie ??= a.cookie;
        seen.push({ at, status: a.status, slot: a.slot });
      } catch (e) {
        seen.push({ at, status: 0, error: (e as Error).message });
      }
    }
    agent.destroy();
  });
  return {
    seen,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

describe('canary builders', () => {
  test('the threshold: a share of 16^4 as four hex digits, 0 below every UUID, 100 above', () => {
    assert.equal(shareThreshold(0), '0000');
    assert.equal(shareThreshold(10), '199a');
    assert.equal(shareThreshold(25), '4000');
    assert.equal(shareThreshold(50), '8000');
    assert.equal(shareThreshold(99.9999), 'ffff');
    assert.equal(shareThreshold(100), 'g');
    for (const bad of [-1, 101, Number.NaN]) assert.throws(() => shareThreshold(bad), /0\.\.100 percent/);
    // the comparison Caddy's CEL makes: lexicographic on strings
    assert.ok('0000abcd-0000-4000-8000-000000000000' > shareThreshold(0), 'a UUID starting 0000 still sorts above "0000"');
    assert.ok('ffffffff-ffff-4fff-bfff-ffffffffffff' < shareThreshold(100));
  });

  test('the builders, exactly', () => {
    assert.equal(
      shareFiles(APP),
      'if [ -f /var/db/alcaide/my_app/gates/canary-blue ]; then echo blue; fi; if [ -f /var/db/alcaide/my_app/gates/canary-green ]; then echo green; fi',
    );
    assert.equal(dropShares(APP), 'rm -f /var/db/alcaide/my_app/gates/canary-blue /var/db/alcaide/my_app/gates/canary-green');
    assert.equal(
      routeAllTo(APP, 'green'),
      [
        'if [ -f /var/db/alcaide/my_app/gates/canary-green ]; then',
        "put /var/db/alcaide/my_app/gates/canary-green 0644 'every request to green' <<'ALCAIDE_EOF'",
        'g',
        'ALCAIDE_EOF',
        'fi',
        'if [ -f /var/db/alcaide/my_app/gates/canary-blue ]; then',
        "put /var/db/alcaide/my_app/gates/canary-blue 0644 'every request to green' <<'ALCAIDE_EOF'",
        '0000',
        'ALCAIDE_EOF',
        'fi',
      ].join('\n'),
    );
    const set = setShare(APP, 'green', 10).split('\n');
    assert.ok(set.includes("grep -qxF '\t# alcaide: canary routes and slot access logs' /usr/local/etc/caddy/sites/my_app.caddy || exit 4"), set.join('\n'));
    assert.ok(set.includes("put /var/db/alcaide/my_app/gates/canary-green 0644 '10% of clients to green' <<'ALCAIDE_EOF'"));
    const count = figures(APP, 'green', 1_790_000_000_123);
    assert.match(count, /^minutes=\$\(\( \(now - 1790000000\) \/ 60 \+ 2 \)\)$/m);
    assert.match(count, /^files=\$\(find \/var\/log\/caddy\/my_app -maxdepth 1 -name 'green\.access\*\.log' -mmin -"\$minutes"/m);
    assert.match(count, /awk -v since=1790000000\.123 -v until="\$now" -v slot=green '/);
    assert.ok(count.indexOf('slot=green') < count.indexOf('slot=blue') && count.trimEnd().endsWith('echo "until $now"'));
    assert.throws(() => figures(APP, 'green', -1), /epoch milliseconds/);
  });

  test('paths are quoted by sh: a hostile app name (validated elsewhere) stays one word', () => {
    const hostile = "a b'$(touch /tmp/x)";
    for (const cmd of [setShare(hostile, 'green', 10), routeAllTo(hostile, 'blue'), dropShares(hostile), shareFiles(hostile), figures(hostile, 'green', 0)]) {
      assert.ok(cmd.includes(`'/var/db/alcaide/a b'\\''$(touch /tmp/x)/gates/canary-`) || cmd.includes(`'/var/log/caddy/a b'\\''$(touch /tmp/x)'`), cmd);
      assert.equal(spawnSync('/bin/sh', ['-n', '-c', cmd]).status, 0, `sh parses it: ${cmd}`);
    }
  });

  test('the share file under /bin/sh: written once, refused on a site without the canary routes, the other direction removed', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'alcaide-canary-sh-'));
    try {
      const site = path.join(dir, 'site.caddy');
      const h = localHost({ paths: { [stateDir(APP)]: path.join(dir, 'state'), [siteFile(APP)]: site }, ports: {}, binDir: path.join(dir, 'bin') });
      const share = (slot: Slot) => path.join(dir, 'state', 'gates', `canary-${slot}`);
      writeFileSync(site, ':80 {\n\t# alcaide: maintenance and pause gates\n}\n');
      const old = await h.conn.exec(setShare(APP, 'green', 10));
      assert.equal(old.code, SITE_WITHOUT_CANARY, 'a site written before canaries');
      assert.ok(!existsSync(share('green')));

      writeFileSync(site, `:80 {\n\t${CANARY_MARKER}\n}\n`);
      const first = await h.conn.exec(setShare(APP, 'green', 10));
      assert.equal(first.code, 0, first.stderr);
      assert.equal(readFileSync(share('green'), 'utf8'), '199a\n');
      assert.match(first.stdout, /^\+ 10% of clients to green$/m);
      assert.equal((await h.conn.exec(setShare(APP, 'green', 10))).stdout.trim(), '', 'a rerun changes nothing');
      assert.deepEqual(parseShareFiles((await h.conn.exec(shareFiles(APP))).stdout), ['green']);

      // a canary of the other direction replaces this one
      const other = await h.conn.exec(setShare(APP, 'blue', 50));
      assert.equal(other.code, 0, other.stderr);
      assert.equal(readFileSync(share('blue'), 'utf8'), '8000\n');
      assert.ok(!existsSync(share('green')));

      // everything to a slot: the canary's file says all or none
      assert.equal((await h.conn.exec(script(putFunction(), routeAllTo(APP, 'green')))).code, 0);
      assert.equal(readFileSync(share('blue'), 'utf8'), '0000\n', 'blue the canary, everything to green: none to blue');
      await h.conn.exec(script(putFunction(), routeAllTo(APP, 'blue')));
      assert.equal(readFileSync(share('blue'), 'utf8'), 'g\n', 'everything to blue: all of it');
      await h.conn.exec(dropShares(APP));
      assert.deepEqual(parseShareFiles((await h.conn.exec(shareFiles(APP))).stdout), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('figures parse by role; anything else is an error', () => {
    assert.deepEqual(parseFigures('green 12 3\nblue 40 0\nuntil 1790000000\n', 'green'), {
      canary: { requests: 12, errors: 3 },
      stable: { requests: 40, errors: 0 },
      until: 1_790_000_000_000,
    });
    assert.throws(() => parseFigures('green 12 3\nuntil 1\n', 'green'), /unexpected access-log figures/);
  });
});

describe('canary routes served by the real Caddy', () => {
  let s: Site;
  before(async () => {
    s = await canarySite();
  });
  after(async () => {
    await s?.stop();
  });

  test('a share of 10 % and of 50 %: 2,000 cookie-less requests each land within 5 points; each gets its cookie', async () => {
    for (const percent of [10, 50]) {
      await mustRun(s, setShare(APP, 'green', percent));
      const r = await spread(s.port, 2000);
      const got = (100 * r.green) / r.answers.length;
      assert.ok(Math.abs(got - percent) <= 5, `${percent} %: green took ${got.toFixed(1)} % of ${r.answers.length}`);
      assert.equal(r.green + r.blue, r.answers.length, 'every answer from a slot');
      for (const a of r.answers) {
        assert.equal(a.status, 200);
        const ours = a.setCookie.find((c) => c.startsWith(`${CANARY_COOKIE}=`));
        assert.match(ours ?? '', /^alcaide_canary=[0-9a-f-]{36}; Path=\/; HttpOnly; SameSite=Lax$/);
        assert.match(a.cookie!.split('=')[1]!, UUID);
        assert.ok(a.setCookie.includes('app_session=1; Path=/'), "the app's own cookie kept");
      }
    }
    await mustRun(s, dropShares(APP));
  });

  test('a client keeping its cookie never leaves the canary while the share goes 10 → 25 → 50 (200 requests each)', async () => {
    await mustRun(s, setShare(APP, 'green', 10));
    const clients = await Promise.all(
      Array.from({ length: 40 }, async () => {
        const first = await get(s.port);
        return { cookie: first.cookie!, slots: [first.slot!], agent: new http.Agent({ keepAlive: true, maxSockets: 1 }) };
      }),
    );
    for (const [i, percent] of [10, 25, 50].entries()) {
      await mustRun(s, setShare(APP, 'green', percent));
      const n = i === 2 ? 200 - 1 - 2 * 66 : 66;
      await Promise.all(
        clients.map(async (c) => {
          for (let k = 0; k < n; k++) {
            const a = await get(s.port, { cookie: c.cookie, agent: c.agent });
            assert.equal(a.cookie, undefined, 'no new cookie for a client that has one');
            c.slots.push(a.slot!);
          }
        }),
      );
    }
    for (const c of clients) c.agent.destroy();
    await mustRun(s, dropShares(APP));
    const value = (c: { cookie: string }) => c.cookie.split('=')[1]!;
    let moved = 0;
    for (const c of clients) {
      assert.equal(c.slots.length, 200);
      const firstGreen = c.slots.indexOf('green');
      // once on the canary, always on it: at most one move, blue to green, when the share passed its value
      if (firstGreen >= 0)
        assert.ok(
          c.slots.slice(firstGreen).every((x) => x === 'green'),
          `${value(c)}: ${c.slots.join(' ')}`,
        );
      if (firstGreen > 0) moved++;
      if (value(c) < shareThreshold(10)) assert.equal(firstGreen, 0, `${value(c)} is on the canary from the first request`);
      if (value(c) >= shareThreshold(50)) assert.equal(firstGreen, -1, `${value(c)} stays on the stable slot`);
    }
    assert.ok(
      clients.some((c) => value(c) >= shareThreshold(50)),
      'some clients stay on blue',
    );
    assert.ok(moved <= clients.length);
  });

  test('share 0 sends everything to the stable slot, 100 everything to the canary, whatever the cookie', async () => {
    const cookies = [undefined, `${CANARY_COOKIE}=00000000-0000-4000-8000-000000000000`, `${CANARY_COOKIE}=ffffffff-ffff-4fff-bfff-ffffffffffff`];
    const hostile = ['zzz', '', 'g', '0', '~', 'FFFFFFFF-FFFF-4FFF-BFFF-FFFFFFFFFFFF'].map((v) => `${CANARY_COOKIE}=${v}`);
    for (const [percent, slot] of [
      [0, 'blue'],
      [100, 'green'],
    ] as const) {
      await mustRun(s, setShare(APP, 'green', percent));
      const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
      const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => get(s.port, { agent, cookie: [...cookies, ...hostile][i % 9] })));
      agent.destroy();
      assert.deepEqual([...new Set(answers.map((a) => `${a.status} ${a.slot}`))], [`200 ${slot}`], `share ${percent}`);
      // a cookie that is not one of ours counts as none: replaced
      assert.ok(answers.filter((_, i) => i % 9 >= 3).every((a) => a.cookie && UUID.test(a.cookie.split('=')[1]!)));
    }
    await mustRun(s, dropShares(APP));
  });

  test('keep-alive clients see no failed request while the share changes, drops and comes back', async () => {
    const l = load(s.port, 6);
    try {
      for (const percent of [5, 25, 50, 0, 75, 100, 10, 50, 100, 0, 30]) {
        await mustRun(s, setShare(APP, 'green', percent));
        await sleep(60);
      }
      await mustRun(s, dropShares(APP));
      await sleep(60);
      await mustRun(s, setShare(APP, 'green', 50));
      await sleep(60);
      await mustRun(s, dropShares(APP));
      await sleep(60);
    } finally {
      await l.stop();
    }
    const failed = l.seen.filter((x) => x.status !== 200);
    assert.deepEqual(failed.slice(0, 5), [], `${failed.length} of ${l.seen.length} failed`);
    assert.ok(l.seen.length > 300, `${l.seen.length} requests`);
    assert.deepEqual([...new Set(l.seen.map((x) => x.slot))].sort(), ['blue', 'green']);
  });

  test("the figures: requests and 5xx per slot from each slot server's log since a moment, readiness checks not counted", async () => {
    // before the moment: not counted
    await mustRun(s, setShare(APP, 'green', 100));
    for (let i = 0; i < 5; i++) await get(s.port, { path: '/fail' });
    await sleep(50);
    const since = Date.now();
    await sleep(50);
    const send = async (n: number, p: string) => {
      for (let i = 0; i < n; i++) {
        const a = await get(s.port, { path: p });
        // a readiness answer is the slot's gate (503 on green, whose gate is closed: a 5xx, were it logged)
        if (p !== '/__alcaide/ready') assert.equal(a.status, p === '/fail' ? 500 : 200);
      }
    };
    await send(30, '/');
    await send(7, '/fail');
    await send(10, '/__alcaide/ready'); // through the canary route to green's readiness answer
    await mustRun(s, setShare(APP, 'green', 0));
    await send(20, '/');
    await send(3, '/fail');
    await send(10, '/__alcaide/ready');
    await mustRun(s, dropShares(APP));
    // the count ends at the host's last whole second: the requests of the second after it wait for the next count
    await sleep(1100 - (Date.now() % 1000));
    await mustRun(s, setShare(APP, 'green', 100));
    await send(4, '/fail');
    await mustRun(s, dropShares(APP));
    const count = async (sinceMs: number) => parseFigures(await mustRun(s, figures(APP, 'green', sinceMs)), 'green');
    const f = await count(since);
    assert.deepEqual(
      [f.canary, f.stable],
      [
        { requests: 37, errors: 7 },
        { requests: 23, errors: 3 },
      ],
    );
    assert.ok(f.until <= Date.now() && f.until > Date.now() - 1000, `until ${f.until} is the host's last whole second`);
    await sleep(1100 - (Date.now() % 1000));
    const next = await count(f.until);
    assert.deepEqual(
      [next.canary, next.stable],
      [
        { requests: 4, errors: 4 },
        { requests: 0, errors: 0 },
      ],
      'counted from until: the later requests once, nothing twice',
    );

    // a rolled file written since then counts too; one last written before `since` is not read
    const logs = path.join(s.dir, 'logs');
    const rolled = path.join(logs, 'green.access-2026-11-30T00-00-00.000.log');
    copyFileSync(path.join(logs, 'green.access.log'), rolled);
    assert.deepEqual((await count(since)).canary, { requests: 82, errors: 22 });
    const old = (Date.now() - 3 * 3600_000) / 1000;
    utimesSync(rolled, old, old);
    assert.deepEqual((await count(since)).canary, { requests: 41, errors: 11 });
  });
});

describe('switchTraffic and restoreTraffic end a canary on the real Caddy', () => {
  let s: Site;
  before(async () => {
    s = await canarySite();
  });
  after(async () => {
    await s?.stop();
  });

  const activities = () => createDeployActivities(testDeps({ remote: () => new Remote(s.host.conn), clock: systemClock }));
  const shareFile = (slot: Slot) => path.join(s.dir, 'state', 'gates', path.basename(canaryShareFile(APP, slot)));

  /** The gates as given, Caddy's checks seeing them (lb path), and a canary on green at `percent`. */
  async function canaryOnGreen(open: Slot[], percent: number) {
    for (const slot of ['blue', 'green'] as const) {
      if (open.includes(slot)) writeFileSync(s.gate(slot), '');
      else rmSync(s.gate(slot), { force: true });
    }
    await mustRun(s, dropShares(APP));
    await sleep(600);
    await mustRun(s, setShare(APP, 'green', percent));
  }

  /** When the command labelled `label` ended: from then on a request must not reach `slot`. */
  function endedAfter(label: string, since: number): number {
    const c = s.host.commands.find((x) => x.label === label && x.endedAt > since);
    assert.ok(c, `a command labelled "${label}" ran: ${s.host.commands.map((x) => x.label).join(', ')}`);
    return c.endedAt;
  }

  function reached(seen: ReturnType<typeof load>['seen'], slot: Slot, from: number) {
    return seen.filter((x) => x.at > from && x.slot === slot).length;
  }

  test('the promote (switchTraffic): everything to the canary first, then the gates, the share file gone last; no request reaches the old slot after', async () => {
    await canaryOnGreen(['blue'], 30);
    const l = load(s.port);
    await sleep(300);
    const t0 = performance.now();
    let res;
    try {
      res = await activities().switchTraffic(s.target, 'green', 'blue');
      await sleep(400);
    } finally {
      await l.stop();
    }
    assert.match(res.note, /Caddy routes to green .*the canary share removed/);
    const allToGreen = endedAfter('open the green gate', t0);
    assert.ok(reached(l.seen, 'blue', 0) > 0, 'blue served before');
    assert.equal(reached(l.seen, 'blue', allToGreen), 0, 'no request reached blue once every request went to green');
    assert.deepEqual(l.seen.filter((x) => x.status !== 200).slice(0, 3), [], 'no failed request');
    assert.ok(!existsSync(shareFile('green')), 'the share file is gone');
    assert.ok(existsSync(s.gate('green')) && !existsSync(s.gate('blue')), 'the gates switched');
    assert.equal(readFileSync(path.join(s.dir, 'state', 'active'), 'utf8'), 'green\n');
  });

  test('the abort (restoreTraffic) during a canary: everything to the stable slot first; no request reaches the canary after', async () => {
    await canaryOnGreen(['blue'], 50);
    const l = load(s.port);
    await sleep(300);
    const t0 = performance.now();
    try {
      await activities().restoreTraffic(s.target, 'blue', 'green');
      await sleep(400);
    } finally {
      await l.stop();
    }
    const allToBlue = endedAfter('every request to blue', t0);
    assert.ok(reached(l.seen, 'green', 0) > 0, 'green served before');
    assert.equal(reached(l.seen, 'green', allToBlue), 0, 'no request reached green once every request went to blue');
    assert.deepEqual(l.seen.filter((x) => x.status !== 200).slice(0, 3), [], 'no failed request');
    assert.ok(!existsSync(shareFile('green')), 'the share file is gone');
    assert.ok(existsSync(s.gate('blue')) && !existsSync(s.gate('green')));
  });

  test('the undo of a promote cut short (gates already on the canary, its share file still there): no request reaches the canary after everything went back', async () => {
    await canaryOnGreen(['green'], 100);
    const l = load(s.port);
    await sleep(300);
    const t0 = performance.now();
    try {
      await activities().restoreTraffic(s.target, 'blue', 'green');
      await sleep(400);
    } finally {
      await l.stop();
    }
    const allToBlue = endedAfter('every request to blue', t0);
    assert.ok(reached(l.seen, 'green', 0) > 0, 'green served before');
    assert.equal(reached(l.seen, 'green', allToBlue), 0, 'no request reached green once every request went to blue');
    assert.deepEqual(l.seen.filter((x) => x.status !== 200).slice(0, 3), [], 'no failed request');
    assert.ok(!existsSync(shareFile('green')), 'the share file is gone');
  });

  test('without a share file both behave as before: no share file written', async () => {
    await mustRun(s, dropShares(APP));
    const switched = await activities().switchTraffic(s.target, 'green', 'blue');
    const restored = await activities().restoreTraffic(s.target, 'blue', 'green');
    // the share files are written only where one exists (`if [ -f ... ]`): none is, none appears
    assert.ok(!existsSync(shareFile('blue')) && !existsSync(shareFile('green')));
    assert.deepEqual(
      [switched.note, restored.note].filter((n) => n.includes('canary')),
      [],
    );
    assert.ok(existsSync(s.gate('blue')) && !existsSync(s.gate('green')));
  });
});
