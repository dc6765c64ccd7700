// End to end: the real CLI (with its embedded worker), the real Temporal dev server, real
// OpenSSH, real Caddy and a real Elixir release, against a simulated FreeBSD host.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  fileFingerprint,
  isMutating,
  jailCreates,
  readCommandLog,
  readInvocations,
  sshRun,
  type SimHost,
  type SimHosts,
  simServerYaml,
} from '../simhost/index';
import { runCliAsync, type CliResult } from '../helpers/cli';
import { E2eProject, ok } from '../helpers/e2eProject';
import { HOSTILE } from '../helpers/hostile';
import { CLI } from '../helpers/paths';
import { queryStatus } from '../../src/temporal/statusQuery';
import { q, sh } from '../../src/freebsd/sh';
import { renderClaim } from '../../src/freebsd/claims';
import { codecKey } from '../../src/temporal/codec';
import type { WorkflowStatus } from '../../workflows/status';

// A secret with everything that breaks naive quoting; the app must see it byte for byte.
const SECRET = HOSTILE.filter((v) => v !== '').join(' | ');
// The database password goes through SQL, a URL and the secrets file: no newline there.
const DB_PASSWORD = HOSTILE.filter((v) => v !== '' && !v.includes('\n')).join('@:/?') + ' 🔑';

const MASTER_KEY = Buffer.alloc(32, 9);

let p: E2eProject;
let sim: SimHosts;
let host: SimHost;
let env: TestWorkflowEnvironment;
let app = '';

const cliEnv = () => p.cliEnv();

function cli(args: string[], timeoutMs = 240_000): Promise<CliResult> {
  return p.cli(args, { timeoutMs });
}

/** Commits version `v` of the fixture app (optionally broken) into the project repository. */
const commitVersion = (v: string, flags: string[] = []): string => p.commitVersion(v, flags);

async function through(pathname = '/'): Promise<{ status: number; body: string; slot: string | null }> {
  const res = await fetch(`http://${host.host}${pathname}`, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: await res.text(), slot: res.headers.get('alcaide-slot') };
}

// Debian's psql (a jail sees the host userland) with the app's own environment, in a slot jail
const PSQL = '"$(ls -d /usr/lib/postgresql/*/bin | tail -n 1)/psql"';
const asApp = (jail: string, sql: string) =>
  sh`jexec ${jail} /bin/sh -c ${`. /usr/local/etc/hello.env && ${PSQL} "postgresql://\${DATABASE_URL#ecto://}" -tAc ${q(sql)}`}`;

const jls = async () => (await sshRun(host, 'jls -N name')).stdout;

/** The pf NAT rules as the kernel holds them (`pfctl -s nat`: the loaded ruleset, not /etc/pf.conf). */
const natRules = async () => (await sshRun(host, 'pfctl -s nat')).stdout.trim().split('\n').filter(Boolean);

// Shared fixture: the deploys, rollbacks and removals of hello this file ran, oldest first, as
// `alcaide history` names them. Each test that runs one records it as the CLI returns.
const ran: string[] = [];

type Slot = 'blue' | 'green';
const other = (slot: Slot): Slot => (slot === 'blue' ? 'green' : 'blue');

/** What Caddy serves now: the body, and the slot that served it. */
async function live(): Promise<{ body: string; slot: Slot }> {
  const res = await through();
  assert.equal(res.status, 200, `hello is live: ${res.status} ${res.body}`);
  assert.ok(res.slot === 'blue' || res.slot === 'green', `served by ${res.slot}`);
  return { body: res.body, slot: res.slot };
}

/** A slot a failed deploy removed, as destroySlot promises: not running, not started at boot, root and jail.conf gone. */
async function assertSlotRemoved(slot: Slot): Promise<void> {
  const name = `hello_${slot}`;
  assert.doesNotMatch(await jls(), new RegExp(`^${name}$`, 'm'), `${name} still runs`);
  const files = await sshRun(host, sh`ls -d /usr/local/jails/${name} /etc/jail.conf.d/${name}.conf`);
  assert.equal(files.stdout, '', `${name}'s root or jail.conf is still there`);
  assert.ok(!(await sshRun(host, 'sysrc -n jail_list')).stdout.split(/\s+/).includes(name), `${name} is still started at boot (jail_list)`);
}

