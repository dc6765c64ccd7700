// The Caddy configuration is checked by the real Caddy (caddy adapt), not only as text: the
// pinned version FreeBSD's pkg installs (test/helpers/caddyBin.ts, scripts/build-caddy.sh).
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { defaultProxyPorts } from '../../src/config/target';
import { gateDir, gateFile } from '../../src/freebsd/layout';
import { renderMaintenancePage } from '../../src/caddy/maintenancePage';
import { IMPORT_LINE, renderMainCaddyfile, renderSite, withImportLine } from '../../src/caddy/caddyfile';
import { caddyBin } from '../helpers/caddyBin';
import { freePort } from '../helpers/devServer';

const SPEC = {
  app: 'my_app',
  slots: { blue: 'my-app-blue.alcaide.internal', green: 'my-app-green.alcaide.internal' },
  port: 4000,
  proxyPorts: { blue: 24000, green: 24001 },
};

/** The route (at any depth) whose matcher is exactly this path. */
function findRoute(routes: any[], p: string): any {
  for (const r of routes ?? []) {
    if (JSON.stringify(r.match ?? []).includes(`"path":["${p}"]`)) return r;
    for (const h of r.handle ?? []) {
      const found = findRoute(h.routes, p);
      if (found) return found;
    }
  }
  return undefined;
}

/** The first handler of this kind (at any depth). */
function findHandler(routes: any[], kind: string): any {
  for (const r of routes ?? []) {
    for (const h of r.handle ?? []) {
      if (h.handler === kind) return h;
      const found = findHandler(h.routes, kind);
      if (found) return found;
    }
  }
  return undefined;
}

