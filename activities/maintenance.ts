// `alcaide maintenance on|off`: the maintenance page on every web host of the app (one step; a
// rerun writes the same files). The page travels on stdin.
import { webHostsOf } from '../src/model/fleet';
import type { AppTarget } from '../src/model/target';
import { maintenanceOff, maintenanceOn, SITE_WITHOUT_MAINTENANCE, type MaintenanceRequest } from '../src/freebsd/maintenance';
import { stepResult, type StepResult } from '../src/model/step';
import { checkClaims } from './claims';
import type { ActivityDeps } from './deps';
import { precondition } from './remote';
import { failure } from '../src/failures';

const setMaintenance =
  (d: ActivityDeps) =>
  async (t: AppTarget, req: MaintenanceRequest): Promise<StepResult> => {
    const changes = await Promise.all(
      webHostsOf(t).map(async (ht) => {
        const r = d.remote(ht);
        await checkClaims(r, ht, { record: false });
        if (!req.on) {
          await r.run(maintenanceOff(ht.app), 'turn maintenance off');
          return `${ht.server.host}: off`;
        }
        const res = await r.check(maintenanceOn(ht.app, req.info!), 'turn maintenance on', { stdin: req.page! });
        if (res.code === SITE_WITHOUT_MAINTENANCE)
          throw precondition(
            `the Caddy site of ${ht.app} on ${ht.server.host} was written before maintenance mode: run \`alcaide setup\` once (it rewrites the site; Caddy reloads)`,
          );
        if (res.code !== 0)
          throw failure('RemoteCommandError', `turning maintenance on on ${ht.server.host} failed (exit ${res.code}): ${res.stderr.trim().slice(-300)}`);
        return `${ht.server.host}: on`;
      }),
    );
    return stepResult(changes, 'no web host');
  };

export function createMaintenanceActivities(d: ActivityDeps) {
  return { setMaintenance: setMaintenance(d) };
}
