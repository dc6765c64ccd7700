// What the switch design rests on, measured on a given Caddy binary (no simulated host needed: a
// local Caddy, local Node upstreams, loopback only). Run: `npx tsc -p . && node dist/bench/caddy-switch.bench.js`
// (default: the pinned build of scripts/build-caddy.sh and Debian's /usr/bin/caddy; or
// `node dist/bench/caddy-switch.bench.js /path/to/caddy ...`). Prints figures and writes
// bench/results/caddy-switch-DATE.json. No assertions: these are measurements.
//
//   (a) reload: does `caddy reload` close idle keep-alive client connections? Keep-alive Node
//       clients without retries (one socket each, a short random pause between requests, so
//       their connections are often idle) request through a reverse_proxy to two local upstreams
//       while Caddy is reloaded RELOADS times with a changed config; the same run without reloads
//       is the control. Failed requests (connection errors) are counted.
//   (b) health switch: our site layout (renderSite: front proxy with lb_policy first + active
//       health checks every 200 ms to two loopback slot servers whose /__alcaide/ready answers
//       from a gate file), continuous keep-alive requests; per switch: the new gate file created
//       and the old one removed (as switchGates does), then the time until the first request
//       sent after the switch is answered by the new slot, and until the last one answered by
//       the old slot.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { gateDir } from '../src/freebsd/layout';
import { renderSite } from '../src/caddy/caddyfile';
import { DEBIAN_CADDY, pinnedCaddy } from '../test/helpers/caddyBin';
import { REPO_ROOT } from '../test/helpers/paths';

const RELOADS = Number(process.env.RELOADS ?? 20);
const SWITCHES = Number(process.env.SWITCHES ?? 20);
const CLIENTS = 6;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};
const r1 = (x: number) => Math.round(x * 10) / 10;

async function freePort(host = '127.0.0.1'): Promise<number> {
  const srv = http.createServer();
  await new Promise<void>((r) => srv.listen(0, host, r));
  const p = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return p;
}

/** A tiny upstream answering its name (keep-alive, TCP_NODELAY). */
async function upstream(name: string, host: string, port = 0): Promise<{ port: number; close(): Promise<void> }> {
  const srv = http.createServer((req, res) => {
    req.resume();
    res.setHeader('content-type', 'text/plain');
    res.end(`${name}\n`);
  });
  srv.keepAliveTimeout = 60_000;
  srv.on('connection', (s) => s.setNoDelay(true));
  await new Promise<void>((r) => srv.listen(port, host, r));
  return {
    port: (srv.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        srv.closeAllConnections();
        srv.close(() => r());
      }),
  };
}

