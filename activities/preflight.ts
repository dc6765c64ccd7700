// A fleet's preflight: every host is reached and looked at before anything changes on any of
// them. Read-only: one host's answer, judged here; the workflow compares the hosts.
import type { AppTarget } from '../src/model/target';
import type { HostCheck } from '../src/model/fleet';
import { claimConflicts, claimFile, claimHint, claimOf, parseClaims, readClaims, renderClaim } from '../src/freebsd/claims';
import { hostFacts, hostFactsProblem, parseHostFacts } from '../src/freebsd/system';
import { templateReady } from '../src/freebsd/template';
import { layoutOf } from './jails';
import type { ActivityDeps } from './deps';

const preflightHost =
  (d: ActivityDeps) =>
  /** `setUp`: the host must already be set up for the app (a deploy), not merely able to be (setup). */
  async (t: AppTarget, o: { setUp: boolean }): Promise<HostCheck> => {
    const r = d.remote(t);
    const host = t.server.host;
    const out = (await r.run(hostFacts(), 'uname')).stdout;
    const problem = hostFactsProblem(host, out);
    if (problem) return { host, problems: [problem] };
    const f = parseHostFacts(out)!;
    const check: HostCheck = { host, release: f.release, major: f.major, arch: f.arch, problems: [] };
    const own = claimOf(t);
    const claims = parseClaims((await r.run(readClaims(), 'read the host claims')).stdout);
    const conflicts = claimConflicts(own, claims);
    if (conflicts.length) check.problems.push(`${conflicts.join('; ')} (${claimHint(conflicts)})`);
    if (o.setUp) {
      const mine = claims.find((c) => c.app === own.app && c.destination === own.destination);
      const ready = await r.ok(templateReady(layoutOf(t)), 'check the base template');
      if (!mine || !ready) check.problems.push(`not set up for ${t.app} (${!mine ? `no ${claimFile(own)}` : 'no base template'}): run \`alcaide setup\``);
      else if (renderClaim(mine) !== renderClaim(own))
        check.problems.push(`set up with other settings than deploy.yml's (${claimFile(own)}): run \`alcaide setup\` again`);
    }
    return check;
  };

export function createPreflightActivities(d: ActivityDeps) {
  return { preflightHost: preflightHost(d) };
}
