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
import { stateDir } from './deploy';
import { converge, layoutOf } from './jails';
import { Remote } from './remote';
import type { StepResult } from './setup';

const result = (changes: string[], unchanged: string): StepResult => ({ changed: changes.length > 0, note: changes.join('; ') || unchanged });

export async function removeAppSite(t: AppTarget): Promise<StepResult> {
  const r = Remote.for(t);
  await checkClaims(r, t, { record: false });
  // the slots' names in /etc/hosts go with the site that used them
  return result(await converge(r, 'remove the site', [removeSite(t.app, stateDir(t.app)), removeHostsBlock(t.app)]), 'no site');
}

export async function removeAppJails(t: AppTarget): Promise<StepResult> {
  const l = layoutOf(t);
  const roles: JailRole[] = ['blue', 'green', 'build', 'build_next'];
  const parts = roles.map((role) => {
    const name = l.jailName(role);
    const path = l.jailPath(role);
    const stopService = role === 'blue' || role === 'green' ? stopAppIfInstalled(t.app, name, path) : 'true';
    return removeJail({ name, path, conf: l.jailConf(role), stopService });
  });
  return result(await converge(Remote.for(t), 'remove the jails', parts, { timeoutMs: 15 * 60_000 }), 'no jails');
}

export async function removeDatabaseJail(t: AppTarget): Promise<StepResult> {
  const l = layoutOf(t);
  const name = l.jailName('db');
  const changes = await converge(Remote.for(t), 'remove the database jail', [removeJail({ name, path: l.jailPath('db'), conf: l.jailConf('db'), stopService: serviceStopAny('postgresql', name) })], { timeoutMs: 15 * 60_000 });
  const kept = t.postgresql ? `; the data stays in ${t.postgresql.volumeHost}` : '';
  return result(changes.map((c) => `${c}${kept}`), 'no database jail');
}

export async function releaseHostClaim(t: AppTarget): Promise<StepResult> {
  return result(await converge(Remote.for(t), 'release the claim', [releaseClaim(claimFile(claimOf(t)))]), 'no claim');
}
