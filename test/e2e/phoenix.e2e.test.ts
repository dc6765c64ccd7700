// End to end with an app shaped as `mix phx.new` + `mix phx.gen.release` generate it
// (test/fixtures/phx-app: no `releases:` in mix.exs, the endpoint bound to the IPv6 wildcard,
// no /health route, two log lines per request, the generated Release module), configured by
// `alcaide init` and deployed with no edit to the app: setup, deploy, a second deploy (with a
// LiveView websocket open through it, which the drain does not wait for), a crash-looping
// release, rollback, migrations before boot, reboot — with 0 failed requests under load — then
// log rotation and `alcaide logs` filters.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parse, stringify } from 'yaml';
import { sshRun, startSimHosts, type SimHost, type SimHosts } from '../simhost/index';
import { runCliAsync, tempProject, type CliResult } from '../helpers/cli';
import { startLoad, type Load } from '../helpers/load';
import { REPO_ROOT } from '../helpers/paths';
import { startTestEnv } from '../helpers/temporal';
import { openWebSocket } from '../helpers/websocket';
import { codecKey } from '../../src/temporal/codec';

const MAKE_APP = path.join(REPO_ROOT, 'test', 'fixtures', 'make-phx-app.sh');
const MASTER_KEY = Buffer.alloc(32, 5).toString('base64');
// the fixture's home page carries "shop VERSION slot=SLOT"
const MARKER = /shop (\S+) slot=(blue|green)/;

let sim: SimHosts;
let host: SimHost;
let env: TestWorkflowEnvironment;
let load: Load | undefined;
const project = tempProject('alcaide-phx-');
const app = path.join(project.dir, 'shop');
/** versions whose home page may answer under load (a failing one never may) */
const good = new Set<string>();

const cliEnv = () => ({ TEMPORAL_ADDRESS: env.address, ALCAIDE_TASK_QUEUE: 'phx', SSH_AUTH_SOCK: '', ALCAIDE_MASTER_KEY: MASTER_KEY, NO_COLOR: '1' });
const cli = (args: string[], o: { input?: string; timeoutMs?: number } = {}) =>
  runCliAsync(args, { cwd: app, env: cliEnv(), input: o.input, timeoutMs: o.timeoutMs ?? 300_000 });
const ok = (r: CliResult) => assert.equal(r.code, 0, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);
const git = (...a: string[]) => spawnSync('git', ['-C', app, '-c', 'user.name=t', '-c', 'user.email=t@t', ...a], { encoding: 'utf8' });
const jail = (slot: string) => `/usr/local/jails/shop_${slot}`;
const onHost = async (cmd: string) => {
  const r = await sshRun(host, cmd);
  assert.equal(r.code, 0, `${cmd}: ${r.stderr}`);
  return r.stdout;
};

