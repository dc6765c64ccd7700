// Golden histories: a history of every workflow type, recorded by an earlier build of the
// workflows and kept in the repository (test/fixtures/histories/). Each must replay through the
// current workflow bundle: a change that would break workflows in flight during an upgrade (a
// step added, removed or reordered without a patch) fails here, where replaying a history
// recorded seconds earlier by the same code cannot. A golden is never re-recorded to make a
// change pass (docs/architecture.md, "Changing workflow code"); a new one is added by naming it
// in RECORDINGS and running, which records only the goldens that have no file yet:
//   RECORD_HISTORIES=1 node --test dist/test/workflow/golden.test.js
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { dataConverterFor, payloadCodecFor } from '../../src/temporal/codec';
import { defaultPayloadConverter } from '@temporalio/common';
import { WORKFLOW_BUNDLE } from '../../src/temporal/worker';
import { REBUILD_STEPS } from '../../workflows/rebuild';
import { REMOVE_STEPS } from '../../workflows/remove';
import { MAINTENANCE_STEPS } from '../../workflows/maintenance';
import { PAUSE_STEPS } from '../../workflows/pause';
import { ROLLBACK_STEPS } from '../../workflows/rollback';
import { SETUP_STEPS } from '../../workflows/setupSteps';
import { FLEET_DEPLOY_STEPS, FLEET_ROLLBACK_STEPS, HOST_DEPLOY_STEPS, HOST_ROLLBACK_STEPS } from '../../workflows/fleetSteps';
import { activitiesOf } from '../../workflows/stepTable';
import { ACTIVITY_OF, deploy, fakes, OWN_TESTS, STEP_ACTIVITIES, TARGET, UNDO, VERSION, waitForStatus, withFakeWorker } from '../helpers/deployFakes';
import { TEST_TARGET_WITH_DB } from '../helpers/target';
import { REPO_ROOT } from '../helpers/paths';
import { rebuildFakes } from '../helpers/rebuildFakes';
import { startTestEnv, TEST_CODEC_KEY } from '../helpers/temporal';

const DIR = path.join(REPO_ROOT, 'test', 'fixtures', 'histories');
const FLEET = {
  ...TEST_TARGET_WITH_DB,
  fleet: {
    hosts: ['192.0.2.1', '192.0.2.2'].map((host) => ({ host, port: 22, user: 'root', labels: [], roles: ['web'] })),
    primaryRole: 'web',
    buildHost: '192.0.2.1',
    boot: { limit: { count: 1 }, waitMs: 0 },
  },
};
/** A web host and a worker host, whose readiness is its release staying up (checkRunning). */
const WEB_AND_WORKER = {
  ...FLEET,
  fleet: {
    ...FLEET.fleet,
    hosts: [
      { host: '192.0.2.1', port: 22, user: 'root', labels: [], roles: ['web'] },
      { host: '192.0.2.2', port: 22, user: 'root', labels: [], roles: ['worker'], cmd: 'bin/app eval "App.Worker.run()"' },
    ],
  },
};
const RECORD = process.env.RECORD_HISTORIES === '1';

type Env = TestWorkflowEnvironment;
type Acts = Record<string, (...args: unknown[]) => Promise<unknown>>;

/** Fakes for `names` that answer `{ changed, note }` (or what `answers` gives) and fail at `fail`. */
function plainFakes(names: readonly string[], o: { fail?: string; answers?: Record<string, object> } = {}): Acts {
  return Object.fromEntries(
    names.map((name) => [
      name,
      async () => {
        if (o.fail === name) throw ApplicationFailure.create({ message: `injected failure in ${name}`, type: 'RemoteCommandError', nonRetryable: true });
        return { changed: true, note: `did ${name}`, ...o.answers?.[name] };
      },
    ]),
  );
}

/**
 * Runs workflow `type` on a fresh task queue with `acts` until it ends (failed is fine); its id.
 * `id`: the workflow id to run under, for a parent whose children's ids derive from its own (a
 * golden replays under its file name).
 */
