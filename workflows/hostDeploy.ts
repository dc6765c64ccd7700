// HostDeployWorkflow: one host's part of a fleet deploy, a child of FleetDeployWorkflow. It
// prepares the next slot beside the live one: the slot jail while the parent builds the release,
// the rest (install, environment, start, health) once the parent orders that the release is on
// this host. It reports "prepared" and waits for the parent's order to switch; switches (web
// hosts, through their own Caddy), reports "switched" and waits for the order to finish: drain
// and stop the old slot, record the deploy. An order to undo at any wait (another host failed,
// the build or a copy failed, the deploy was stopped) runs this host's undo steps: traffic back
// to the old slot, the new slot removed. The build is the parent's, copied here.
import { shortVersion, type AppTarget } from '../src/model/target';
import { hostDeploySteps, HOST_DEPLOY_STEPS } from './fleetSteps';
import { pruneAfterDeploy } from './releases';
import { runSaga, type Saga } from './saga';
import { checkReady, linkToParent, switchThenFinish } from './hostLink';
import type { WorkflowStatus } from './status';

export interface HostDeployInput {
  /** the app on this host */
  target: AppTarget;
  version: string;
  /** migrations run here: the fleet's primary host */
  migrate: boolean;
  /** the host migrations run on, for the others' status */
  primaryHost: string;
  /** behind Caddy (the web role): switched through its Caddy; other roles only start and stop */
  web: boolean;
  /**
   * The parent orders the install once the release is on this host (its slot jail is made
   * meanwhile). Absent in children started by a parent that copied the release first: it is
   * there already. A wait on a signal issues no command, so this input, not a patch, picks the
   * path: an older parent replayed after an upgrade starts its children without it.
   */
  awaitRelease?: boolean;
}

export async function hostDeployWorkflow(input: HostDeployInput): Promise<WorkflowStatus> {
  const { target: t, version, web } = input;
  const parent = linkToParent(t.server.host);
  return runSaga(
    {
      table: HOST_DEPLOY_STEPS,
      order: hostDeploySteps(t.release.migrateBeforeStart),
      status: { kind: 'host-deploy', app: t.app, destination: t.destination, host: t.server.host, version },
      what: () => `deploy of ${t.app} ${shortVersion(version)}`,
      noun: 'deploy',
      holdUndo: parent.holdUndo(t),
    },
    (saga) => parent.reportingFailure(steps(saga)),
  );

  async function steps(saga: Saga<typeof HOST_DEPLOY_STEPS>): Promise<void> {
    const status = saga.tracker.status;
    const { next, active: prev } = await saga.run('chooseSlot', t);
    Object.assign(status, { slot: next, previousSlot: prev });
    let tookTraffic = false;
    saga.willUndo('createSlotJail', () => [t, next, tookTraffic]);
    await saga.run('createSlotJail', t, next, version);
    if (input.awaitRelease) await saga.own('awaitRelease', () => parent.ordered('install'));
    else saga.skip('awaitRelease', 'the release was on this host before it began');
    await saga.run('installRelease', t, next, version);
    await saga.run('writeAppEnv', t, next, version);
    const migrate = () =>
      !input.migrate
        ? saga.skip('runMigrations', `once for the fleet, on ${input.primaryHost}`)
        : t.release.migrate === false
          ? saga.skip('runMigrations', 'release.migrate is false')
          : saga.run('runMigrations', t, next);
    if (t.release.migrateBeforeStart) await migrate();
    await saga.run('startApp', t, next);
    if (!t.release.migrateBeforeStart) await migrate();
    await checkReady(saga, t, next, web, 'host-deploy-check-running');
    await parent.report({ phase: 'prepared', slot: next, previousSlot: prev });

    await switchThenFinish(saga, parent, {
      t,
      to: next,
      from: prev,
      version,
      web,
      noOld: 'first deploy: no old slot',
      // a first deploy's undo closes the new slot to traffic
      undoWithoutFrom: true,
      onSwitch: () => (tookTraffic = true),
    });
    await pruneAfterDeploy(saga, t, version);
  }
}
