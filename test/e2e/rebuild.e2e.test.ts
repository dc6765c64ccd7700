// End to end: the nightly build jail rebuild, run by a long-lived `alcaide worker` from a
// Temporal Schedule, against a simulated FreeBSD host: the build jail is replaced by a new
// one proven by a test build (and the next deploy builds in it); a rebuild whose test build
// fails leaves the build jail in service untouched.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { readCommandLog, sshRun, type SimHost, type SimHosts } from '../simhost/index';
import type { CliResult } from '../helpers/cli';
import { E2eProject, ok } from '../helpers/e2eProject';
import { CLI } from '../helpers/paths';
import { queryStatus } from '../../src/temporal/statusQuery';
import { failureMessage } from '../helpers/temporal';
import type { WorkflowStatus } from '../../workflows/status';

const JAILS = '/usr/local/jails';

let p: E2eProject;
let sim: SimHosts;
let host: SimHost;
let env: TestWorkflowEnvironment;
let app = '';
let worker: ChildProcess | undefined;
let workerOut = '';
let v1 = '';
let inService = '';

const cliEnv = () => p.cliEnv();
const cli = (args: string[], timeoutMs = 300_000): Promise<CliResult> => p.cli(args, { timeoutMs });
const onHost = async (cmd: string) => (await sshRun(host, cmd)).stdout.trim();
const exists = async (path: string) => (await sshRun(host, `test -e ${path}`)).code === 0;
const commitVersion = (v: string) => p.commitVersion(v);

async function through(): Promise<string> {
  const res = await fetch(`http://${host.host}/`, { signal: AbortSignal.timeout(10_000) });
  return res.text();
}

before(async () => {
  p = await E2eProject.start({
    prefix: 'alcaide-rebuild-e2e-',
    queue: 'rebuild-e2e',
    masterKey: Buffer.alloc(32, 7),
    config: { env: { secret: ['SECRET_KEY_BASE'] }, drain_timeout: '1s', release: { migrate: 'Hello.Release.migrate()' } },
  });
  ({ sim, host, env, app } = p);
  await p.secrets({ SECRET_KEY_BASE: 'x'.repeat(64) });
  v1 = p.head();
});

after(async () => {
  if (worker && worker.exitCode === null) {
    worker.kill('SIGTERM');
    await once(worker, 'exit');
  }
  await p?.stop();
});