async function run(env: Env, type: string, args: unknown[], acts: object, during?: (id: string) => Promise<void>, id?: string): Promise<string> {
  return withFakeWorker(env, acts, async (taskQueue) => {
    const workflowId = id ?? `golden-${type}-${taskQueue}`;
    const h = await env.client.workflow.start(type, { taskQueue, workflowId, args });
    const d = during?.(workflowId);
    await h.result().catch((e: unknown) => {
      if (!(e instanceof WorkflowFailedError)) throw e;
    });
    await d;
    return workflowId;
  });
}

const WITH_DB = TEST_TARGET_WITH_DB;
const ROLLBACK_ACTS = ['chooseRollback', 'startSlot', 'checkHealth', 'switchTraffic', 'verifyThroughCaddy', 'stopSlot', 'recordDeploy', 'restoreTraffic'];
const rollbackTo = { chooseRollback: { to: 'blue', from: 'green', version: 'c'.repeat(40) } };
const by = { startedBy: 'test@ci' };

/** What each golden history is: together they are every workflow type and schedule every step and every undo. */
const RECORDINGS: Record<string, (env: Env) => Promise<string>> = {
  'deploy-first': async (env) => (await deploy(env, fakes({}).acts)).workflowId,
  'deploy-to-green': async (env) => (await deploy(env, fakes({}, 'blue').acts)).workflowId,
  // since the drain watches Caddy's figures: an activity, no longer a timer
  'deploy-drained': async (env) => (await deploy(env, fakes({}, 'blue').acts)).workflowId,
  'deploy-health-fails': async (env) => (await deploy(env, fakes({ fail: 'checkHealth' }, 'blue').acts)).workflowId,
  'deploy-verify-fails': async (env) => (await deploy(env, fakes({ fail: 'verifyThroughCaddy' }, 'blue').acts)).workflowId,
  // on_failure: hold; the failed migration waits, the operator fixes it and sends retry
  'deploy-held-retried': async (env) => {
    const mode: { fail?: string } = { fail: 'runMigrations' };
    const { acts } = fakes(mode, 'blue');
    return (
      await deploy(env, acts, {
        target: { ...TARGET, onFailure: 'hold' },
        during: async (id) => {
          await waitForStatus(env.client.workflow.getHandle(id), (s) => s.state === 'held');
          mode.fail = undefined;
          await env.client.workflow.getHandle(id).signal('retry', { by: 'ops@laptop' });
        },
      })
    ).workflowId;
  },
  // a bake (one check a second) ended by `alcaide rollback` after its first check
  'deploy-bake-rolled-back': async (env) => {
    const f = fakes({}, 'blue');
    const checked = new Promise<void>((res) => {
      const check = f.acts.bakeCheck!;
      f.acts.bakeCheck = async (...a) => (res(), check(...a));
    });
    return (
      await deploy(env, f.acts, {
        target: { ...TARGET, bakeMs: 10_000 },
        during: (id) => checked.then(() => env.client.workflow.getHandle(id).signal('rollback', { by: 'ops@laptop' })),
      })
    ).workflowId;
  },
  // every deploy hook, each a step; the post-switch hook fails: reported, and the deploy goes on
  'deploy-hooks': async (env) =>
    (
      await deploy(env, fakes({ fail: 'hook:post-switch' }, 'blue').acts, {
        hooks: { hooks: DEPLOY_HOOKS.map((hook) => ({ hook, local: true, timeoutMs: 60_000 })), webUi: 'http://localhost:8233/wf' },
      })
    ).workflowId,
  // a canary of two shares: the first check healthy, the second a breach that sends traffic back
  'deploy-canary-breach': async (env) => {
    const f = fakes({}, 'blue');
    let checks = 0;
    f.acts.canaryFigures = async (...a: unknown[]) => ({
      changed: false,
      note: '',
      canary: { requests: 50, errors: ++checks > 1 ? 25 : 0 },
      stable: { requests: 450, errors: 0 },
      until: (a[3] as number) + 1000,
    });
    const canary = { steps: [10, 50], intervalMs: 2000, checkIntervalMs: 500, maxErrorPoints: 5, minRequests: 20 };
    return (await deploy(env, f.acts, { input: { canary } })).workflowId;
  },
  // a canary promoted at its first share (`alcaide promote`)
  'deploy-canary-promoted': async (env) => {
    const f = fakes({}, 'blue');
    f.acts.canaryFigures = async (...a: unknown[]) => ({
      changed: false,
      note: '',
      canary: { requests: 50, errors: 0 },
      stable: { requests: 450, errors: 0 },
      until: (a[3] as number) + 1000,
    });
    const canary = { steps: [10, 50], intervalMs: 600_000, checkIntervalMs: 500, maxErrorPoints: 5, minRequests: 20 };
    return (
      await deploy(env, f.acts, {
        input: { canary },
        during: async (id) => {
          await waitForStatus(env.client.workflow.getHandle(id), (s) => (s.canary?.figures.canary.requests ?? 0) > 0);
          await env.client.workflow.getHandle(id).signal('promote', { by: 'ops@laptop' });
        },
      })
    ).workflowId;
  },
  rollback: (env) => run(env, 'rollbackWorkflow', [{ target: TARGET, ...by }], plainFakes(ROLLBACK_ACTS, { answers: rollbackTo })),
  'rollback-verify-fails': (env) =>
    run(env, 'rollbackWorkflow', [{ target: TARGET, ...by }], plainFakes(ROLLBACK_ACTS, { answers: rollbackTo, fail: 'verifyThroughCaddy' })),
  rebuild: (env) => run(env, 'rebuildBuildJailWorkflow', [{ target: TARGET, ...by }], rebuildFakes().acts),
  'rebuild-swap-fails': (env) => run(env, 'rebuildBuildJailWorkflow', [{ target: TARGET, ...by }], rebuildFakes({ fail: 'swapBuildJail' }).acts),
  // the nightly run starts the rebuild as its child under the app's lock id
  nightly: (env) => run(env, 'nightlyRebuildWorkflow', [{ target: TARGET }], rebuildFakes().acts),
  remove: (env) => run(env, 'removeWorkflow', [{ target: TARGET, ...by }], plainFakes(REMOVE_STEPS.map((s) => s.name))),
  'pause-resumed': (env) =>
    run(env, 'pauseWorkflow', [{ target: TARGET, maxMs: 30_000, ...by }], plainFakes(PAUSE_STEPS.map((s) => s.name)), async (id) => {
      await waitForStatus(env.client.workflow.getHandle(id), (s) => s.currentStep === 'paused');
      await env.client.workflow.getHandle(id).signal('resume', { by: 'ops@laptop' });
    }),
  'pause-aborted': (env) =>
    run(env, 'pauseWorkflow', [{ target: TARGET, maxMs: 30_000, ...by }], plainFakes(PAUSE_STEPS.map((s) => s.name)), async (id) => {
      await waitForStatus(env.client.workflow.getHandle(id), (s) => s.currentStep === 'paused');
      await env.client.workflow.getHandle(id).signal('abort', { by: 'ops@laptop' });
    }),
  'maintenance-on': (env) =>
    run(
      env,
      'maintenanceWorkflow',
      [
        {
          target: TARGET,
          request: {
            on: true,
            page: '<p>back soon</p>\n',
            info: { since: '2026-11-30T04:00:00.000Z', by: 'ops@laptop', retryAfterSeconds: 300, ownPage: false },
          },
          ...by,
        },
      ],
      plainFakes(MAINTENANCE_STEPS.map((s) => s.name)),
    ),
  // an abort while the site is being removed: the removal stops before its next step
  'remove-aborted': async (env) => {
    let release = () => undefined as void;
    const open = new Promise<void>((r) => (release = r));
    const acts = plainFakes(REMOVE_STEPS.map((s) => s.name));
    const site = acts.removeAppSite!;
    let reached = () => undefined as void;
    const atSite = new Promise<void>((r) => (reached = r));
    acts.removeAppSite = async () => (reached(), await open, site());
    return run(env, 'removeWorkflow', [{ target: TARGET, ...by }], acts, async (id) => {
      await atSite;
      await env.client.workflow.getHandle(id).signal('abort', { by: 'ops@laptop' });
      release();
    });
  },
  setup: (env) => run(env, 'setupWorkflow', [{ target: WITH_DB }], plainFakes(SETUP_STEPS.map((s) => s.name))),
  // two hosts checked, then each set up by its own child workflow
  'fleet-setup': (env) =>
    run(
      env,
      'fleetSetupWorkflow',
      [{ target: FLEET }],
      {
        ...plainFakes(SETUP_STEPS.map((s) => s.name)),
        preflightHost: async (t: { server: { host: string } }) => ({ host: t.server.host, release: '14.3-RELEASE', major: 14, arch: 'amd64', problems: [] }),
      },
      undefined,
      'fleet-setup.json',
    ),
  // two hosts: built on the first, copied to the second, prepared, switched one by one, finished
  'fleet-deploy': (env) =>
    run(env, 'fleetDeployWorkflow', [{ target: FLEET, version: VERSION, ref: 'HEAD', startedBy: 'golden' }], fleetActs(), undefined, 'fleet-deploy.json'),
  // the second host's child of such a deploy, whose first host failed its check through Caddy:
  // prepared, switched, then ordered back (traffic back, its slot removed)
  'host-deploy': async (env) => {
    await run(
      env,
      'fleetDeployWorkflow',
      // both switch at once; the first fails its check after the second switched
      [{ target: { ...FLEET, fleet: { ...FLEET.fleet, boot: { limit: { count: 2 }, waitMs: 0 } } }, version: VERSION, ref: 'HEAD', startedBy: 'golden' }],
      fleetActs('192.0.2.1'),
      undefined,
      'host-deploy-parent',
    );
    return 'host-deploy-parent@192.0.2.2';
  },
  // the worker host's child of a web + worker deploy: no health check, its release stays up instead
  'host-deploy-worker': async (env) => {
    const args = [{ target: WEB_AND_WORKER, version: VERSION, ref: 'HEAD', startedBy: 'golden' }];
    await run(env, 'fleetDeployWorkflow', args, fleetActs(), undefined, 'host-deploy-worker-parent');
    return 'host-deploy-worker-parent@192.0.2.2';
  },
  // the worker host's child of such a fleet's rollback
  'host-rollback-worker': async (env) => {
    await run(env, 'fleetRollbackWorkflow', [{ target: WEB_AND_WORKER, startedBy: 'golden' }], fleetActs(), undefined, 'host-rollback-worker-parent');
    return 'host-rollback-worker-parent@192.0.2.2';
  },
  // the same two children as recorded by the build before checkRunning existed (it skips the
  // health check and runs nothing in its place): they replay the unpatched branch
  'host-deploy-worker-unpatched': async (env) => {
    const args = [{ target: WEB_AND_WORKER, version: VERSION, ref: 'HEAD', startedBy: 'golden' }];
    await run(env, 'fleetDeployWorkflow', args, fleetActs(), undefined, 'host-deploy-worker-unpatched-parent');
    return 'host-deploy-worker-unpatched-parent@192.0.2.2';
  },
  'host-rollback-worker-unpatched': async (env) => {
    await run(env, 'fleetRollbackWorkflow', [{ target: WEB_AND_WORKER, startedBy: 'golden' }], fleetActs(), undefined, 'host-rollback-worker-unpatched-parent');
    return 'host-rollback-worker-unpatched-parent@192.0.2.2';
  },
  // host-deploy's run again (both switch at once, the first fails its check after the second
  // switched), but the second host cannot put traffic back at first: its undo step is held for
  // the operator, whose retry puts it through
  'host-deploy-undo-held': async (env) => {
    const acts = fleetActs('192.0.2.1');
    const restore = acts.restoreTraffic!;
    let down = true;
    acts.restoreTraffic = async (...a) => {
      if (down && (a[0] as { server: { host: string } }).server.host === '192.0.2.2')
        throw ApplicationFailure.create({ message: 'injected: 192.0.2.2 unreachable', type: 'SshConnectionError', nonRetryable: true });
      return restore(...a);
    };
    const child = 'host-deploy-undo-held-parent@192.0.2.2';
    await run(
      env,
      'fleetDeployWorkflow',
      [{ target: { ...FLEET, fleet: { ...FLEET.fleet, boot: { limit: { count: 2 }, waitMs: 0 } } }, version: VERSION, ref: 'HEAD', startedBy: 'golden' }],
      acts,
      async () => {
        // held on the parent too, and a moment for the hold's timer to start
        await waitForStatus(env.client.workflow.getHandle('host-deploy-undo-held-parent'), (s) => s.hosts?.[1]?.state === 'held');
        await new Promise((r) => setTimeout(r, 1000));
        down = false;
        await env.client.workflow.getHandle(child).signal('retry', { by: 'ops@laptop' });
      },
      'host-deploy-undo-held-parent',
    );
    return child;
  },
  // the second host's child of such a deploy, whose undo step fails for good: recorded before
  // a failed undo step held (it replays that path: runs started before hold for it, patched)
  'host-deploy-undo-failed': async (env) => {
    const acts = fleetActs('192.0.2.1');
    const restore = acts.restoreTraffic!;
    acts.restoreTraffic = async (...a) => {
      if ((a[0] as { server: { host: string } }).server.host === '192.0.2.2')
        throw ApplicationFailure.create({ message: 'injected: 192.0.2.2 unreachable', type: 'SshConnectionError', nonRetryable: true });
      return restore(...a);
    };
    await run(
      env,
      'fleetDeployWorkflow',
      // the current code holds the undo step: 1 s, then it gives up as the recorded run did at once
      [
        {
          target: { ...FLEET, holdTimeoutMs: 1000, fleet: { ...FLEET.fleet, boot: { limit: { count: 2 }, waitMs: 0 } } },
          version: VERSION,
          ref: 'HEAD',
          startedBy: 'golden',
        },
      ],
      acts,
      undefined,
      'host-deploy-undo-failed-parent',
    );
    return 'host-deploy-undo-failed-parent@192.0.2.2';
  },
  // fleet-deploy's run since the hosts prepare beside the build (patch fleet-prepare-beside-build):
  // each child starts after the preflight and makes its slot jail while the release builds
  'fleet-deploy-prepare-beside-build': (env) =>
    run(
      env,
      'fleetDeployWorkflow',
      [{ target: FLEET, version: VERSION, ref: 'HEAD', startedBy: 'golden' }],
      fleetActs(),
      undefined,
      'fleet-deploy-prepare-beside-build.json',
    ),
  // the second host's child of such a deploy: its slot jail, then the wait for its copy, then the rest
  'host-deploy-await-release': async (env) => {
    await run(
      env,
      'fleetDeployWorkflow',
      [{ target: FLEET, version: VERSION, ref: 'HEAD', startedBy: 'golden' }],
      fleetActs(),
      undefined,
      'host-deploy-await-release-parent',
    );
    return 'host-deploy-await-release-parent@192.0.2.2';
  },
  // since releases are pruned (patch prune-releases-after-deploy): the prune after the deploy is recorded
  'deploy-pruned': async (env) => (await deploy(env, fakes({}, 'blue').acts)).workflowId,
  // `rollback --to` a kept release: its check instead of the upload and the build
  'deploy-kept-release': async (env) => (await deploy(env, fakes({}, 'blue').acts, { input: { keptRelease: true, ref: 'v1.0' } })).workflowId,
  // gates before the switch (patch deploy-gates): the wait for approval ended by `approve` with a
  // note, then the wait for the cut-over time ended by its timer
  'deploy-approved': async (env) =>
    (
      await deploy(env, fakes({}, 'blue').acts, {
        input: { gates: { approval: { timeoutMs: 60_000 }, cutover: { at: Date.now() + 2000, label: '2026-12-01 02:00 Europe/Madrid' } } },
        during: async (id) => {
          await waitForStatus(env.client.workflow.getHandle(id), (s) => s.gate?.step === 'awaitApproval');
          await env.client.workflow.getHandle(id).signal('approve', { by: 'ops@laptop', note: 'checked on green' });
        },
      })
    ).workflowId,
  // the second host's child of a fleet deploy since releases are pruned
  'host-deploy-pruned': async (env) => {
    await run(
      env,
      'fleetDeployWorkflow',
      [{ target: FLEET, version: VERSION, ref: 'HEAD', startedBy: 'golden' }],
      fleetActs(),
      undefined,
      'host-deploy-pruned-parent',
    );
    return 'host-deploy-pruned-parent@192.0.2.2';
  },
  // two hosts back on the release their blue slots keep, one after the other
  'fleet-rollback': (env) => run(env, 'fleetRollbackWorkflow', [{ target: FLEET, startedBy: 'golden' }], fleetActs(), undefined, 'fleet-rollback.json'),
  // the second host's child of such a rollback
  'host-rollback': async (env) => {
    await run(env, 'fleetRollbackWorkflow', [{ target: FLEET, startedBy: 'golden' }], fleetActs(), undefined, 'host-rollback-parent');
    return 'host-rollback-parent@192.0.2.2';
  },
  // two hosts checked, then each removal in its own child
  'fleet-remove': (env) =>
    run(
      env,
      'fleetRemoveWorkflow',
      [{ target: FLEET, startedBy: 'golden' }],
      { ...plainFakes(REMOVE_STEPS.map((s) => s.name)), preflightHost: fleetActs().preflightHost! },
      undefined,
      'fleet-remove.json',
    ),
  doctor: (env) =>
    run(env, 'doctorWorkflow', [], { workerInfo: async () => ({ hostname: 'golden', pid: 1, alcaideVersion: '0.1.0', nodeVersion: 'v20.0.0' }) }),
};

