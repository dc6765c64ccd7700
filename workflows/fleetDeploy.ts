// FleetDeployWorkflow: a deploy of an app on several hosts, and a fleet that always ends on one
// version. Every host is checked first; the release is built once, on the build host, and
// copied to the others; meanwhile each host prepares its next slot in its own child workflow
// (hostDeploy.ts): its slot jail while the release builds, the install once the release is on
// that host; migrations run once, on the primary host; the web hosts switch in batches
// (boot.limit, boot.wait), each verified through its own Caddy, then the other roles; only when
// every host has switched do the old slots drain and stop. A failure anywhere before that — or
// an abort or a rollback — takes every host back: switched hosts to their kept slot, prepared
// hosts remove their new one. The parent's id is the app's lock, as for a one-host deploy.
import { CancellationScope, isCancellation, patched } from '@temporalio/workflow';
import { fleetOf, onHost, primaryHost, WEB_ROLE, type FleetHost } from '../src/model/fleet';
import type { GatePlan } from '../src/model/gates';
import type { HookPlan } from '../src/model/hooks';
import { shortVersion, type AppTarget } from '../src/model/target';
import { preflightHosts } from './fleetPreflight';
import { FLEET_DEPLOY_STEPS, UNDO_HOSTS } from './fleetSteps';
import { FLEET_GATES_AFTER } from './gateSteps';
import { Gates } from './gates';
import { FLEET_DEPLOY_HOOKS } from './hookSteps';
import { Hooks } from './hooks';
import { HostFleet } from './hostFleet';
import { hostDeployWorkflow } from './hostDeploy';
import { allSettled, runSaga, type Saga } from './saga';
import { abortSignal, rollbackSignal } from './signals';
import type { WorkflowStatus } from './status';
import { rootMessage } from './tracker';

/** The hosts' children start right after the preflight, beside the build (before it: after the copy). */
const PREPARE_BESIDE_BUILD = 'fleet-prepare-beside-build';

export interface FleetDeployInput {
  /** the app, with its fleet (target.fleet) */
  target: AppTarget;
  /** full commit sha */
  version: string;
  ref: string;
  startedBy: string;
  /** the hooks to run, once for the fleet (docs/hooks.md); absent: none */
  hooks?: HookPlan;
  /** wait for an approval and/or a cut-over time before the first switch order (docs/approvals.md); absent: none */
  gates?: GatePlan;
}

