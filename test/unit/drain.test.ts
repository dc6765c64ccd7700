// The drain on the real Caddy (the pinned build), loopback only: the site as renderSite writes it,
// the admin API on a unix socket as the FreeBSD port has it, reached through the "SSH" tunnel.
// It waits for a request still in flight on the old slot and ends once there is none, ends at
// drain_timeout when one outlasts it, waits drain_timeout when the admin API does not answer.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import type { Duplex } from 'node:stream';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { systemClock } from '../../activities/deps';
import { createDrainActivities } from '../../activities/drain';
import { Remote } from '../../activities/remote';
import { ADMIN_ENDPOINTS, upstreamsInFlight } from '../../src/caddy/admin';
import { renderSite } from '../../src/caddy/caddyfile';
import { accessLogDir, stateDir, type Slot } from '../../src/freebsd/layout';
import type { AppTarget } from '../../src/model/target';
import { slotHost } from '../../activities/jails';
import { testDeps } from '../helpers/activityDeps';
import { caddyBin } from '../helpers/caddyBin';
import { freePort } from '../helpers/devServer';
import { localHost, type LocalHost } from '../helpers/localHost';
import { TEST_TARGET } from '../helpers/target';

const APP = 'my_app';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('upstreamsInFlight', () => {
  const body = JSON.stringify([
    { address: '127.0.0.1:9101', num_requests: 2, fails: 0 },
    { address: 'tcp/127.0.0.1:9101', num_requests: 1, fails: 0 },
    { address: '127.0.0.1:9102', num_requests: 0, fails: 1 },
  ]);
  test('each listed upstream’s num_requests, by the name Caddy gives it; an upstream it does not list is absent', () => {
    assert.deepEqual(
      upstreamsInFlight(body),
      new Map([
        ['127.0.0.1:9101', 2],
        ['tcp/127.0.0.1:9101', 1],
        ['127.0.0.1:9102', 0],
      ]),
    );
    assert.equal(upstreamsInFlight(body).get('127.0.0.1:9103'), undefined);
  });
  test('anything but Caddy’s list is an error, not a count', () => {
    assert.throws(() => upstreamsInFlight('{"error":"x"}'), /expected a list of upstreams/);
    assert.throws(() => upstreamsInFlight('[{"address":"127.0.0.1:9101"}]'), /without num_requests/);
    assert.throws(() => upstreamsInFlight('<html>'), SyntaxError);
  });
});

/**
 * Each slot's app: /hold waits until released, anything else answers at once; an upgrade request
 * (as LiveView's websocket) switches protocols and echoes what it gets until closed.
 */
function slotApp(slot: Slot) {
  const held: Array<() => void> = [];
  const upgraded = new Set<Duplex>();
  const server = http.createServer((q, res) => {
    const answer = () => res.end(`${slot} done`);
    if (q.url === '/hold') held.push(answer);
    else answer();
  });
  server.on('upgrade', (_q, socket: Duplex) => {
    upgraded.add(socket);
    socket.on('close', () => upgraded.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    socket.pipe(socket);
  });
  return {
    server,
    release: () => held.splice(0).forEach((f) => f()),
    held: () => held.length,
    upgraded: () => upgraded.size,
    closeUpgraded: () => upgraded.forEach((c) => c.destroy()),
  };
}

/** An upgraded connection through the site, and the slot that took it. */
const upgrade = (port: number) =>
  new Promise<{ socket: Duplex; slot?: string }>((resolve, reject) => {
    http
      .request({ host: '127.0.0.1', port, path: '/live/websocket', agent: false, headers: { Connection: 'Upgrade', Upgrade: 'websocket' } })
      .on('upgrade', (res, socket) => resolve({ socket, slot: res.headers['alcaide-slot'] as string | undefined }))
      .on('response', (res) => reject(new Error(`no upgrade: HTTP ${res.statusCode}`)))
      .on('error', reject)
      .end();
  });

const echo = (socket: Duplex, text: string) =>
  new Promise<string>((resolve, reject) => {
    socket.once('data', (d: Buffer) => resolve(d.toString()));
    socket.once('error', reject);
    socket.write(text);
  });

interface Site {
  dir: string;
  port: number;
  host: LocalHost;
  apps: Record<Slot, ReturnType<typeof slotApp>>;
  target: AppTarget;
  switchTo(slot: Slot): Promise<void>;
  stop(): Promise<void>;
}

const get = (port: number, p = '/') =>
  new Promise<{ status: number; slot?: string; body: string }>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, slot: res.headers['alcaide-slot'] as string | undefined, body }));
      })
      .on('error', reject);
  });