/** A fleet deploy's activities; `failVerifyOn`: the host whose check through Caddy fails (after the others switched). */
function fleetActs(failVerifyOn?: string): Acts {
  const tables = [FLEET_DEPLOY_STEPS, HOST_DEPLOY_STEPS, FLEET_ROLLBACK_STEPS, HOST_ROLLBACK_STEPS];
  const acts = plainFakes([...new Set(tables.flatMap((table) => activitiesOf(table)))], {
    answers: { chooseSlot: { next: 'green', active: 'blue' }, chooseRollback: { to: 'blue', from: 'green', version: VERSION } },
  });
  acts.preflightHost = async (t) => ({
    host: (t as { server: { host: string } }).server.host,
    release: '14.3-RELEASE',
    major: 14,
    arch: 'amd64',
    problems: [],
  });
  const verify = acts.verifyThroughCaddy!;
  acts.verifyThroughCaddy = async (t, ...rest) => {
    // the failing host switches last, so the other has switched when it fails
    if ((t as { server: { host: string } }).server.host === failVerifyOn) {
      await new Promise((r) => setTimeout(r, 300));
      throw ApplicationFailure.create({ message: 'injected failure in verifyThroughCaddy', type: 'VerifyFailed', nonRetryable: true });
    }
    return verify(t, ...rest);
  };
  return acts;
}

