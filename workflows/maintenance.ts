// MaintenanceWorkflow: the app's site answers 503 with a page (or serves the app again), under
// the app's lock: never beside a deploy, a rollback or a removal. Forward only: turning it on
// or off again finishes what a failed run left.
import type { MaintenanceRequest } from '../src/freebsd/maintenance';
import type { AppTarget } from '../src/model/target';
import { MAINTENANCE_STEPS } from './maintenanceSteps';
import { runSaga } from './saga';
import type { WorkflowStatus } from './status';

export { MAINTENANCE_STEPS };

export interface MaintenanceInput {
  target: AppTarget;
  request: MaintenanceRequest;
  startedBy: string;
}

export async function maintenanceWorkflow({ target: t, request, startedBy }: MaintenanceInput): Promise<WorkflowStatus> {
  const hosts = t.fleet ? t.fleet.hosts.map((h) => h.host).join(', ') : t.server.host;
  return runSaga(
    {
      table: MAINTENANCE_STEPS,
      status: { kind: 'maintenance', app: t.app, destination: t.destination, host: hosts, maintenance: request.on ? 'on' : 'off' },
      what: () => `maintenance ${request.on ? 'on' : 'off'} for ${t.app} (started by ${startedBy})`,
      forwardOnly: `Run \`alcaide maintenance ${request.on ? 'on' : 'off'}\` again to finish it.`,
    },
    async (saga) => {
      await saga.run('setMaintenance', t, request);
    },
  );
}
