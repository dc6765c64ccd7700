// The host's claims (src/freebsd/claims.ts) as the activities use them: read them all, refuse a
// conflict before this activity changes anything, record this app's claim when it is missing
// or stale.
import type { AppTarget } from '../src/model/target';
import { CLAIMS_DIR } from '../src/freebsd/layout';
import { claimConflicts, claimFile, claimHint, claimOf, describeClaim, parseClaims, readClaims, renderClaim, type Claim } from '../src/freebsd/claims';
import { ensureFile } from './jails';
import { precondition, type Remote } from './remote';

export async function checkClaims(r: Remote, t: AppTarget, o: { record: boolean }): Promise<{ recorded: boolean; claims: Claim[] }> {
  const own = claimOf(t);
  const claims = parseClaims((await r.run(readClaims(), 'read the host claims')).stdout);
  const problems = claimConflicts(own, claims);
  if (problems.length) {
    throw precondition(
      `${describeClaim(own)} would take what another app holds on ${t.server.host}: ${problems.join('; ')} (${CLAIMS_DIR}); nothing was changed. ${claimHint(problems)}`,
    );
  }
  const mine = claims.find((c) => c.app === own.app && c.destination === own.destination);
  if (!o.record || (mine && renderClaim(mine) === renderClaim(own))) return { recorded: false, claims };
  const recorded = await ensureFile(r, claimFile(own), renderClaim(own), '0644', 'record the claim');
  return { recorded, claims };
}
