// HostRollbackWorkflow: one host's part of a fleet rollback, a child of FleetRollbackWorkflow
// (the same protocol as a fleet deploy's hosts: workflows/hostLink.ts). It starts the kept
// previous slot and checks it, waits for the order to switch, switches back through its Caddy,
// waits for the order to finish, then drains and stops the slot it rolled back from. An order to
// undo puts traffic back on that slot and stops the previous one again.
import type { Slot } from '../src/freebsd/layout';
import { shortVersion, type AppTarget } from '../src/model/target';
import { HOST_ROLLBACK_STEPS } from './fleetSteps';
import { checkReady, linkToParent, switchThenFinish } from './hostLink';
import { runSaga, type Saga } from './saga';
import type { WorkflowStatus } from './status';

export interface HostRollbackInput {
  target: AppTarget;
  /** the kept slot, its release and the slot live now (the parent found them on every host) */
  to: Slot;
  from?: Slot;
  version: string;
  web: boolean;
}

export async function hostRollbackWorkflow(input: HostRollbackInput): Promise<WorkflowStatus> {
  const { target: t, to, from, version, web } = input;
  const parent = linkToParent(t.server.host);
  return runSaga(
    {
      table: HOST_ROLLBACK_STEPS,
      status: { kind: 'host-rollback', app: t.app, destination: t.destination, host: t.server.host, version, slot: to, previousSlot: from },
      what: () => `rollback of ${t.app} to ${shortVersion(version)}`,
      noun: 'rollback',
      holdUndo: parent.holdUndo(t),
    },
    (saga) => parent.reportingFailure(steps(saga)),
  );

  async function steps(saga: Saga<typeof HOST_ROLLBACK_STEPS>): Promise<void> {
    saga.willUndo('startSlot', () => [t, to]);
    await saga.run('startSlot', t, to);
    await checkReady(saga, t, to, web, 'host-rollback-check-running');
    await parent.report({ phase: 'prepared', slot: to, previousSlot: from });

    await switchThenFinish(saga, parent, { t, to, from, version, web, noOld: 'nothing was live', undoWithoutFrom: false });
  }
}