export async function fleetDeployWorkflow(input: FleetDeployInput): Promise<WorkflowStatus> {
  const { target: t, version } = input;
  const fleet = fleetOf(t);
  const primary = primaryHost(fleet);
  const buildHost = fleet.hosts.find((h) => h.host === fleet.buildHost)!;
  const others = fleet.hosts.filter((h) => h !== buildHost);
  const bt = onHost(t, buildHost);
  const hosts = new HostFleet(fleet);
  const prepareAtOnce = fleet.boot.prepareAtOnce ?? fleet.hosts.length;
  const hooks = new Hooks(input.hooks, t, { command: 'deploy', performer: input.startedBy, hosts: fleet.hosts.map((h) => h.host) });
  const gates = new Gates(input.gates);
  const start = (h: FleetHost, awaitRelease?: true) =>
    hosts.start(h, hostDeployWorkflow, [
      {
        target: onHost(t, h),
        version,
        migrate: h === primary,
        primaryHost: primary.host,
        web: h.roles.includes(WEB_ROLE),
        ...(awaitRelease && { awaitRelease }),
      },
    ]);

  return runSaga(
    {
      table: FLEET_DEPLOY_STEPS,
      order: hooks.order(gates.order(FLEET_DEPLOY_STEPS, FLEET_GATES_AFTER), FLEET_DEPLOY_HOOKS),
      status: { kind: 'fleet-deploy', app: t.app, destination: t.destination, host: fleet.hosts.map((h) => h.host).join(', '), version, hosts: hosts.hosts },
      what: () => `deploy of ${t.app} ${shortVersion(version)}`,
      noun: 'deploy',
      stops: [
        { signal: abortSignal, verb: 'aborted', description: 'Stop the deploy; every host goes back to its previous slot. Input optional: {"by": "..."}' },
        { signal: rollbackSignal, verb: 'rolled back', description: 'Put every host back on its previous slot now. Input optional: {"by": "..."}' },
      ],
    },
    async (saga) => {
      await hooks.run(saga, 'pre-connect', { version });
      await saga.own('preflight', () => preflightHosts(saga.act('preflight'), fleet.hosts, t, { setUp: true }));
      await hooks.run(saga, 'pre-build', { version });
      await hooks.run(saga, 'pre-deploy', { version });
      if (patched(PREPARE_BESIDE_BUILD)) await prepareBesideBuild(saga);
      else await prepareAfterCopy(saga);
      // every host prepared, none switched: the gates hold the first switch order
      await gates.run(saga);
      await hooks.run(saga, 'pre-switch', { version });
      await saga.own('switchHosts', () => hosts.switchAll());
      // every host serves the new version: nothing goes back from here
      saga.commit();
      await hooks.run(saga, 'post-switch', { version });
      await saga.own('finishHosts', () => hosts.finishAll(shortVersion(version)));
      await hooks.run(saga, 'post-deploy', { version });
    },
  );

  type FleetSaga = Saga<typeof FLEET_DEPLOY_STEPS>;

  function willUndoHosts(saga: FleetSaga) {
    saga.willUndoOwn(
      UNDO_HOSTS,
      () => 'every host back to its previous slot',
      () => hosts.undoAll('the deploy was stopped'),
    );
  }

  /** The release copied from the build host to every other host, side by side; `copied` as each copy ends. */
  function copyRelease(saga: FleetSaga, copied: (h: FleetHost) => void = () => undefined) {
    return saga.own('copyRelease', async () => {
      const copy = saga.act('copyRelease');
      await allSettled(others.map((h) => copy(bt, onHost(t, h), version).then(() => copied(h))));
      return { changed: others.length > 0, note: `${shortVersion(version)} from ${buildHost.host} to ${others.map((h) => h.host).join(', ')}` };
    });
  }

  /**
   * Every host's child starts at once (boot.prepare at a time) and makes its slot jail while the
   * release builds; each installs when the parent orders that the release is on its host — the
   * build host after the build, each other host after its own copy. The first failure anywhere
   * takes the whole fleet back: a host's stops the build or the copies (cancelled), the build's
   * or a copy's ends the hosts' waits; both end before the hosts are ordered back.
   */
  async function prepareBesideBuild(saga: FleetSaga) {
    willUndoHosts(saga);
    const building = new CancellationScope();
    const released = building
      .run(async () => {
        await saga.run('ensureBuildJail', bt);
        await saga.run('uploadSource', bt, version);
        await saga.run('buildRelease', bt, version);
        hosts.arrived(buildHost);
        await copyRelease(saga, (h) => hosts.arrived(h));
      })
      .catch((e: unknown) => {
        if (!isCancellation(e)) hosts.abandon(`${saga.tracker.failedStep()?.title ?? 'the build'} failed: ${rootMessage(e)}`);
        throw e;
      });
    const prepared = saga
      .own('prepareHosts', async () => {
        const mbs = t.release.migrateBeforeStart === true;
        // with migrate_before_start the primary starts first and the others install (so start
        // the new version) only once it has migrated and proved healthy
        const order = mbs ? [primary, ...fleet.hosts.filter((h) => h !== primary)] : fleet.hosts;
        const primaryPrepared = () => !mbs || hosts.hasReached(primary, 'prepared');
        await allSettled([
          (async () => {
            // boot.prepare hosts at a time, from their slot jail to their health check
            for (const h of order) {
              await hosts.room(prepareAtOnce);
              await start(h, true);
            }
          })(),
          ...fleet.hosts.map((h) => hosts.orderInstall(h, h === primary ? undefined : primaryPrepared)),
        ]);
        await hosts.until(fleet.hosts, 'prepared');
        return { changed: true, note: `${fleet.hosts.length} hosts; migrations on ${primary.host}` };
      })
      .catch((e: unknown) => {
        building.cancel();
        throw e;
      });
    await allSettled([released, prepared]);
  }

  /** Runs started before PREPARE_BESIDE_BUILD: build, copy, then every host prepares. */
  async function prepareAfterCopy(saga: FleetSaga) {
    await saga.run('ensureBuildJail', bt);
    await saga.run('uploadSource', bt, version);
    await saga.run('buildRelease', bt, version);
    await copyRelease(saga);
    willUndoHosts(saga);
    await saga.own('prepareHosts', async () => {
      // an app that migrates before it starts: the other hosts start the new version only
      // once the primary has migrated
      if (t.release.migrateBeforeStart) {
        await start(primary);
        await hosts.until([primary], 'prepared');
      }
      // boot.prepare hosts at a time (each a slot jail, an install, a start, a health check)
      for (const h of fleet.hosts) {
        if (hosts.started(h)) continue;
        await hosts.room(prepareAtOnce);
        await start(h);
      }
      await hosts.until(fleet.hosts, 'prepared');
      return { changed: true, note: `${fleet.hosts.length} hosts; migrations on ${primary.host}` };
    });
  }
}
