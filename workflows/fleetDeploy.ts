// FleetDeployWorkflow: a deploy of an app on several hosts, and a fleet that always ends on one
// version. Every host is checked first; the release is built once, on the build host, and
// copied to the others; each host then prepares its next slot in its own child workflow
// (hostDeploy.ts); migrations run once, on the primary host; the web hosts switch in batches
// (boot.limit, boot.wait), each verified through its own Caddy, then the other roles; only when
// every host has switched do the old slots drain and stop. A failure anywhere before that — or
// an abort or a rollback — takes every host back: switched hosts to their kept slot, prepared
// hosts remove their new one. The parent's id is the app's lock, as for a one-host deploy.
import { CancellationScope, condition, ParentClosePolicy, setHandler, startChild, workflowInfo, type ChildWorkflowHandle } from '@temporalio/workflow';
import { failure } from '../src/failures';
import { batches, batchSize, fleetOf, hostsInRole, hostWorkflowId, onHost, primaryHost, WEB_ROLE, type FleetHost } from '../src/model/fleet';
import { shortVersion, type AppTarget } from '../src/model/target';
import { preflightHosts } from './fleetPreflight';
import { FLEET_DEPLOY_STEPS, UNDO_HOSTS } from './fleetSteps';
import { hostDeployWorkflow } from './hostDeploy';
import { allSettled, runSaga, UNDO_FAILED_NOTE } from './saga';
import { abortSignal, hostReportSignal, proceedSignal, rollbackSignal, type HostOrder } from './signals';
import type { FleetHostStatus, WorkflowStatus } from './status';
import { rootMessage } from './tracker';

export interface FleetDeployInput {
  /** the app, with its fleet (target.fleet) */
  target: AppTarget;
  /** full commit sha */
  version: string;
  ref: string;
  startedBy: string;
}

/** How far a host's child has come, in order. */
const PHASES: FleetHostStatus['state'][] = ['pending', 'running', 'prepared', 'switched', 'completed'];
/** What a host's failure message says when one of its undo steps failed (workflows/saga.ts). */
const UNDO_FAILED = new RegExp(UNDO_FAILED_NOTE);
const reached = (state: FleetHostStatus['state'], phase: FleetHostStatus['state']) => PHASES.indexOf(state) >= PHASES.indexOf(phase);