/** The site as renderSite writes it, or as `edit` makes it (a site an earlier release wrote). */
async function site(edit: (caddyfile: string) => string = (c) => c): Promise<Site> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'alcaide-drain-'));
  const state = path.join(dir, 'state');
  mkdirSync(path.join(state, 'gates'), { recursive: true });
  // the slots' apps on one port, each on its own loopback address, as jails have their own
  const appPort = await freePort();
  const apps = { blue: slotApp('blue'), green: slotApp('green') };
  await new Promise<void>((r) => apps.blue.server.listen(appPort, '127.0.0.1', r));
  await new Promise<void>((r) => apps.green.server.listen(appPort, '127.0.0.3', r));
  const [port, blue, green] = await Promise.all([freePort(), freePort(), freePort()]);
  const target: AppTarget = { ...TEST_TARGET, app: APP, appPort, proxyPorts: { blue, green }, drainTimeoutMs: 30_000 };
  // the slots by their names, as on the host: Caddy reads them from an /etc/hosts of its own
  const hosts = path.join(dir, 'hosts');
  writeFileSync(hosts, `127.0.0.1 localhost\n127.0.0.1 ${slotHost(target, 'blue')}\n127.0.0.3 ${slotHost(target, 'green')}\n`);
  const rendered = renderSite({
    app: APP,
    domain: `http://:${port}`,
    slots: { blue: slotHost(target, 'blue'), green: slotHost(target, 'green') },
    port: appPort,
    proxyPorts: { blue, green },
  })
    .replaceAll(stateDir(APP), state)
    .replaceAll(accessLogDir(APP), path.join(dir, 'logs'));
  const socket = path.join(dir, 'caddy.sock');
  const caddyfile = path.join(dir, 'Caddyfile');
  writeFileSync(caddyfile, `{\n\tadmin unix/${socket}\n\tpersist_config off\n}\n${edit(rendered)}`);
  writeFileSync(path.join(state, 'gates', 'blue.open'), '');
  const caddy: ChildProcess = spawn(
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      '--',
      'sh',
      '-c',
      'mount --bind "$1" /etc/hosts && exec "$2" run --config "$3" --adapter caddyfile',
      'sh',
      hosts,
      caddyBin(),
      caddyfile,
    ],
    {
      env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
      stdio: 'ignore',
    },
  );
  const host = localHost({ paths: {}, ports: {}, sockets: { [ADMIN_ENDPOINTS[0].socket]: socket }, binDir: path.join(dir, 'bin') });
  const routedTo = async (slot: Slot) => {
    for (let i = 0; i < 100; i++) {
      if ((await get(port).catch(() => undefined))?.slot === slot) return;
      await sleep(100);
    }
    assert.fail(`Caddy never routed to ${slot}`);
  };
  await routedTo('blue');
  return {
    dir,
    port,
    host,
    apps,
    target,
    async switchTo(slot) {
      const other = slot === 'blue' ? 'green' : 'blue';
      writeFileSync(path.join(state, 'gates', `${slot}.open`), '');
      unlinkSync(path.join(state, 'gates', `${other}.open`));
      await routedTo(slot);
    },
    async stop() {
      caddy.kill('SIGKILL');
      for (const a of Object.values(apps)) {
        a.release();
        a.closeUpgraded();
        a.server.closeAllConnections();
        await new Promise<void>((r) => a.server.close(() => r()));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('drainSlot on the real Caddy', () => {
  let s: Site;
  before(async () => {
    s = await site();
  });
  after(async () => {
    await s?.stop();
  });
  const drain = (t: AppTarget, slot: Slot, host: LocalHost = s.host) =>
    createDrainActivities(testDeps({ remote: () => new Remote(host.conn), clock: systemClock })).drainSlot(t, slot);

  test('a request in flight on the old slot: the drain waits for it, then ends', async () => {
    const held = get(s.port, '/hold');
    while (s.apps.blue.held() === 0) await sleep(10);
    await s.switchTo('green');
    const t0 = performance.now();
    const drained = drain(s.target, 'blue');
    let done = false;
    void drained.then(() => (done = true));
    await sleep(800);
    assert.equal(done, false, 'the drain waits while the request is in flight');
    s.apps.blue.release();
    const r = await drained;
    const ms = performance.now() - t0;
    assert.match(r.note ?? '', /^no request in flight on blue after \d+\.\ds$/);
    assert.ok(ms >= 800 && ms < s.target.drainTimeoutMs, `ended after ${ms} ms`);
    assert.deepEqual(await held, { status: 200, slot: 'blue', body: 'blue done' });
  });

  test('nothing in flight: the drain ends long before drain_timeout', async () => {
    const t0 = performance.now();
    const r = await drain(s.target, 'blue');
    assert.match(r.note ?? '', /^no request in flight on blue after/);
    assert.ok(performance.now() - t0 < s.target.drainTimeoutMs / 2);
  });

  test('an upgraded connection (a websocket) open on the old slot: the drain does not wait for it', async () => {
    await s.switchTo('blue');
    const ws = await upgrade(s.port);
    assert.equal(ws.slot, 'blue');
    assert.equal(await echo(ws.socket, 'ping'), 'ping');
    assert.equal(s.apps.blue.upgraded(), 1);
    await s.switchTo('green');
    const t0 = performance.now();
    const r = await drain(s.target, 'blue');
    assert.ok(performance.now() - t0 < s.target.drainTimeoutMs / 2, 'the drain ended long before drain_timeout');
    assert.match(r.note ?? '', /^no request in flight on blue after \d+\.\ds \(1 upgraded connection left for the stop to close\)$/);
    // the connection is untouched: it lives until the old slot stops
    assert.equal(await echo(ws.socket, 'still there'), 'still there');
    ws.socket.destroy();
  });

  test('a request outlasting drain_timeout: the drain ends at it and says how many are left', async () => {
    await s.switchTo('blue');
    const held = get(s.port, '/hold');
    while (s.apps.blue.held() === 0) await sleep(10);
    await s.switchTo('green');
    const t0 = performance.now();
    const r = await drain({ ...s.target, drainTimeoutMs: 1000 }, 'blue');
    assert.ok(performance.now() - t0 >= 1000);
    assert.equal(r.note, '1 request still in flight on blue at drain_timeout (1s): stopping it ends them');
    s.apps.blue.release();
    await held;
  });

  test('the admin API does not answer: the drain waits drain_timeout and says why', async () => {
    const nowhere = localHost({ paths: {}, ports: {}, binDir: path.join(s.dir, 'bin2') });
    const t0 = performance.now();
    const r = await drain({ ...s.target, drainTimeoutMs: 1000 }, 'blue', nowhere);
    assert.ok(performance.now() - t0 >= 1000);
    assert.match(
      r.note ?? '',
      /^waited drain_timeout \(1s\): Caddy's admin API did not answer \(unix\/\/var\/run\/caddy\/caddy\.sock: .*; 127\.0\.0\.1:2019: /,
    );
  });

  test('a host outside the web role has nothing to drain', async () => {
    const r = await drain({ ...s.target, hostRun: { web: false } }, 'blue', localHost({ paths: {}, ports: {}, binDir: path.join(s.dir, 'bin3') }));
    assert.deepEqual(r, { changed: false, note: 'not a web host: no request reaches it through Caddy' });
  });
});

describe('drainSlot on a site written before upgraded connections had their own route', () => {
  let s: Site;
  before(async () => {
    // the slot servers as an earlier `alcaide setup` wrote them: one route to the app for all
    s = await site((c) => c.replace(/\t# an upgraded connection[^]*?\n\t}\n(?=\thandle \{)/g, ''));
  });
  after(async () => {
    await s?.stop();
  });

  test('a websocket holds the drain until drain_timeout, and the note says how to rewrite the site', async () => {
    const ws = await upgrade(s.port);
    assert.equal(ws.slot, 'blue');
    await s.switchTo('green');
    const drained = await createDrainActivities(testDeps({ remote: () => new Remote(s.host.conn), clock: systemClock })).drainSlot(
      { ...s.target, drainTimeoutMs: 1000 },
      'blue',
    );
    assert.equal(
      drained.note,
      '1 request still in flight on blue at drain_timeout (1s): stopping it ends them; this site counts websockets as requests (written before they had their own route): `alcaide setup` rewrites it',
    );
    ws.socket.destroy();
  });
});