function adapt(files: Record<string, string>, main: string): { json: any; stderr: string; status: number | null } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'alcaide-caddy-'));
  try {
    for (const [f, text] of Object.entries(files)) writeFileSync(path.join(dir, f), text);
    const r = spawnSync(caddyBin(), ['adapt', '--config', path.join(dir, main), '--adapter', 'caddyfile'], { encoding: 'utf8', cwd: dir });
    return { json: r.status === 0 ? JSON.parse(r.stdout) : undefined, stderr: r.stderr, status: r.status };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('Caddy site', () => {
  test('paths of sockets and gates', () => {
    const ports = defaultProxyPorts('my_app');
    assert.equal(ports.green, ports.blue + 1);
    assert.ok(ports.blue >= 20000 && ports.green < 40000);
    assert.deepEqual(defaultProxyPorts('my_app'), ports, 'stable');
    assert.notDeepEqual(defaultProxyPorts('shop'), ports);
    assert.equal(gateFile('my_app', 'green'), '/var/db/alcaide/my_app/gates/green.open');
  });

  test('the site proxies to both slots, first ready wins, readiness = the gate file alone', () => {
    const r = adapt({ 'site.caddy': renderSite(SPEC) }, 'site.caddy');
    assert.equal(r.status, 0, r.stderr);
    const servers = r.json.apps.http.servers;
    const front = Object.values<any>(servers).find((s) => s.listen.includes(':80'));
    const proxy = findHandler(front.routes, 'reverse_proxy');
    assert.deepEqual(proxy.upstreams, [{ dial: '127.0.0.1:24000' }, { dial: '127.0.0.1:24001' }]);
    assert.equal(proxy.load_balancing.selection_policy.policy, 'first');
    assert.equal(proxy.health_checks.active.uri, '/__alcaide/ready');
    assert.equal(proxy.health_checks.active.interval, 200_000_000);
    const listens = Object.values<any>(servers)
      .map((s) => s.listen[0])
      .sort();
    assert.deepEqual(listens, ['127.0.0.1:24000', '127.0.0.1:24001', ':80'], 'slot servers listen on loopback only');
    const text = JSON.stringify(r.json);
    assert.ok(text.includes('"root":"/var/db/alcaide/my_app/gates"') && text.includes('"/blue.open"') && text.includes('"/green.open"'));
    for (const slot of ['blue', 'green']) {
      const server = Object.values<any>(servers).find((s) => s.listen[0] === `127.0.0.1:${SPEC.proxyPorts[slot as 'blue']}`);
      const routes = JSON.stringify(server.routes);
      // the slot's app by its name (IPv6 and IPv4 in /etc/hosts), a restarting app's dial retried
      assert.ok(routes.includes(`"dial":"my-app-${slot}.alcaide.internal:4000"`), routes);
      assert.ok(routes.includes('"try_duration":5000000000'), 'the dial is retried for 5 s');
      // readiness: answered by Caddy from the gate file, never proxied to the app (no log lines there)
      const ready = JSON.stringify(findRoute(server.routes, '/__alcaide/ready'));
      assert.ok(ready.includes(`"/${slot}.open"`) && ready.includes('"status_code":200') && ready.includes('"status_code":503'), ready);
      assert.ok(!ready.includes('reverse_proxy'), 'readiness never reaches the app');
    }
  });

  test('with a domain the site is HTTPS with automatic certificates', () => {
    const r = adapt({ 'site.caddy': renderSite({ ...SPEC, domain: 'shop.example.com' }) }, 'site.caddy');
    assert.equal(r.status, 0, r.stderr);
    const front = Object.values<any>(r.json.apps.http.servers).find((s) => s.listen.includes(':443'));
    assert.ok(front, 'a :443 server exists');
    assert.deepEqual(front.routes[0].match, [{ host: ['shop.example.com'] }]);
  });

  test('the main Caddyfile imports the sites and keeps what the operator wrote', () => {
    assert.equal(renderMainCaddyfile().trim().split('\n').pop(), IMPORT_LINE);
    const own = 'other.example.com {\n\trespond "hi"\n}\n';
    const merged = withImportLine(own);
    assert.ok(merged.startsWith(own));
    assert.equal(withImportLine(merged), merged, 'idempotent');
    assert.equal(withImportLine(''), renderMainCaddyfile());
  });
});

describe('maintenance mode, served by the real Caddy', () => {
  /** A Caddy running the site with its gate directory moved to `gates`, in front of a stand-in app. */
  async function siteWithGates(
    gates: string,
    pauseHold?: string,
  ): Promise<{ port: number; app: http.Server; caddy: ChildProcess; hits: () => number; stop(): Promise<void> }> {
    let hits = 0;
    const app = http.createServer((_q, res) => {
      hits++;
      res.end('app');
    });
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    const appPort = (app.address() as AddressInfo).port;
    const [port, blue, green] = await Promise.all([freePort(), freePort(), freePort()]);
    const site = renderSite({
      ...SPEC,
      domain: `http://:${port}`,
      slots: { blue: '127.0.0.1', green: '127.0.0.1' },
      port: appPort,
      proxyPorts: { blue, green },
      pauseHold,
    }).replaceAll(gateDir(SPEC.app), gates);
    const dir = path.dirname(gates);
    writeFileSync(path.join(dir, 'Caddyfile'), `{\n\tadmin off\n\tpersist_config off\n}\n${site}`);
    const caddy = spawn(caddyBin(), ['run', '--config', path.join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], {
      env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
      stdio: 'ignore',
    });
    return {
      port,
      app,
      caddy,
      hits: () => hits,
      async stop() {
        caddy.kill('SIGKILL');
        await new Promise<void>((r) => app.close(() => r()));
      },
    };
  }

  /** A request as a client from another address (127.0.0.2) makes it, or from the host itself (127.0.0.1). */
  function request(port: number, from: '127.0.0.1' | '127.0.0.2'): Promise<{ status: number; retryAfter?: string; body: string }> {
    return new Promise((resolve, reject) => {
      const req = http.get({ host: from, port, path: '/', localAddress: from, agent: false }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined, body }));
      });
      req.on('error', reject);
    });
  }

  test('while the page exists clients get 503 with it and Retry-After, the host itself still reaches the app; removing it serves the app again', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'alcaide-maint-'));
    const gates = path.join(dir, 'gates');
    mkdirSync(gates);
    writeFileSync(path.join(gates, 'blue.open'), '');
    const s = await siteWithGates(gates);
    try {
      // Caddy up and routing: the app answers
      let first = { status: 0, body: '' };
      for (let i = 0; i < 100 && first.status !== 200; i++) {
        first = await request(s.port, '127.0.0.2').catch(() => ({ status: 0, body: '' }));
        if (first.status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual([first.status, first.body], [200, 'app']);

      const page = renderMaintenancePage('Back at <14:00> & soon');
      writeFileSync(path.join(gates, 'maintenance.retry-after'), '120\n');
      writeFileSync(path.join(gates, 'maintenance.html'), page);
      const hitsBefore = s.hits();
      const client = await request(s.port, '127.0.0.2');
      assert.equal(client.status, 503);
      assert.equal(client.retryAfter, '120');
      assert.equal(client.body, page);
      assert.match(client.body, /Back at &#60;14:00&#62; &#38; soon/);
      assert.equal(s.hits(), hitsBefore, 'the app saw no request meanwhile');
      const fromHost = await request(s.port, '127.0.0.1');
      assert.deepEqual([fromHost.status, fromHost.body], [200, 'app'], 'the host itself (the deploy checks through Caddy) still reaches the app');

      rmSync(path.join(gates, 'maintenance.html'));
      const again = await request(s.port, '127.0.0.2');
      assert.deepEqual([again.status, again.body], [200, 'app'], 'no reload needed: the next request reaches the app');
    } finally {
      await s.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a pause holds requests while both gates are closed and lets them go on when a gate opens; held past its limit: 503 with Retry-After', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'alcaide-pause-'));
    const gates = path.join(dir, 'gates');
    mkdirSync(gates);
    writeFileSync(path.join(gates, 'blue.open'), '');
    const s = await siteWithGates(gates, '3s');
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    try {
      for (let i = 0; i < 100 && (await request(s.port, '127.0.0.2').catch(() => ({ status: 0 }))).status !== 200; i++) await sleep(100);
      // pause: the pause file first, then the gates closed; Caddy's checks see it within 200 ms
      writeFileSync(path.join(gates, 'paused'), 'token blue\n');
      rmSync(path.join(gates, 'blue.open'));
      await sleep(600);
      const t0 = performance.now();
      const held = request(s.port, '127.0.0.2');
      await sleep(1500);
      assert.equal(s.hits() > 0, true);
      const hitsWhileHeld = s.hits();
      // resume: the gate opens, then the pause file goes
      writeFileSync(path.join(gates, 'blue.open'), '');
      const answer = await held;
      const waited = performance.now() - t0;
      rmSync(path.join(gates, 'paused'));
      assert.deepEqual([answer.status, answer.body], [200, 'app'], 'held, not refused');
      assert.ok(waited >= 1400, `the request waited for the gate (${Math.round(waited)} ms)`);
      assert.equal(s.hits(), hitsWhileHeld + 1, 'it reached the app once, after the gate opened');

      // held past the limit: 503 with Retry-After
      writeFileSync(path.join(gates, 'paused'), 'token blue\n');
      rmSync(path.join(gates, 'blue.open'));
      await sleep(600);
      const late = await request(s.port, '127.0.0.2');
      assert.equal(late.status, 503);
      assert.equal(late.retryAfter, '5');
    } finally {
      await s.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