class CaddyProc {
  proc?: ChildProcess;
  log = '';
  constructor(
    readonly bin: string,
    readonly dir: string,
  ) {}
  env() {
    return { ...process.env, XDG_DATA_HOME: path.join(this.dir, 'data'), XDG_CONFIG_HOME: path.join(this.dir, 'config'), HOME: this.dir };
  }
  write(body: string): string {
    const f = path.join(this.dir, 'Caddyfile');
    // admin on a unix socket of our own: never collides with another Caddy on localhost:2019
    writeFileSync(f, `{\n\tadmin unix/${path.join(this.dir, 'admin.sock')}\n}\n\n${body}`);
    return f;
  }
  async start(body: string, readyUrl: string): Promise<void> {
    const f = this.write(body);
    this.proc = spawn(this.bin, ['run', '--config', f, '--adapter', 'caddyfile'], { env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (d) => (this.log += d));
    this.proc.stderr!.on('data', (d) => (this.log += d));
    const until = Date.now() + 15_000;
    while (Date.now() < until) {
      if (this.proc.exitCode !== null) throw new Error(`caddy exited: ${this.log}`);
      if ((await get(readyUrl).catch(() => undefined))?.status === 200) return;
      await sleep(50);
    }
    throw new Error(`caddy did not answer ${readyUrl}: ${this.log.slice(-2000)}`);
  }
  reload(body: string): number {
    const f = this.write(body);
    const t = performance.now();
    execFileSync(this.bin, ['reload', '--config', f, '--adapter', 'caddyfile'], { env: this.env(), stdio: 'pipe' });
    return performance.now() - t;
  }
  async stop(): Promise<void> {
    if (!this.proc || this.proc.exitCode !== null) return;
    const done = new Promise((r) => this.proc!.once('exit', r));
    this.proc.kill('SIGTERM');
    await done;
  }
}

function get(url: string, agent?: http.Agent): Promise<{ status: number; body: string; slot?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: agent ?? false, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, slot: res.headers['alcaide-slot'] as string | undefined }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

interface Req {
  t0: number;
  t1: number;
  ok: boolean;
  err?: string;
  body?: string;
}

/** CLIENTS keep-alive clients (one socket each, no retries) requesting `url` until stop(). */
function load(url: string, pauseMs: () => number) {
  const reqs: Req[] = [];
  let running = true;
  const agents = Array.from({ length: CLIENTS }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  const loops = agents.map(async (agent) => {
    while (running) {
      const t0 = performance.now();
      try {
        const r = await get(url, agent);
        reqs.push({ t0, t1: performance.now(), ok: r.status === 200, body: r.body.trim(), err: r.status === 200 ? undefined : `status ${r.status}` });
      } catch (e) {
        reqs.push({ t0, t1: performance.now(), ok: false, err: (e as NodeJS.ErrnoException).code ?? (e as Error).message });
      }
      const p = pauseMs();
      if (p > 0) await sleep(p);
    }
  });
  return {
    reqs,
    async stop() {
      running = false;
      await Promise.all(loops);
      for (const a of agents) a.destroy();
    },
  };
}

const errorKinds = (reqs: Req[]) => {
  const k: Record<string, number> = {};
  for (const r of reqs) if (!r.ok) k[r.err ?? '?'] = (k[r.err ?? '?'] ?? 0) + 1;
  return k;
};

async function reloadBench(bin: string) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'caddy-bench-'));
  const a = await upstream('a', '127.0.0.1');
  const b = await upstream('b', '127.0.0.1');
  const front = await freePort();
  const caddy = new CaddyProc(bin, dir);
  const site = (gen: number) => `http://127.0.0.1:${front} {\n\theader X-Gen ${gen}\n\treverse_proxy 127.0.0.1:${a.port} 127.0.0.1:${b.port}\n}\n`;
  const url = `http://127.0.0.1:${front}/`;
  const result: Record<string, unknown> = {};
  try {
    await caddy.start(site(0), url);
    for (const phase of ['control', 'reloads'] as const) {
      const l = load(url, () => Math.random() * 20);
      const reloadMs: number[] = [];
      for (let i = 1; i <= RELOADS; i++) {
        await sleep(500);
        if (phase === 'reloads') reloadMs.push(caddy.reload(site(i)));
      }
      await sleep(500);
      await l.stop();
      const failed = l.reqs.filter((r) => !r.ok).length;
      result[phase] = {
        reloads: phase === 'reloads' ? RELOADS : 0,
        requests: l.reqs.length,
        failed,
        errors: errorKinds(l.reqs),
        ...(phase === 'reloads' ? { reloadCommandMsP50: r1(pct(reloadMs, 50)) } : {}),
      };
    }
  } finally {
    await caddy.stop();
    await a.close();
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

async function switchBench(bin: string) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'caddy-bench-'));
  const app = 'bench_app';
  const gates = path.join(dir, 'gates');
  mkdirSync(gates);
  // the slots' apps: blue on 127.0.0.2, green on 127.0.0.3, same port (as two jails)
  const appPort = await freePort('127.0.0.2');
  const blue = await upstream('blue', '127.0.0.2', appPort);
  const green = await upstream('green', '127.0.0.3', appPort);
  const front = await freePort();
  const proxyPorts = { blue: await freePort(), green: await freePort() };
  const text = renderSite({ app, domain: `http://127.0.0.1:${front}`, slots: { blue: '127.0.0.2', green: '127.0.0.3' }, port: appPort, proxyPorts })
    .split(gateDir(app))
    .join(gates);
  const caddy = new CaddyProc(bin, dir);
  const gate = (slot: string) => path.join(gates, `${slot}.open`);
  writeFileSync(gate('blue'), '');
  const url = `http://127.0.0.1:${front}/`;
  const switches: Array<{ to: string; firstNewMs: number; lastOldMs: number }> = [];
  let failed = 0;
  let requests = 0;
  let errors: Record<string, number> = {};
  try {
    await caddy.start(text, url);
    await sleep(1000);
    const l = load(url, () => 0);
    await sleep(1000);
    let from = 'blue';
    for (let i = 0; i < SWITCHES; i++) {
      const to = from === 'blue' ? 'green' : 'blue';
      const t = performance.now();
      writeFileSync(gate(to), ''); // switchGates: open the new gate, then close the old one
      unlinkSync(gate(from));
      await sleep(1500);
      const after = l.reqs.filter((r) => r.ok && r.t0 >= t && r.t0 < t + 1500);
      const firstNew = after.filter((r) => r.body === to).reduce((m, r) => Math.min(m, r.t0), Infinity);
      const lastOld = after.filter((r) => r.body === from).reduce((m, r) => Math.max(m, r.t0), t);
      switches.push({ to, firstNewMs: r1(firstNew - t), lastOldMs: r1(lastOld - t) });
      from = to;
    }
    await l.stop();
    requests = l.reqs.length;
    failed = l.reqs.filter((r) => !r.ok).length;
    errors = errorKinds(l.reqs);
  } finally {
    await caddy.stop();
    await blue.close();
    await green.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const firsts = switches.map((s) => s.firstNewMs);
  const lasts = switches.map((s) => s.lastOldMs);
  return {
    switches: switches.length,
    requests,
    failed,
    errors,
    toNewSlotMs: { p50: pct(firsts, 50), max: Math.max(...firsts) },
    oldSlotDoneMs: { p50: pct(lasts, 50), max: Math.max(...lasts) },
    perSwitch: switches,
  };
}