/** Every activity each workflow type may schedule, step or undo: the goldens must schedule them all. */
const EVERY_ACTIVITY = [
  ...STEP_ACTIVITIES,
  ...OWN_TESTS.map((step) => ACTIVITY_OF[step]!),
  ...UNDO,
  'bakeCheck',
  'canaryFigures',
  ...ROLLBACK_STEPS.filter((s) => s.name !== 'drainOldSlot').map((s) => (s.name === 'stopOldSlot' ? 'stopSlot' : s.name)),
  ...REBUILD_STEPS.map((s) => s.name),
  'destroyNextBuildJail',
  'restoreOldBuildJail',
  ...REMOVE_STEPS.map((s) => s.name),
  ...SETUP_STEPS.map((s) => s.name),
  'workerInfo',
  'checkRunning',
  'runHook',
];

const DEPLOY_HOOKS = ['pre-connect', 'pre-build', 'pre-deploy', 'pre-switch', 'post-switch', 'post-deploy'] as const;

let env: Env | undefined;
before(async () => {
  if (RECORD) env = await startTestEnv();
});
after(async () => env?.teardown());

// protobufjs' own object form (longs and enums as strings, bytes as base64) round-trips exactly
const { History } = temporal.api.history.v1;
const toJson = (h: object) => `${JSON.stringify(History.toObject(History.fromObject(h), { longs: String, enums: String, bytes: String }), null, 1)}\n`;
const replayOptions = { workflowBundle: { codePath: WORKFLOW_BUNDLE }, dataConverter: dataConverterFor(TEST_CODEC_KEY) };
const replay = (name: string, json: string) => Worker.runReplayHistory(replayOptions, History.fromObject(JSON.parse(json)), name);

