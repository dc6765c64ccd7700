// FleetDeployWorkflow: a deploy of an app on several hosts, and a fleet that always ends on one
// version. Every host is checked first; the release is built once, on the build host, and
// copied to the others; each host then prepares its next slot in its own child workflow
// (hostDeploy.ts); migrations run once, on the primary host; the web hosts switch in batches
// (boot.limit, boot.wait), each verified through its own Caddy, then the other roles; only when
// every host has switched do the old slots drain and stop. A failure anywhere before that — or
// an abort or a rollback — takes every host back: switched hosts to their kept slot, prepared
// hosts remove their new one. The parent's id is the app's lock, as for a one-host deploy.
import { fleetOf, onHost, primaryHost, WEB_ROLE, type FleetHost } from '../src/model/fleet';
import { shortVersion, type AppTarget } from '../src/model/target';
import { preflightHosts } from './fleetPreflight';
import { FLEET_DEPLOY_STEPS, UNDO_HOSTS } from './fleetSteps';
import { HostFleet } from './hostFleet';
import { hostDeployWorkflow } from './hostDeploy';
import { allSettled, runSaga } from './saga';
import { abortSignal, rollbackSignal } from './signals';
import type { WorkflowStatus } from './status';

export interface FleetDeployInput {
  /** the app, with its fleet (target.fleet) */
  target: AppTarget;
  /** full commit sha */
  version: string;
  ref: string;
  startedBy: string;
}

export async function fleetDeployWorkflow(input: FleetDeployInput): Promise<WorkflowStatus> {
  const { target: t, version } = input;
  const fleet = fleetOf(t);
  const primary = primaryHost(fleet);
  const buildHost = fleet.hosts.find((h) => h.host === fleet.buildHost)!;
  const hosts = new HostFleet(fleet);
  const start = (h: FleetHost) =>
    hosts.start(h, hostDeployWorkflow, [{ target: onHost(t, h), version, migrate: h === primary, primaryHost: primary.host, web: h.roles.includes(WEB_ROLE) }]);

  return runSaga(
    {
      table: FLEET_DEPLOY_STEPS,
      status: { kind: 'fleet-deploy', app: t.app, destination: t.destination, host: fleet.hosts.map((h) => h.host).join(', '), version, hosts: hosts.hosts },
      what: () => `deploy of ${t.app} ${shortVersion(version)}`,
      noun: 'deploy',
      stops: [
        { signal: abortSignal, verb: 'aborted', description: 'Stop the deploy; every host goes back to its previous slot. Input optional: {"by": "..."}' },
        { signal: rollbackSignal, verb: 'rolled back', description: 'Put every host back on its previous slot now. Input optional: {"by": "..."}' },
      ],
    },
    async (saga) => {
      await saga.own('preflight', () => preflightHosts(saga.act('preflight'), fleet.hosts, t, { setUp: true }));
      const bt = onHost(t, buildHost);
      await saga.run('ensureBuildJail', bt);
      await saga.run('uploadSource', bt, version);
      await saga.run('buildRelease', bt, version);
      const others = fleet.hosts.filter((h) => h !== buildHost);
      await saga.own('copyRelease', async () => {
        const copy = saga.act('copyRelease');
        await allSettled(others.map((h) => copy(bt, onHost(t, h), version)));
        return { changed: others.length > 0, note: `${shortVersion(version)} from ${buildHost.host} to ${others.map((h) => h.host).join(', ')}` };
      });

      saga.willUndoOwn(
        UNDO_HOSTS,
        () => 'every host back to its previous slot',
        () => hosts.undoAll('the deploy was stopped'),
      );
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
          await hosts.room(fleet.boot.prepareAtOnce ?? fleet.hosts.length);
          await start(h);
        }
        await hosts.until(fleet.hosts, 'prepared');
        return { changed: true, note: `${fleet.hosts.length} hosts; migrations on ${primary.host}` };
      });
      await saga.own('switchHosts', () => hosts.switchAll());
      // every host serves the new version: nothing goes back from here
      saga.commit();
      await saga.own('finishHosts', () => hosts.finishAll(shortVersion(version)));
    },
  );
}