async function main() {
  const bins = process.argv.slice(2).length ? process.argv.slice(2) : [...new Set([pinnedCaddy().path, DEBIAN_CADDY])].filter((b) => existsSync(b));
  const date = new Date().toISOString().slice(0, 10);
  const out: Array<Record<string, unknown>> = [];
  for (const bin of bins) {
    const version = execFileSync(bin, ['version'], { encoding: 'utf8' }).trim().split(/\s/)[0];
    console.log(`--- Caddy ${version} (${bin})`);
    const reload = await reloadBench(bin);
    console.log(`(a) reload: ${JSON.stringify(reload)}`);
    const sw = await switchBench(bin);
    console.log(`(b) health switch: ${JSON.stringify({ ...sw, perSwitch: undefined })}`);
    out.push({ caddy: version, bin, reload, healthSwitch: sw });
  }
  console.log(
    '\n| Caddy | reloads | requests | failed | control (no reload) failed | switches | to new slot p50 / max | old slot done p50 / max | failed during switches |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const o of out) {
    const r = o.reload as any;
    const s = o.healthSwitch as any;
    console.log(
      `| ${o.caddy} | ${r.reloads.reloads} | ${r.reloads.requests} | ${r.reloads.failed} | ${r.control.failed} of ${r.control.requests} | ${s.switches} | ${s.toNewSlotMs.p50} / ${s.toNewSlotMs.max} ms | ${s.oldSlotDoneMs.p50} / ${s.oldSlotDoneMs.max} ms | ${s.failed} of ${s.requests} |`,
    );
  }
  const resDir = path.join(REPO_ROOT, 'bench', 'results');
  mkdirSync(resDir, { recursive: true });
  const file = path.join(resDir, `caddy-switch-${date}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      { date, host: `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}`.trim(), reloads: RELOADS, switches: SWITCHES, clients: CLIENTS, results: out },
      null,
      2,
    ) + '\n',
  );
  console.log(`\n${file}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