/** Version `v` of the fixture (with make-phx-app.sh's variants) committed over the project's app files. */
function commitVersion(v: string, flags: string[] = []): string {
  const tmp = path.join(project.dir, `v-${v}-${flags.join('')}`);
  const made = spawnSync('sh', [MAKE_APP, tmp, v, ...flags], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  // everything but the project's own deploy files: rsync-like copy through tar
  spawnSync('sh', ['-c', `cd "${tmp}" && tar --exclude=.git -cf - . | (cd "${app}" && tar -xf -)`]);
  git('add', '-A');
  git('commit', '-qm', `v${v}${flags.join('')}`);
  return git('rev-parse', 'HEAD').stdout.trim();
}

/** A LiveView page's socket through the host's Caddy, as a browser on the app's URL opens it. */
const liveSocket = () => openWebSocket({ host: host.host, path: '/live/websocket?vsn=2.0.0', origin: `http://${host.host}` });

async function home(): Promise<{ status: number; body: string; version?: string; slot?: string }> {
  const res = await fetch(`http://${host.host}/`, { signal: AbortSignal.timeout(10_000) });
  const body = await res.text();
  const m = MARKER.exec(body);
  return { status: res.status, body, version: m?.[1], slot: m?.[2] };
}

before(async () => {
  [sim, env] = await Promise.all([startSimHosts({ hosts: 1 }), startTestEnv({ codecKeys: [codecKey(Buffer.alloc(32, 5), 'phx master key')] })]);
  host = sim.hosts[0]!;
  const made = spawnSync('sh', [MAKE_APP, app, '1.0.0'], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
});

after(async () => {
  await load?.stop();
  await sim?.down();
  await env?.teardown();
  project.cleanup();
});

describe('a stock phx.new app on a simulated FreeBSD host', () => {
  test('alcaide init reads the project and writes a deploy.yml that deploys it as generated', async () => {
    const r = await cli(['init', '--host', host.host]);
    ok(r);
    assert.match(r.stdout, /for a Phoenix app/);
    assert.match(r.stdout, /the default release; migrations with Shop\.Release\.migrate\(\); DATABASE_URL: the PostgreSQL accessory/);
    const written = parse(readFileSync(path.join(app, 'deploy.yml'), 'utf8'));
    assert.equal(written.release.name, 'shop');
    assert.equal(written.release.migrate, 'Shop.Release.migrate()');
    assert.equal(written.health_check.path, '/');
    assert.deepEqual(written.env.secret, ['SECRET_KEY_BASE']);
    assert.equal(written.accessories.postgresql.password_secret, 'POSTGRES_PASSWORD');
    // what a test adds: the simulated host's keys, and shorter waits
    written.ssh = { keys: [host.privateKey], known_hosts: host.knownHostsFile };
    written.health_check = { ...written.health_check, interval: '200ms', timeout: '60s' };
    written.drain_timeout = '1s';
    writeFileSync(path.join(app, 'deploy.yml'), stringify(written));
    ok(await cli(['secrets', 'init']));
    ok(await cli(['secrets', 'set', 'SECRET_KEY_BASE'], { input: 'x'.repeat(64) }));
    ok(await cli(['secrets', 'set', 'POSTGRES_PASSWORD'], { input: 'pw-for-the-phx-e2e' }));
    git('add', '-A');
    git('commit', '-qm', 'deploy config');
    ok(await cli(['config']));
  });

  test('setup, then the first deploy: the default release, listening on IPv6 only, healthy on /', async () => {
    ok(await cli(['setup']));
    const r = await cli(['deploy']);
    ok(r);
    good.add('1.0.0');
    const h = await home();
    assert.equal(h.status, 200, h.body);
    assert.deepEqual([h.version, h.slot], ['1.0.0', 'blue']);
    // the jail is dual-stack and the endpoint took the IPv6 wildcard as generated
    assert.match(await onHost('cat /etc/jail.conf.d/shop_blue.conf'), /ip6\.addr = "lo1\|fd00:a1ca:1de::a00:2\/128";/);
    assert.match(await onHost(`cat ${jail('blue')}/var/log/shop.log`), /Running ShopWeb\.Endpoint with Bandit .* at :::4000 \(http\)/);
    // IPv6 only (FreeBSD's v6only): Caddy reached it by name, through the IPv6 address
    const connect = (ip: string) => sshRun(host, `python3 -c "import socket; socket.create_connection(('${ip}', 4000), 2)"`);
    assert.notEqual((await connect('10.0.0.2')).code, 0, 'nothing listens on the IPv4 address');
    assert.equal((await connect('fd00:a1ca:1de::a00:2')).code, 0, 'the IPv6 address answers');
    assert.match(await onHost('cat /etc/hosts'), /fd00:a1ca:1de::a00:2\tshop-blue\.alcaide\.internal/);
    const envFile = await onHost(`cat ${jail('blue')}/usr/local/etc/shop.env`);
    assert.match(envFile, new RegExp(`^PHX_HOST=${host.host.replace(/\./g, '\\.')}$`, 'm'), 'PHX_HOST defaults to the server without a domain');
    assert.match(envFile, /^DATABASE_URL='?ecto:\/\/shop:/m);
    assert.match(r.stdout, /200 from http:\/\/shop-blue\.alcaide\.internal:4000\/ after \d+ tr/);
  });

  test('readiness checks never reach the app: its log stays still while nobody asks', async () => {
    const log = `${jail('blue')}/var/log/shop.log`;
    const lines = async () => Number((await onHost(`wc -l < ${log}`)).trim());
    const before = await lines();
    await new Promise((r) => setTimeout(r, 5000));
    const idle = (await lines()) - before;
    // Caddy checks each slot 5 times a second: through the app that was 50 requests, 100 lines
    console.log(`# app log lines in 5 s with no client: ${idle}`);
    assert.equal(idle, 0);
    await home();
    assert.ok((await lines()) - before >= 2, 'a request is logged (two lines, as Plug.Logger)');
  });

  test('under load: a second deploy, rollback, a crash-looping release that fails fast, migrations before boot — 0 failed requests', async () => {
    load = startLoad({
      host: host.host,
      concurrency: 4,
      maxMs: 20 * 60_000,
      accept: (status, body) => status === 200 && good.has(MARKER.exec(body)?.[1] ?? ''),
    });
    // a LiveView page open through the deploy: its websocket stays on blue until the old slot
    // stops. The drain waits for ordinary requests only; with drain_timeout 20 s, waiting for
    // the socket would show.
    const cfg = parse(readFileSync(path.join(app, 'deploy.yml'), 'utf8'));
    cfg.drain_timeout = '20s';
    writeFileSync(path.join(app, 'deploy.yml'), stringify(cfg));
    const page = await liveSocket();
    page.sendText('hello');
    assert.equal(await page.nextText(), 'shop 1.0.0 slot=blue');
    // as LiveView's client does (Phoenix closes a socket silent for 60 s)
    let ref = 0;
    const heartbeat = setInterval(() => page.sendText(JSON.stringify([null, String(++ref), 'phoenix', 'heartbeat', {}])), 15_000);

    // a version may answer from the moment its deploy switches: good before the deploy starts
    good.add('2.0.0');
    commitVersion('2.0.0');
    const d2 = await cli(['deploy']).finally(() => clearInterval(heartbeat));
    ok(d2);
    assert.deepEqual([(await home()).version, (await home()).slot], ['2.0.0', 'green']);
    const drained = /drain the old slot.*no request in flight on blue after (\d+\.\d)s \(1 upgraded connection left for the stop to close\)/.exec(d2.stdout);
    assert.ok(drained, `the drain's note:\n${d2.stdout}`);
    assert.ok(Number(drained[1]) < 5, `the drain took ${drained[1]} s (drain_timeout 20 s)`);
    // the old slot's stop closed the socket: Phoenix's drainer, 1012 (Service Restart), after the
    // first answer from 2.0.0
    await Promise.race([page.ended, new Promise((r) => setTimeout(r, 15_000))]);
    const close = page.events.find((e) => e.kind === 'close');
    const ended = page.events.some((e) => e.kind === 'end');
    assert.ok(close?.kind === 'close' && close.code === 1012 && ended, `the socket's events: ${JSON.stringify(page.events)}`);
    const first2 = load.samples.find((s) => s.ok && MARKER.exec(s.body)?.[1] === '2.0.0');
    assert.ok(first2 && load.t0 + first2.start + first2.ms < close.at, 'the socket was still open when 2.0.0 answered');
    console.log(
      `# a LiveView socket open through the deploy: drain ${drained[1]} s (drain_timeout 20 s), closed ${close.code} ${((close.at - (load.t0 + first2.start + first2.ms)) / 1000).toFixed(1)} s after 2.0.0 first answered`,
    );
    // the page's client reconnects: to the new release
    const again = await liveSocket();
    again.sendText('hello');
    assert.equal(await again.nextText(), 'shop 2.0.0 slot=green');
    again.destroy();

    ok(await cli(['rollback']));
    assert.deepEqual([(await home()).version, (await home()).slot], ['1.0.0', 'blue']);

    // a release whose endpoint crashes at boot: the health step ends on the crash loop, not the 60 s timeout
    commitVersion('3.0.0', ['--crash']);
    const t0 = Date.now();
    const crash = await cli(['deploy']);
    const healthLine = crash.stdout
      .split('\n')
      .find((l) => l.includes('health check on the slot address'))
      ?.trim();
    console.log(
      `# crash-looping release: the deploy failed after ${((Date.now() - t0) / 1000).toFixed(1)} s, its health step: ${healthLine} (health_check.timeout 60 s)`,
    );
    assert.equal(crash.code, 1, crash.stdout);
    assert.match(
      crash.stderr,
      /health check on the slot address failed: GET http:\/\/shop-green\.alcaide\.internal:4000\/ never answered 200: the app crash-loops \(daemon\(8\) restarted it \d+ times/,
    );
    assert.match(crash.stderr, /the app log \/var\/log\/shop\.log in shop_green ends with:\n[\s\S]*crash/i);
    assert.deepEqual([(await home()).version, (await home()).slot], ['1.0.0', 'blue'], 'traffic stayed');

    // a version that reads a new table as it boots: its migration must run before the app starts
    const written = parse(readFileSync(path.join(app, 'deploy.yml'), 'utf8'));
    written.release.migrate_before_start = true;
    writeFileSync(path.join(app, 'deploy.yml'), stringify(written));
    good.add('4.0.0');
    commitVersion('4.0.0', ['--boot-reads-table']);
    const d4 = await cli(['deploy']);
    ok(d4);
    assert.ok(d4.stdout.indexOf('run migrations') < d4.stdout.indexOf('start the app'), d4.stdout);
    assert.deepEqual([(await home()).version, (await home()).slot], ['4.0.0', 'green']);

    const end = await load.stop();
    assert.ok(end.ranToEnd, `the load stopped at its deadline (${end.stoppedAt} ms) before the deploys ended`);
    const failed = load.samples.filter((s) => !s.ok);
    console.log(`# ${load.samples.length} requests through 2 deploys, a rollback, a failed deploy and a deploy with migrations first: ${failed.length} failed`);
    assert.ok(load.samples.length > 500, `${load.samples.length} requests`);
    assert.deepEqual(
      failed.slice(0, 3).map((f) => f.error ?? f.body.match(MARKER)?.[0] ?? f.body.slice(0, 80)),
      [],
    );
    load = undefined;
  });

  test('after a reboot the live slot serves again, dual-stack', async () => {
    await sim.reboot(host.name);
    let back = { status: 0, body: '' } as Awaited<ReturnType<typeof home>>;
    for (let i = 0; i < 150 && back.version !== '4.0.0'; i++) {
      back = await home().catch(() => back);
      if (back.version !== '4.0.0') await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual([back.version, back.slot], ['4.0.0', 'green'], back.body);
  });

  test('the app log is rotated the FreeBSD way: newsyslog renames and compresses it, daemon(8) reopens it', async () => {
    const root = jail('green');
    ok({ code: (await sshRun(host, 'jexec shop_green newsyslog -F')).code, stdout: '', stderr: '' });
    const listing = await onHost(`ls ${root}/var/log`);
    assert.match(listing, /^shop\.log\.0\.bz2$/m, listing);
    await home();
    assert.match(await onHost(`cat ${root}/var/log/shop.log`), /GET \//, 'the new log gets the next request');
  });

  test('alcaide logs filters by pattern and by age', async () => {
    await home();
    const r = await cli(['logs', '--grep', 'Sent 200', '--since', '5m', '-n', '2']);
    ok(r);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 2, r.stdout);
    assert.ok(
      lines.every((l) => /Sent 200 in/.test(l)),
      r.stdout,
    );
    const none = await cli(['logs', '--grep', 'no such line anywhere']);
    ok(none);
    assert.equal(none.stdout, '');
    const bad = await cli(['logs', '--since', '2d']);
    assert.equal(bad.code, 2);
  });
});