describe('nightly build jail rebuild on a simulated FreeBSD host', () => {
  test('setup and deploy v1; a long-lived worker; the nightly schedule', async () => {
    ok(await cli(['setup']));
    ok(await cli(['deploy']));
    assert.equal(await through(), 'hello v1.0.0 slot=blue');
    // marks of the build jail as it is now: a file only the old root has, and its build cache
    await sshRun(host, `touch ${JAILS}/hello_build/root/old-root && touch ${JAILS}/hello_build/usr/local/alcaide/build/hello/_build/carried-cache`);

    worker = spawn(process.execPath, [CLI, 'worker'], { cwd: app, env: { ...process.env, ...cliEnv() }, stdio: ['ignore', 'pipe', 'pipe'] });
    worker.stdout!.on('data', (d) => (workerOut += d));
    worker.stderr!.on('data', (d) => (workerOut += d));
    for (let i = 0; i < 100 && !/worker polling task queue rebuild-e2e/.test(workerOut); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(workerOut, /worker polling task queue rebuild-e2e/);

    const r = await cli(['schedule', 'nightly', '--at', '03:00', '--timezone', 'UTC']);
    ok(r);
    assert.match(r.stdout, /✓ created alcaide-nightly-hello: rebuild hello's build jail every night at 03:00 UTC/);
    assert.doesNotMatch(r.stdout, /no worker polls/, 'the long-lived worker is seen');
  });

  test('a triggered rebuild replaces the build jail with a proven one, carrying the cache (same OTP)', async () => {
    const logFrom = readCommandLog(host).length;
    const r = await cli(['schedule', 'trigger', '--wait']);
    ok(r);
    assert.match(
      r.stdout,
      new RegExp(
        `✓ rebuilt: build jail rebuilt and proven with ${v1.slice(0, 12)}; installed and upgraded: elixir-1\\.17\\.3, erlang-26\\.2\\.5\\.11,4, node22-22\\.17\\.0, npm-node22-10\\.9\\.2, git-2\\.50\\.1; OTP \\d+ in both: deps/, _build/ and the hex/rebar caches carried over`,
      ),
    );

    // the build jail in service is a new root; the temporary jail and the old root are gone
    assert.equal(await exists(`${JAILS}/hello_build/root/old-root`), false, 'the old root was replaced');
    assert.equal(await exists(`${JAILS}/hello_build/usr/local/alcaide/build/hello/_build/carried-cache`), true, 'the build cache was carried over');
    assert.equal(await exists(`${JAILS}/hello_build/usr/local/alcaide/artifacts/hello-${v1}.tar.gz`), true, 'the test build ran in the new root');
    inService = await onHost(`cat ${JAILS}/hello_build/.alcaide-rebuild`);
    assert.match(inService, /^[0-9a-f-]{36}$/);
    for (const p of [`${JAILS}/hello_build.prev`, `${JAILS}/hello_build_next`, '/etc/jail.conf.d/hello_build_next.conf'])
      assert.equal(await exists(p), false, `${p} is gone`);
    const jails = await onHost('jls -N name');
    assert.match(jails, /hello_build\b/);
    assert.doesNotMatch(jails, /hello_build_next/);
    assert.equal(await onHost('sysrc -n jail_list'), 'hello_build hello_blue', 'boot list unchanged: only the build jail name, never the temporary one');

    // the test build ran in the new jail before the swap, and the old jail was stopped only for the swap
    const cmds = readCommandLog(host)
      .slice(logFrom)
      .map((e) => e.cmd ?? '');
    const testBuild = cmds.findIndex((c) => /jexec -l hello_build_next .*mix do .*\+ release \$release /s.test(c));
    const swap = cmds.findIndex((c) => /mv \/usr\/local\/jails\/hello_build_next \/usr\/local\/jails\/hello_build$/.test(c));
    const stopOld = cmds.findIndex((c) => c === 'jail -f /etc/jail.conf.d/hello_build.conf -r hello_build');
    assert.ok(testBuild > 0 && stopOld > testBuild && swap > stopOld, `test build ${testBuild} < stop old ${stopOld} < swap ${swap}`);

    // the rebuild ran under the app's lock id, and status shows it
    const status = await cli(['status', '--json']);
    ok(status);
    const st = JSON.parse(status.stdout) as { status: WorkflowStatus };
    assert.equal(st.status.kind, 'rebuild');
    assert.equal(st.status.state, 'completed');
    const d = JSON.parse((await cli(['schedule', 'describe', '--json'])).stdout) as { recentRuns: Array<{ outcome: string }> };
    assert.deepEqual(
      d.recentRuns.map((x) => x.outcome),
      ['rebuilt'],
    );
  });

  test('setup after a rebuild still finds nothing to change', async () => {
    const r = await cli(['setup']);
    ok(r);
    assert.match(r.stdout, /nothing needed changing/);
  });

  test('the next deploy builds in the new build jail', async () => {
    const v2 = commitVersion('2.0.0');
    const logFrom = readCommandLog(host).length;
    ok(await cli(['deploy']));
    assert.equal(await through(), 'hello v2.0.0 slot=green');
    const cmds = readCommandLog(host)
      .slice(logFrom)
      .map((e) => e.cmd ?? '');
    assert.equal(cmds.filter((c) => /jexec -l hello_build .*mix do .*\+ release \$release /s.test(c)).length, 1);
    assert.equal(await exists(`${JAILS}/hello_build/usr/local/alcaide/artifacts/hello-${v2}.tar.gz`), true);
    assert.equal(await onHost(`cat ${JAILS}/hello_build/.alcaide-rebuild`), inService);
  });

  test('a host reboot during the test build: the build jail in service comes back at boot, the rebuild resumes and finishes', async () => {
    const handle = env.client.workflow.getHandle('alcaide-hello');
    const lastDeploy = (await handle.describe()).runId;
    const logFrom = readCommandLog(host).length;
    const trigger = cli(['schedule', 'trigger', '--wait']);
    let step = '';
    for (const end = Date.now() + 120_000; step !== 'testBuild' && Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
      const d = await handle.describe().catch(() => undefined);
      if (d && d.runId !== lastDeploy && d.status.name === 'RUNNING') step = (await queryStatus(handle).catch(() => undefined))?.currentStep ?? '';
    }
    assert.equal(step, 'testBuild');
    // reboot while `mix … release` runs in the new jail (a warm build takes about two seconds)
    for (
      let i = 0;
      i < 600 &&
      !readCommandLog(host)
        .slice(logFrom)
        .some((e) => /jexec -l hello_build_next .*mix do .*\+ release \$release /s.test(e.cmd ?? ''));
      i++
    ) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 300));
    const rebuildRun = (await handle.describe()).runId;
    await sim.reboot(host.name);
    assert.match(await onHost('jls -N name'), /hello_build\b/, 'the build jail in service is started at boot');
    assert.equal(await onHost(`cat ${JAILS}/hello_build/.alcaide-rebuild`), inService, 'and it is the root that was in service');
    const r = await trigger;
    ok(r);
    assert.match(r.stdout, /✓ rebuilt: build jail rebuilt and proven with [0-9a-f]{12}/);
    const history = await env.client.workflow.getHandle('alcaide-hello', rebuildRun).fetchHistory();
    const scheduled = new Map<string, string>();
    let testBuildAttempt = 0;
    for (const e of history.events ?? []) {
      const s = e.activityTaskScheduledEventAttributes;
      if (s) scheduled.set(String(e.eventId), s.activityType?.name ?? '');
      const st = e.activityTaskStartedEventAttributes;
      if (st && scheduled.get(String(st.scheduledEventId)) === 'testBuild') testBuildAttempt = st.attempt ?? 0;
    }
    assert.ok(testBuildAttempt >= 2, `the interrupted test build was retried (attempt ${testBuildAttempt})`);
    const now = await onHost(`cat ${JAILS}/hello_build/.alcaide-rebuild`);
    assert.notEqual(now, inService, 'the new root is in service');
    inService = now;
    for (const p of [`${JAILS}/hello_build.prev`, `${JAILS}/hello_build_next`, '/etc/jail.conf.d/hello_build_next.conf'])
      assert.equal(await exists(p), false, `${p} is gone`);
    assert.doesNotMatch(await onHost('jls -N name'), /hello_build_next/);
  });

  test('a failure in the middle of the swap (the new root will not start) is retried and converges', async () => {
    // jail(8) calls of a rebuild: start the new jail; in the swap stop it, stop the old one, start the build jail
    await sim.failNth(host.name, 'jail', 4);
    const r = await cli(['schedule', 'trigger', '--wait']);
    ok(r);
    assert.match(r.stdout, /✓ rebuilt/);
    const run = (await env.client.workflow.getHandle('alcaide-hello').describe()).runId;
    const history = await env.client.workflow.getHandle('alcaide-hello', run).fetchHistory();
    const scheduled = new Map<string, string>();
    const retried: string[] = [];
    for (const e of history.events ?? []) {
      if (e.activityTaskScheduledEventAttributes) scheduled.set(String(e.eventId), e.activityTaskScheduledEventAttributes.activityType?.name ?? '');
      const st = e.activityTaskStartedEventAttributes;
      if (st && (st.attempt ?? 1) > 1) retried.push(`${scheduled.get(String(st.scheduledEventId))}#${st.attempt}: ${await failureMessage(st.lastFailure)}`);
    }
    assert.equal(retried.length, 1, retried.join('\n'));
    assert.match(retried[0]!, /^swapBuildJail#2: .*start jail hello_build.*jail: simulated failure/s, 'the swap failed once, on the injected fault');
    const now = await onHost(`cat ${JAILS}/hello_build/.alcaide-rebuild`);
    assert.equal(now, run, 'the new root is in service');
    inService = now;
    assert.match(await onHost('jls -N name'), /hello_build\b/);
    for (const p of [`${JAILS}/hello_build.prev`, `${JAILS}/hello_build_next`, '/etc/jail.conf.d/hello_build_next.conf'])
      assert.equal(await exists(p), false, `${p} is gone`);
  });

  test('a rebuild whose test build fails removes only the new jail; the build jail in service is untouched', async () => {
    // jexec calls of a rebuild without hex: OTP of the old jail, OTP of the new one, the test build
    await sim.failNth(host.name, 'jexec', 3);
    const r = await cli(['schedule', 'trigger', '--wait']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /✗ failed: rebuild of hello's build jail \(test build of [0-9a-f]{12}\) started by schedule alcaide-nightly-hello-\S+ failed on \S+: test build of the deployed commit failed: the test build of [0-9a-f]{12} failed in hello_build_next \(exit 1\):\njexec: simulated failure/,
    );
    assert.match(r.stdout, /Restored: remove the new build jail; the build jail in service is the old one\./);
    assert.match(r.stderr, /the nightly rebuild of hello failed; the build jail in service is the old one/);

    assert.equal(await onHost(`cat ${JAILS}/hello_build/.alcaide-rebuild`), inService, 'the same root is in service');
    for (const p of [`${JAILS}/hello_build.prev`, `${JAILS}/hello_build_next`, '/etc/jail.conf.d/hello_build_next.conf'])
      assert.equal(await exists(p), false, `${p} is gone`);
    const jails = await onHost('jls -N name');
    assert.match(jails, /hello_build\b/);
    assert.doesNotMatch(jails, /hello_build_next/);
    const d = JSON.parse((await cli(['schedule', 'describe', '--json'])).stdout) as { recentRuns: Array<{ outcome: string }> };
    assert.deepEqual(
      d.recentRuns.map((x) => x.outcome),
      ['failed', 'rebuilt', 'rebuilt', 'rebuilt'],
    );

    // and it still builds: a deploy after the failed rebuild
    commitVersion('3.0.0');
    ok(await cli(['deploy']));
    assert.equal(await through(), 'hello v3.0.0 slot=blue');
  });

  test('the worker stops gracefully; the schedule is deleted', async () => {
    ok(await cli(['schedule', 'delete']));
    worker!.kill('SIGTERM');
    await once(worker!, 'exit');
    assert.match(workerOut, /worker stopped/);
  });
});
