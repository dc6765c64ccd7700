// The read-only check every fleet workflow starts with (not a workflow: workflows/index.ts does
// not export it).
import type { AppTarget } from '../src/model/target';
import { fleetProblems, onHost, type FleetHost, type HostCheck } from '../src/model/fleet';
import { failure } from '../src/failures';
import { rootMessage } from './tracker';

/** Checks `hosts` at once; any problem on any host stops the run before anything changes. */
export async function preflightHosts(
  check: (t: AppTarget, o: { setUp: boolean }) => Promise<HostCheck>,
  hosts: FleetHost[],
  t: AppTarget,
  o: { setUp: boolean },
) {
  const checks: HostCheck[] = await Promise.all(
    hosts.map((h) => check(onHost(t, h), o).catch((e: unknown) => ({ host: h.host, problems: [`unreachable or refused: ${rootMessage(e)}`] }))),
  );
  const problems = fleetProblems(checks);
  if (problems.length) throw failure('PreconditionFailed', `nothing was changed on any host:\n  ${problems.join('\n  ')}`);
  const c = checks[0]!;
  return { changed: false, note: `${checks.length} host${checks.length > 1 ? 's' : ''}: FreeBSD ${c.major} ${c.arch}` };
}