/** The staging destination: hello again on the same host, committed once by whichever test needs it first. */
async function stagingDestination(): Promise<void> {
  if (existsSync(path.join(app, 'deploy.staging.yml'))) return;
  writeFileSync(path.join(app, 'deploy.staging.yml'), 'drain_timeout: 1s\n');
  // its own secrets file: deploy reads a destination's secrets before anything remote
  ok(await cli(['secrets', 'init', '-d', 'staging']));
  for (const [k, v] of [
    ['SECRET_KEY_BASE', SECRET],
    ['POSTGRES_PASSWORD', DB_PASSWORD],
  ])
    ok(await runCliAsync(['secrets', 'set', k, '-d', 'staging'], { cwd: app, input: v, env: { ALCAIDE_MASTER_KEY: Buffer.alloc(32, 9).toString('base64') } }));
  spawnSync('sh', ['-c', `cd "${app}" && git add -A && git -c user.name=t -c user.email=t@t commit -qm staging`]);
}

before(async () => {
  p = await E2eProject.start({
    prefix: 'alcaide-e2e-',
    queue: 'e2e',
    masterKey: MASTER_KEY,
    // env.client reads what the CLI wrote, encrypted under the project's master key
    codecKeys: [codecKey(MASTER_KEY, 'e2e master key')],
    config: {
      env: { clear: { DATA_DIR: '/var/db/hello' }, secret: ['SECRET_KEY_BASE'] },
      drain_timeout: '1s',
      release: { migrate: 'Hello.Release.migrate()' },
      accessories: {
        postgresql: { volume: '/var/db/hello_postgres:/var/db/postgres', user: 'hello', database: 'hello_prod', password_secret: 'POSTGRES_PASSWORD' },
      },
    },
  });
  ({ sim, host, env, app } = p);
  await p.secrets({ SECRET_KEY_BASE: SECRET, POSTGRES_PASSWORD: DB_PASSWORD });
});

after(async () => {
  await p?.stop();
});

