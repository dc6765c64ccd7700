// `alcaide remove`: the app taken off its host, one idempotent step each (a rerun finishes
// what a failed run left). The host's claims are checked first: `remove -d staging` on the
// production box would otherwise remove production's jails.
import type { AppTarget } from '../src/model/target';
import { claimFile, claimOf } from '../src/freebsd/claims';
import type { JailRole } from '../src/freebsd/layout';
import { stopAppIfInstalled } from '../src/freebsd/app';
import { releaseClaim, removeJail, removeSite } from '../src/freebsd/remove';
import { removeHostsBlock } from '../src/freebsd/hosts';
import { serviceStopAny } from '../src/freebsd/system';
import { checkClaims } from './claims';
import { converge, layoutOf } from './jails';
import type { ActivityDeps } from './deps';
import { stateDir } from '../src/freebsd/layout';
import { stepResult, type StepResult } from '../src/model/step';

const removeAppSite =
  (d: ActivityDeps) =>
  async (t: AppTarget): Promise<StepResult> => {
    const r = d.remote(t);
    await checkClaims(r, t, { record: false });
    // the slots' names in /etc/hosts go with the site that used them
    return stepResult(await converge(r, 'remove the site', [removeSite(t.app, stateDir(t.app)), removeHostsBlock(t.app)]), 'no site');
  };

const removeAppJails =
  (d: ActivityDeps) =>
  async (t: AppTarget): Promise<StepResult> => {
    const l = layoutOf(t);
    const roles: JailRole[] = ['blue', 'green', 'build', 'build_next'];
    const parts = roles.map((role) => {
      const name = l.jailName(role);
      const path = l.jailPath(role);
      const stopService = role === 'blue' || role === 'green' ? stopAppIfInstalled(t.app, name, path) : 'true';
      return removeJail({ name, path, conf: l.jailConf(role), stopService });
    });
    return stepResult(await converge(d.remote(t), 'remove the jails', parts, { timeoutMs: 15 * 60_000 }), 'no jails');
  };

const removeDatabaseJail =
  (d: ActivityDeps) =>
  async (t: AppTarget): Promise<StepResult> => {
    const l = layoutOf(t);
    const name = l.jailName('db');
    const changes = await converge(
      d.remote(t),
      'remove the database jail',
      [removeJail({ name, path: l.jailPath('db'), conf: l.jailConf('db'), stopService: serviceStopAny('postgresql', name) })],
      { timeoutMs: 15 * 60_000 },
    );
    const kept = t.postgresql ? `; the data stays in ${t.postgresql.volumeHost}` : '';
    return stepResult(
      changes.map((c) => `${c}${kept}`),
      'no database jail',
    );
  };

const releaseHostClaim =
  (d: ActivityDeps) =>
  async (t: AppTarget): Promise<StepResult> => {
    return stepResult(await converge(d.remote(t), 'release the claim', [releaseClaim(claimFile(claimOf(t)))]), 'no claim');
  };

export function createRemoveActivities(d: ActivityDeps) {
  return {
    removeAppSite: removeAppSite(d),
    removeAppJails: removeAppJails(d),
    removeDatabaseJail: removeDatabaseJail(d),
    releaseHostClaim: releaseHostClaim(d),
  };
}