export async function fleetDeployWorkflow(input: FleetDeployInput): Promise<WorkflowStatus> {
  const { target: t, version } = input;
  const fleet = fleetOf(t);
  const primary = primaryHost(fleet);
  const buildHost = fleet.hosts.find((h) => h.host === fleet.buildHost)!;
  const hosts: FleetHostStatus[] = fleet.hosts.map((h) => ({
    host: h.host,
    roles: h.roles,
    workflowId: hostWorkflowId(workflowInfo().workflowId, h.host),
    state: 'pending',
  }));
  const entry = (h: FleetHost | string) => hosts.find((x) => x.host === (typeof h === 'string' ? h : h.host))!;
  const children = new Map<string, ChildWorkflowHandle<typeof hostDeployWorkflow>>();
  const ends: Array<Promise<void>> = [];
  /** the first host that failed, and why: the whole fleet goes back */
  let broken: string | undefined;
  let undoing = false;

  setHandler(hostReportSignal, (r) => {
    const e = entry(r.host);
    if (r.phase === 'failed') {
      if (e.state !== 'failed') Object.assign(e, { state: 'failed', error: r.error });
      broken ??= `${r.host}: ${r.error}`;
      return;
    }
    if (e && reached(r.phase, e.state) && PHASES.includes(e.state))
      Object.assign(e, { state: r.phase, slot: r.slot ?? e.slot, previousSlot: r.previousSlot ?? e.previousSlot });
  });

  /** Waits until every host of `of` has reached `phase`; a failed host ends the wait. */
  const until = async (of: FleetHost[], phase: FleetHostStatus['state']) => {
    await condition(() => broken !== undefined || of.every((h) => reached(entry(h).state, phase)));
    if (broken !== undefined) throw failure('StepFailed', broken);
  };
  const order = (of: FleetHost[], o: HostOrder) => Promise.all(of.map((h) => children.get(h.host)!.signal(proceedSignal, o)));

  const start = async (h: FleetHost) => {
    const e = entry(h);
    e.state = 'running';
    // outside the run's cancellation: a stopped deploy takes its hosts back by its own order
    // (undo) and waits for each to be back, never cancels one mid-step
    await CancellationScope.nonCancellable(async () => {
      const child = await startChild(hostDeployWorkflow, {
        workflowId: e.workflowId,
        args: [{ target: onHost(t, h), version, migrate: h === primary, primaryHost: primary.host, web: h.roles.includes(WEB_ROLE) }],
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        typedSearchAttributes: workflowInfo().typedSearchAttributes,
      });
      children.set(h.host, child);
      ends.push(
        child.result().then(
          (s) => void Object.assign(e, { state: 'completed', note: `live on ${s.slot}` }),
          (err: unknown) => {
            const why = rootMessage(err);
            if (undoing && e.state !== 'failed' && !UNDO_FAILED.test(why)) return void Object.assign(e, { state: 'undone', note: 'back on its previous slot' });
            Object.assign(e, { state: 'failed', error: why });
            broken ??= `${h.host}: ${why}`;
          },
        ),
      );
    });
  };

  /** Every host still in the deploy goes back (each child runs its own undo steps); waits for all. */
  const undoHosts = async () => {
    undoing = true;
    const why = broken ?? 'the deploy was stopped';
    await Promise.all([...children.values()].map((c) => c.signal(proceedSignal, { to: 'undo', why }).catch(() => undefined)));
    await Promise.allSettled(ends);
    const failedUndo = hosts.filter((h) => h.state === 'failed' && UNDO_FAILED.test(h.error ?? ''));
    if (failedUndo.length) throw failure('StepFailed', `not taken back: ${failedUndo.map((h) => h.host).join(', ')}`);
    return { changed: children.size > 0, note: hosts.map((h) => `${h.host}: ${h.state}`).join('; ') };
  };

  return runSaga(
    {
      table: FLEET_DEPLOY_STEPS,
      status: { kind: 'fleet-deploy', app: t.app, destination: t.destination, host: fleet.hosts.map((h) => h.host).join(', '), version, hosts },
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

      saga.willUndoOwn(UNDO_HOSTS, () => 'every host back to its previous slot', undoHosts);
      await saga.own('prepareHosts', async () => {
        // an app that migrates before it starts: the other hosts start the new version only
        // once the primary has migrated
        if (t.release.migrateBeforeStart) {
          await start(primary);
          await until([primary], 'prepared');
        }
        for (const h of fleet.hosts) if (!children.has(h.host)) await start(h);
        await until(fleet.hosts, 'prepared');
        return { changed: true, note: `${fleet.hosts.length} hosts; migrations on ${primary.host}` };
      });

      await saga.own('switchHosts', async () => {
        const web = hostsInRole(fleet, WEB_ROLE);
        const rounds = batches(web, fleet.boot.limit);
        for (const [i, batch] of rounds.entries()) {
          // boot.wait between batches, ended early by a failure
          if (i > 0 && fleet.boot.waitMs > 0) await condition(() => broken !== undefined, fleet.boot.waitMs);
          if (broken !== undefined) throw failure('StepFailed', broken);
          await order(batch, { to: 'switch' });
          await until(batch, 'switched');
        }
        const rest = fleet.hosts.filter((h) => !web.includes(h));
        await order(rest, { to: 'switch' });
        await until(rest, 'switched');
        return { changed: true, note: `${rounds.length} batch${rounds.length > 1 ? 'es' : ''} of ${batchSize(fleet.boot.limit, web.length)}` };
      });

      // every host serves the new version: nothing goes back from here
      saga.commit();
      await saga.own('finishHosts', async () => {
        await order(fleet.hosts, { to: 'finish' });
        await Promise.all(ends);
        if (broken !== undefined) throw failure('StepFailed', `every host serves ${shortVersion(version)}, but finishing failed on ${broken}`);
        return { changed: true, note: `${shortVersion(version)} live on every host` };
      });
    },
  );
}