const goldens = () =>
  readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .sort();
const read = (f: string) => readFileSync(path.join(DIR, f), 'utf8');
const activityTypes = (json: string) => [...json.matchAll(/"activityType":\s*\{\s*"name":\s*"(\w+)"/g)].map((m) => m[1]!);

// defined only when recording, so an ordinary run has no skipped test
if (RECORD)
  test('record the golden histories that have no file yet (RECORD_HISTORIES=1)', async () => {
    for (const [name, make] of Object.entries(RECORDINGS)) {
      const file = path.join(DIR, `${name}.json`);
      if (existsSync(file)) continue;
      const workflowId = await make(env!);
      writeFileSync(file, toJson(await env!.client.workflow.getHandle(workflowId).fetchHistory()));
    }
  });

test('every golden history replays through the current workflow code', async () => {
  assert.deepEqual(
    goldens(),
    Object.keys(RECORDINGS)
      .map((n) => `${n}.json`)
      .sort(),
  );
  const histories = goldens().map((f) => ({ workflowId: f, history: History.fromObject(JSON.parse(read(f))) }));
  const failed: string[] = [];
  for await (const r of Worker.runReplayHistories(replayOptions, histories)) if (r.error) failed.push(`${r.workflowId}: ${r.error.message}`);
  assert.deepEqual(failed, []);
});

/**
 * A deploy started by a newer CLI (its input asks for a canary, gates, hooks) but recorded by a
 * worker without them (an upgrade half-way) replays as it ran: each feature waits on its patch.
 */
test('a deploy recorded without canaries, gates and hooks replays with an input that asks for them', async () => {
  const codec = payloadCodecFor(TEST_CODEC_KEY);
  const withInput = async (extra: object) => {
    const history = History.fromObject(JSON.parse(read('deploy-to-green.json')));
    const started = history.events![0]!.workflowExecutionStartedEventAttributes!;
    const [payload] = await codec.decode(started.input!.payloads as never);
    const input = defaultPayloadConverter.fromPayload<object>(payload!);
    started.input!.payloads = await codec.encode([defaultPayloadConverter.toPayload({ ...input, ...extra })]);
    return Worker.runReplayHistory(replayOptions, history, `upgraded-${Object.keys(extra).join('-')}`);
  };
  await withInput({ canary: { steps: [10], intervalMs: 60_000, checkIntervalMs: 1000, maxErrorPoints: 5, minRequests: 20 } });
  await withInput({ gates: { approval: { timeoutMs: 60_000 } } });
  await withInput({ hooks: { hooks: [{ hook: 'pre-switch', local: true, timeoutMs: 60_000 }] } });
});

test('the goldens are every workflow type the worker registers', async () => {
  const types = new Set(goldens().map((f) => /"workflowType":\s*\{\s*"name":\s*"(\w+)"/.exec(read(f))?.[1]));
  const registered = Object.entries(await import('../../workflows'))
    .filter(([, v]) => typeof v === 'function')
    .map(([k]) => k);
  assert.deepEqual(
    registered.filter((w) => !types.has(w)),
    [],
  );
});

test('together the goldens schedule every step and every undo', () => {
  const scheduled = new Set(goldens().flatMap((f) => activityTypes(read(f))));
  assert.deepEqual(
    EVERY_ACTIVITY.filter((a) => !scheduled.has(a)),
    [],
  );
});

test('each golden fails its replay when the code would schedule its steps in another order (the check is real)', async () => {
  for (const f of goldens()) {
    const json = read(f);
    // its first two different steps swapped, as a reordering would leave it; a single step (or
    // the child workflow of a run without steps) renamed
    const steps = [...new Set(activityTypes(json))];
    const [a, b = 'notAStep'] = steps.length
      ? steps
      : [/"startChildWorkflowExecutionInitiatedEventAttributes":[^}]*"workflowType":\s*\{\s*"name":\s*"(\w+)"/.exec(json)![1]!];
    const swapped = json.replaceAll(`"${a}"`, '"@tmp"').replaceAll(`"${b}"`, `"${a}"`).replaceAll('"@tmp"', `"${b}"`);
    await assert.rejects(replay(f, swapped), (e: Error) => /nondetermin/i.test(`${e.name} ${e.message}`), f);
  }
});