describe('on a simulated FreeBSD host', () => {
  test('setup from a bare host, then a second setup changes nothing', async () => {
    const first = await cli(['setup']);
    ok(first);
    assert.match(first.stdout, /✓ .* is ready for hello/);
    assert.match(await jls(), /hello_build/);
    const before = readCommandLog(host).length;
    const ranBefore = readInvocations(host).length;
    const managed = ['etc', 'usr/local/etc', 'var/db/alcaide', 'usr/local/jails/hello_build/etc', 'usr/local/jails/hello_build/usr/local/etc'];
    const files = fileFingerprint(host, managed);
    const second = await cli(['setup']);
    ok(second);
    assert.match(second.stdout, /nothing needed changing/);
    assert.ok(readCommandLog(host).length - before > 5, 'the second setup checked the host');
    // what really ran: checks only (a step's script names its actions, but runs them only when needed)
    const ran = readInvocations(host).slice(ranBefore);
    assert.ok(ran.length > 5);
    assert.deepEqual(
      ran.filter((e) => isMutating(e.argv)).map((e) => e.argv.join(' ')),
      [],
      'the second setup ran no mutating command',
    );
    assert.deepEqual(fileFingerprint(host, managed), files, 'the second setup wrote no file');
  });

  test('deploy v1: blue serves through Caddy, the app sees its secret exactly', async () => {
    const r = await cli(['deploy']);
    ran.push('deploy:completed');
    ok(r);
    assert.match(r.stdout, /✓ hello [0-9a-f]{12} live on blue/);
    const res = await through();
    assert.deepEqual([res.status, res.body, res.slot], [200, 'hello v1.0.0 slot=blue', 'blue']);
    assert.equal((await through('/env/SECRET_KEY_BASE')).body, SECRET);
    const envFile = await sshRun(host, 'stat -f %Lp /usr/local/jails/hello_blue/usr/local/etc/hello.env');
    assert.equal(envFile.stdout.trim(), '640');
    const log = readFileSync(host.commandLog, 'utf8');
    assert.ok(!log.includes('$(touch /tmp/alcaide-pwned)'), 'the secret never appears in a command line');
    assert.ok(!existsSync(path.join(host.root, 'tmp', 'alcaide-pwned')));
  });

  test('a destination or another app that would take what hello holds on the host is refused before anything changes', async () => {
    const ranBefore = readInvocations(host).length;
    const logBefore = readCommandLog(host).length;
    const files = fileFingerprint(host, ['etc', 'usr/local/etc', 'var/db/alcaide/claims.d']);
    // staging on the production host: same app, same jails
    await stagingDestination();
    for (const args of [['setup'], ['deploy'], ['rollback']]) {
      const r = await cli([...args, '-d', 'staging']);
      assert.equal(r.code, 1, `${args[0]}: ${r.stdout}${r.stderr}`);
      assert.match(
        r.stderr,
        /hello \(destination staging\) would take what another app holds on \S+: the jails hello_blue, hello_green and hello_build are hello's; the jail subnet 10\.0\.0\.0\/24 overlaps hello's 10\.0\.0\.0\/24; Caddy's slot ports \d+, \d+ are hello's; the site :80 is hello's \(\/var\/db\/alcaide\/claims\.d\); nothing was changed/,
        args[0],
      );
      assert.match(r.stderr, /give this app its own `app` name .*its own `network\.subnet`, its own `proxy\.ports`, its own `domain`/);
    }
    // another app with the default network and no domain
    const other = path.join(p.project.dir, 'other');
    spawnSync('mkdir', ['-p', other]);
    writeFileSync(path.join(other, 'deploy.yml'), `app: other\n${simServerYaml(host)}`);
    const r = await runCliAsync(['setup'], { cwd: other, env: cliEnv(), timeoutMs: 120_000 });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(
      r.stderr,
      /other would take what another app holds on \S+: the jail subnet 10\.0\.0\.0\/24 overlaps hello's 10\.0\.0\.0\/24; the site :80 is hello's/,
    );
    assert.doesNotMatch(r.stderr, /the jails|`app` name/);
    assert.match(r.stderr, /give this app its own `network\.subnet`, its own `domain`/);

    const cmds = readCommandLog(host)
      .slice(logBefore)
      .map((e) => e.cmd ?? '');
    assert.ok(!cmds.some((c) => /alcaide-upload|tar /.test(c)), 'no source was uploaded');
    assert.deepEqual(
      readInvocations(host)
        .slice(ranBefore)
        .filter((e) => isMutating(e.argv))
        .map((e) => e.argv.join(' ')),
      [],
      'nothing was changed on the host',
    );
    assert.deepEqual(fileFingerprint(host, ['etc', 'usr/local/etc', 'var/db/alcaide/claims.d']), files, 'no file was written');
    assert.equal((await through()).body, 'hello v1.0.0 slot=blue');
  });

  test('pf NATs the jail subnet of every app that claims one on the host', async () => {
    const claim = '/var/db/alcaide/claims.d/other.claim';
    // what pf enforces is the loaded ruleset: a pf.conf written but not loaded NATs nothing
    const [own, ...more] = await natRules();
    assert.match(own ?? '', /^nat on (\S+) inet from 10\.0\.0\.0\/24 to any -> \(\1\) round-robin$/, 'pfctl -s nat');
    assert.deepEqual(more, []);
    // another app on the host with its own subnet, port and domain (its claim as its setup writes it)
    const text = renderClaim({ app: 'other', subnet: '10.0.1.0/24', proxyPorts: [30000, 30001], site: 'other.test' });
    assert.equal((await sshRun(host, sh`printf %s ${text} > ${claim}`)).code, 0);
    ok(await cli(['setup']));
    assert.deepEqual(await natRules(), [own, own!.replace('10.0.0.0/24', '10.0.1.0/24')], 'the setup loaded the NAT of both claims');
    // gone from the host: its NAT goes at the next setup
    assert.equal((await sshRun(host, sh`rm ${claim}`)).code, 0);
    ok(await cli(['setup']));
    assert.deepEqual(await natRules(), [own], 'the setup loaded the ruleset without the removed claim');
  });

  test('the PostgreSQL accessory: the app reaches it with DATABASE_URL; it listens on its jail IP only; data on the volume', async () => {
    const jail = `hello_${(await live()).slot}`;
    const r = await sshRun(host, asApp(jail, "select current_user || ' ' || current_database()"));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'hello hello_prod');
    const wrong = await sshRun(host, sh`jexec ${jail} /bin/sh -c ${`${PSQL} postgresql://hello:wrong@10.0.0.4:5432/hello_prod -tAc 'select 1'`}`);
    assert.notEqual(wrong.code, 0, 'a wrong password is refused');
    assert.match(wrong.stderr, /password authentication failed/);
    const listening = await sshRun(host, "jexec hello_db ss -ltnH | awk '{ print $4 }'");
    assert.deepEqual(listening.stdout.trim().split('\n').sort(), ['10.0.0.4:5432'], 'only the jail IP');
    assert.equal((await sshRun(host, 'test -f /var/db/hello_postgres/data16/PG_VERSION')).code, 0, 'the cluster lives on the host volume');
    assert.equal((await sshRun(host, 'stat -f %u:%Lp /var/db/hello_postgres')).stdout.trim(), '770:700');
    assert.ok(!readFileSync(host.commandLog, 'utf8').includes(DB_PASSWORD.slice(0, 8)), 'the password never appears in a command line');
  });

  test('deploy v2: green takes traffic, blue is stopped but kept', async () => {
    commitVersion('2.0.0');
    const r = await cli(['deploy']);
    ran.push('deploy:completed');
    ok(r);
    assert.deepEqual((await through()).body, 'hello v2.0.0 slot=green');
    const running = await jls();
    assert.match(running, /hello_green/);
    assert.doesNotMatch(running, /hello_blue/);
    assert.equal((await sshRun(host, 'test -d /usr/local/jails/hello_blue/usr/local/hello')).code, 0, 'blue kept for rollback');
  });

  test('rollback: v1 back on blue', async () => {
    const r = await cli(['rollback']);
    ran.push('rollback:completed');
    ok(r);
    assert.match(r.stdout, /rolled back to blue/);
    assert.equal((await through()).body, 'hello v1.0.0 slot=blue');
    assert.doesNotMatch(await jls(), /hello_green/);
  });

  test('a release whose health check fails never receives traffic; its slot is removed; the live one untouched', async () => {
    const before = await live();
    const next = other(before.slot);
    commitVersion('3.0.0', ['--health-fail']);
    const r = await cli(['deploy']);
    ran.push('deploy:failed, restored@checkHealth');
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /health check on the slot address failed: .* did not answer 200 within 20s/);
    assert.match(r.stderr, new RegExp(`Restored: remove the ${next} slot\\.`));
    assert.deepEqual(await live(), before);
    await assertSlotRemoved(next);
  });

  test('a release whose migration fails: traffic never moves; the new slot is removed', async () => {
    const before = await live();
    const next = other(before.slot);
    commitVersion('3.0.1', ['--migration-fail']);
    const ranBefore = readInvocations(host).length;
    const r = await cli(['deploy']);
    ran.push('deploy:failed, restored@runMigrations');
    // the new slot never took traffic: its app is killed, not stopped and drained through rc.d
    const stops = readInvocations(host)
      .slice(ranBefore)
      .filter((e) => /(^|\/)service$/.test(e.argv[0] ?? '') && e.argv.includes(`hello_${next}`) && /stop$/.test(e.argv.at(-1) ?? ''));
    assert.deepEqual(
      stops.map((e) => e.argv.join(' ')),
      [],
    );
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, new RegExp(`run migrations failed: migrations failed in hello_${next} \\(exit 1\\)`));
    assert.match(r.stderr, new RegExp(`Restored: remove the ${next} slot\\.`));
    assert.deepEqual(await live(), before);
    await assertSlotRemoved(next);
  });

  test('a second deploy while one runs is refused with who, when, where', async () => {
    const next = other((await live()).slot);
    commitVersion('4.0.0');
    const handle = env.client.workflow.getHandle('alcaide-hello');
    const previousRun = (await handle.describe()).runId;
    const first = cli(['deploy']);
    ran.push('deploy:completed');
    // wait until the first deploy holds the lock
    for (let i = 0; i < 200; i++) {
      const d = await handle.describe();
      if (d.runId !== previousRun && d.status.name === 'RUNNING') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const status = await cli(['status']);
    ok(status);
    assert.match(status.stdout, /deployWorkflow running/);
    const second = await cli(['deploy']);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /another deploy of this app is running \(started by \S+@\S+ at \d{4}-/);
    assert.match(second.stderr, /--wait to deploy after it/);
    ok(await first);
    assert.equal((await through()).body, `hello v4.0.0 slot=${next}`);
  });

  test('killing the CLI mid-deploy leaves a paused deploy that deploy --attach finishes, without repeating work', async () => {
    const next = other((await live()).slot);
    commitVersion('5.0.0');
    const handle = env.client.workflow.getHandle('alcaide-hello');
    const previousRun = (await handle.describe()).runId;
    const logBefore = readCommandLog(host).length;
    const ranBefore = readInvocations(host).length;
    const child = spawn(process.execPath, [CLI, 'deploy'], { cwd: app, env: { ...process.env, ...cliEnv() }, stdio: 'ignore' });
    ran.push('deploy:completed');
    // killed once the build and the slot jail (made side by side) are done, before the switch
    const finished = (st?: WorkflowStatus) =>
      ['buildRelease', 'createSlotJail'].every((n) => ['done', 'unchanged'].includes(st?.steps.find((x) => x.name === n)?.state ?? ''));
    let st: WorkflowStatus | undefined;
    for (const end = Date.now() + 120_000; !finished(st) && Date.now() < end && child.exitCode === null; await new Promise((r) => setTimeout(r, 25))) {
      const d = await handle.describe();
      if (d.runId !== previousRun) st = await queryStatus(handle).catch(() => undefined);
    }
    assert.ok(finished(st), `deploy exited ${child.exitCode}; steps ${JSON.stringify(st?.steps)}`);
    assert.ok(['installRelease', 'writeAppEnv', 'startApp', 'runMigrations', 'checkHealth'].includes(st?.currentStep ?? ''), st?.currentStep);
    child.kill('SIGKILL');
    await once(child, 'exit');
    assert.equal((await handle.describe()).status.name, 'RUNNING', 'the deploy outlives its CLI');
    const paused = await cli(['status']);
    assert.equal(paused.code, 1);
    assert.match(paused.stderr, /is paused/);
    assert.match(paused.stderr, /alcaide deploy --attach/);
    const retry = await cli(['retry']);
    assert.equal(retry.code, 1);
    assert.match(retry.stderr, /does not answer: no worker is running it/);
    const attached = await cli(['deploy', '--attach']);
    ok(attached);
    assert.match(attached.stdout, new RegExp(`live on ${next}`));
    assert.equal((await through()).body, `hello v5.0.0 slot=${next}`);
    const cmds = readCommandLog(host)
      .slice(logBefore)
      .map((e) => e.cmd ?? '');
    assert.equal(jailCreates(readInvocations(host).slice(ranBefore), `hello_${next}`), 1, 'the slot jail was started once');
    assert.equal(cmds.filter((c) => /mix do .*\+ release \$release /.test(c)).length, 1, 'the release was built once');
  });

  test('logs and run reach the live slot', async () => {
    const { body, slot } = await live();
    const version = /^hello v(\S+) slot=/.exec(body)![1]!;
    const logs = await cli(['logs', '-n', '20']);
    ok(logs);
    assert.ok(logs.stdout.includes(`Running Hello v${version} slot=${slot}`), logs.stdout);
    const run = await cli(['run', 'bin/hello', 'eval', 'IO.puts(System.get_env("ALCAIDE_SLOT"))']);
    ok(run);
    assert.equal(run.stdout.trim(), slot);
  });

  test('history lists every deploy and rollback with its outcome, newest first', async () => {
    const r = await cli(['history', '--json', '-n', '50']);
    ok(r);
    const h = JSON.parse(r.stdout) as Array<{
      kind: string;
      outcome: string;
      failedStep?: string;
      version?: string;
      slot?: string;
      startedBy?: string;
      url?: string;
    }>;
    assert.ok(
      ran.some((e) => e.startsWith('deploy:failed')) && ran.includes('rollback:completed'),
      `this file ran a failed deploy and a rollback before: ${ran.join(', ')}`,
    );
    assert.deepEqual(h.map((e) => `${e.kind}:${e.outcome}${e.failedStep ? `@${e.failedStep}` : ''}`).reverse(), ran);
    assert.ok(h.every((e) => e.startedBy && e.url?.includes('/workflows/alcaide-hello/')));
    // the text form: the two newest entries, each with its kind, version, slot and outcome
    const text = await cli(['history', '-n', '2']);
    ok(text);
    assert.equal(text.stdout.match(/^\d{4}-/gm)?.length, 2, text.stdout);
    for (const e of h.slice(0, 2)) assert.match(text.stdout, new RegExp(`^\\S+ +${e.kind} +${e.version} +${e.slot} +${e.outcome}`, 'm'));
  });

  test('after a host reboot the live slot serves again; the stopped one stays stopped', async () => {
    const before = await live();
    await sim.reboot(host.name);
    let res = { status: 0, body: '', slot: null as string | null };
    for (let i = 0; i < 100; i++) {
      try {
        res = await through();
        if (res.status === 200) break;
      } catch {
        /* Caddy or the app still starting */
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(res.body, before.body);
    assert.doesNotMatch(await jls(), new RegExp(`hello_${other(before.slot)}`));
    // lo1, pf with its NAT loaded from /etc/pf.conf, and the accessory are back too
    assert.match((await sshRun(host, 'ifconfig lo1')).stdout, /inet 10\.0\.0\.4 /);
    assert.match((await sshRun(host, 'pfctl -s Running')).stdout, /Enabled/);
    assert.match((await natRules()).join('\n'), /^nat on \S+ inet from 10\.0\.0\.0\/24 to any /m);
    let db = { code: 1, stdout: '', stderr: '' };
    for (let i = 0; i < 50 && db.code !== 0; i++) {
      db = await sshRun(host, asApp(`hello_${before.slot}`, 'select count(*) from pg_database where datname = current_database()'));
      if (db.code !== 0) await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(db.stdout.trim(), '1', db.stderr);
  });
  test('on_failure hold: a migration that fails (database down) waits with traffic untouched; the operator starts the database, retries, and the deploy completes', async () => {
    const { body: served } = await live();
    const logStart = readCommandLog(host).length;
    assert.equal((await sshRun(host, 'service -j hello_db postgresql stop')).code, 0);
    commitVersion('6.0.0');
    const deploying = cli(['deploy', '--hold']);
    let held: { held?: { step: string; error: string }; state: string } | undefined;
    let last: CliResult | undefined;
    for (let i = 0; i < 300 && held?.state !== 'held'; i++) {
      await new Promise((r) => setTimeout(r, 500));
      last = await cli(['status', '--json']);
      if (last.code === 0) held = (JSON.parse(last.stdout) as { status?: typeof held }).status;
    }
    if (held?.state !== 'held') {
      // say what the deploy and the last status printed: a bare "undefined" explains nothing
      const ended = await Promise.race([deploying, new Promise<undefined>((r) => setTimeout(r, 100, undefined))]);
      assert.fail(`never held; last status: ${JSON.stringify(last)}; deploy: ${ended ? JSON.stringify(ended) : 'still running'}`);
    }
    assert.equal(held?.held?.step, 'runMigrations');
    assert.match(held?.held?.error ?? '', /database 10\.0\.0\.4:5432 unreachable/);
    const human = await cli(['status']);
    assert.match(human.stdout, /waiting for operator: run migrations failed: /);
    assert.equal((await through()).body, served, 'traffic stays on the old slot while held');
    const early = await cli(['retry']);
    ok(early);
    // the database is still down: the retried step fails again and holds again
    for (let i = 0; i < 120; i++) {
      await new Promise((r) => setTimeout(r, 500));
      const st = JSON.parse((await cli(['status', '--json'])).stdout) as { status?: { state: string; held?: { retries: number } } };
      if (st.status?.state === 'held' && st.status.held?.retries === 1) break;
    }
    // the operator fixes the cause, then retries
    assert.equal((await sshRun(host, 'service -j hello_db postgresql start')).code, 0);
    ok(await cli(['retry']));
    const r = await deploying;
    ran.push('deploy:completed');
    ok(r);
    assert.match(r.stdout, /waiting for operator: run migrations failed/);
    assert.match((await through()).body, /^hello v6\.0\.0 slot=/);
    const cmds = readCommandLog(host)
      .slice(logStart)
      .map((e) => e.cmd ?? '');
    assert.equal(cmds.filter((c) => /mix do .*\+ release \$release /.test(c)).length, 1, 'the release was built once: retries ran only the failed step');
    assert.equal(cmds.filter((c) => /Hello\.Release\.migrate/.test(c)).length, 3, 'migrations ran three times: failed, failed on retry, passed');
    const notHeld = await cli(['retry']);
    assert.equal(notHeld.code, 1);
    assert.match(notHeld.stderr, /no deploy of hello is running|not waiting for an operator/);
  });

  test('remove: refused for another destination, then the app is taken off the host; its database data stays; a second remove finds nothing', async () => {
    const unconfirmed = await cli(['remove']);
    assert.equal(unconfirmed.code, 2, unconfirmed.stderr);
    // staging's claim is not hello's: its removal must not touch hello's jails
    await stagingDestination();
    const staging = await cli(['-d', 'staging', 'remove', '--yes']);
    assert.equal(staging.code, 1, staging.stdout + staging.stderr);
    assert.match(staging.stderr, /the jails hello_blue, hello_green and hello_build are hello's/);
    assert.match(await jls(), /hello_build/);
    await live();

    const pgVersion = async () => (await sshRun(host, 'cat /var/db/hello_postgres/data16/PG_VERSION')).stdout.trim();
    const dataBefore = await pgVersion();
    assert.match(dataBefore, /^\d+$/);
    const r = await cli(['remove', '--yes']);
    ran.push('remove:completed');
    ok(r);
    assert.match(r.stdout, /✓ hello removed from \S+/);
    assert.doesNotMatch(await jls(), /hello_/);
    const left = await sshRun(
      host,
      'ls /etc/jail.conf.d /usr/local/jails /var/db/alcaide /var/db/alcaide/claims.d /usr/local/etc/caddy/sites; sysrc -n jail_list',
    );
    assert.doesNotMatch(left.stdout, /hello/, left.stdout);
    // refused, not any failure: a request that hangs until its timeout would mean something still holds :80
    const after = await through().then(
      (res) => `HTTP ${res.status} ${res.body}`,
      (e: Error) => String((e.cause as { code?: string } | undefined)?.code ?? e.message),
    );
    assert.equal(after, 'ECONNREFUSED', 'Caddy serves nothing on :80 any more');
    assert.equal(await pgVersion(), dataBefore, 'the database data stays on its volume');
    assert.match(r.stdout, /the data stays in \/var\/db\/hello_postgres/);

    const again = await cli(['remove', '--yes']);
    ran.push('remove:completed');
    ok(again);
    assert.match(again.stdout, /✓ hello removed from \S+ \(nothing of it was there\)/);
    const status = await cli(['status']);
    ok(status);
    assert.match(status.stdout, /^removeWorkflow completed — started /);
    assert.match(status.stdout, /release the app's claim on the host/);
    const history = JSON.parse((await cli(['history', '--json', '-n', '3'])).stdout) as Array<{ kind: string; outcome: string }>;
    assert.deepEqual(
      history.slice(0, 2).map((h) => `${h.kind}:${h.outcome}`),
      ['remove:completed', 'remove:completed'],
    );
  });
});
