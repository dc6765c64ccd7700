// FleetRollbackWorkflow: `alcaide rollback` of a fleet whose deploy has finished: every host
// back to the previous release it keeps — the same release on every host, or nothing changes.
// Every host starts its kept slot and proves it healthy; the web hosts switch back in batches;
// only then do the rolled-back slots drain and stop. A failure before the last switch takes
// every host forward again to the release it served.
import { fleetOf, onHost, WEB_ROLE, type FleetHost } from '../src/model/fleet';
import type { HookPlan } from '../src/model/hooks';
import { shortVersion, type AppTarget } from '../src/model/target';
import { failure } from '../src/failures';
import { preflightHosts } from './fleetPreflight';
import { FLEET_ROLLBACK_STEPS, UNDO_HOSTS } from './fleetSteps';
import { FLEET_ROLLBACK_HOOKS } from './hookSteps';
import { Hooks } from './hooks';
import { HostFleet } from './hostFleet';
import { hostRollbackWorkflow } from './hostRollback';
import { runSaga } from './saga';
import { abortSignal } from './signals';
import type { WorkflowStatus } from './status';

export interface FleetRollbackInput {
  target: AppTarget;
  startedBy: string;
  /** the hooks to run, once for the fleet (docs/hooks.md); absent: none */
  hooks?: HookPlan;
}

export async function fleetRollbackWorkflow({ target: t, startedBy, hooks: plan }: FleetRollbackInput): Promise<WorkflowStatus> {
  const fleet = fleetOf(t);
  const hosts = new HostFleet(fleet);
  const hooks = new Hooks(plan, t, { command: 'rollback', performer: startedBy, hosts: fleet.hosts.map((h) => h.host) });
  return runSaga(
    {
      table: FLEET_ROLLBACK_STEPS,
      order: hooks.order(FLEET_ROLLBACK_STEPS, FLEET_ROLLBACK_HOOKS),
      status: { kind: 'fleet-rollback', app: t.app, destination: t.destination, host: fleet.hosts.map((h) => h.host).join(', '), hosts: hosts.hosts },
      what: () => `rollback of ${t.app} (started by ${startedBy})`,
      noun: 'rollback',
      stops: [
        { signal: abortSignal, verb: 'aborted', description: 'Stop the rollback; every host goes on serving what it served. Input optional: {"by": "..."}' },
      ],
    },
    async (saga) => {
      const status = saga.tracker.status;
      await hooks.run(saga, 'pre-connect');
      await saga.own('preflight', () => preflightHosts(saga.act('preflight'), fleet.hosts, t, { setUp: true }));
      const choices = await saga.own('findPrevious', async () => {
        const choose = saga.act('findPrevious');
        const found = await Promise.all(fleet.hosts.map((h) => choose(onHost(t, h))));
        const versions = [...new Set(found.map((c) => c.version))];
        if (versions.length > 1) {
          throw failure(
            'PreconditionFailed',
            `the hosts keep different previous releases (${fleet.hosts.map((h, i) => `${h.host}: ${shortVersion(found[i]!.version)}`).join(', ')}), so no one version is there to go back to; nothing was changed (deploy the version you want instead)`,
          );
        }
        status.version = versions[0];
        return { changed: false, choices: found, note: `${shortVersion(versions[0]!)} kept on every host` };
      });
      saga.willUndoOwn(
        UNDO_HOSTS,
        () => 'every host back to the release it served',
        () => hosts.undoAll('the rollback was stopped'),
      );
      await saga.own('prepareHosts', async () => {
        await Promise.all(
          fleet.hosts.map((h: FleetHost, i) => {
            const c = choices.choices[i]!;
            return hosts.start(h, hostRollbackWorkflow, [
              { target: onHost(t, h), to: c.to, from: c.from, version: c.version, web: h.roles.includes(WEB_ROLE) },
            ]);
          }),
        );
        await hosts.until(fleet.hosts, 'prepared');
        return { changed: true, note: `${fleet.hosts.length} hosts` };
      });
      await hooks.run(saga, 'pre-switch', { version: status.version });
      await saga.own('switchHosts', () => hosts.switchAll());
      saga.commit();
      await hooks.run(saga, 'post-switch', { version: status.version });
      await saga.own('finishHosts', () => hosts.finishAll(shortVersion(status.version!)));
      await hooks.run(saga, 'post-rollback', { version: status.version });
    },
  );
}
