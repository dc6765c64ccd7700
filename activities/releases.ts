// The releases a host keeps (src/freebsd/releases.ts): pruned beyond `retain` after a deploy, on
// the host and in this worker's relay directory, and a kept one checked before `rollback --to`
// installs it without a build.
import { checkArtifact, DEFAULT_RETAIN, NO_ARTIFACT_EXIT, listReleases, parseReleases, releasesToPrune, removeReleases } from '../src/freebsd/releases';
import { stepResult, type StepResult } from '../src/model/step';
import { shortVersion, type AppTarget } from '../src/model/target';
import { checkVersion } from './build';
import type { ActivityDeps } from './deps';
import { converge, layoutOf } from './jails';
import { pruneRelay, relayDirOf } from './relay';
import { outputTail, precondition } from './remote';

/** Removes the releases beyond `retain` on the host (never `version`, nor a slot's) and in this worker's relay directory. */
const pruneReleases =
  (d: ActivityDeps) =>
  async (t: AppTarget, version: string): Promise<StepResult> => {
    checkVersion(version);
    const r = d.remote(t);
    const l = layoutOf(t);
    const retain = t.retain ?? DEFAULT_RETAIN;
    const listing = parseReleases(
      (
        await r.run(
          listReleases(t.app, l.jailPath('build'), (s) => l.jailPath(s)),
          'list the kept releases',
        )
      ).stdout,
    );
    const gone = releasesToPrune(listing, retain, [version]);
    const removed = gone.length ? await converge(r, 'remove old releases', [removeReleases(t.app, l.jailPath('build'), gone)]) : [];
    const relayed = pruneRelay(t.app, retain, version, relayDirOf(t));
    return stepResult(
      [...removed, ...(relayed ? [`${relayed} relay cop${relayed === 1 ? 'y' : 'ies'} on this worker`] : [])],
      `nothing to remove (retain: ${retain})`,
    );
  };

/** `rollback --to`: the kept artifact of `version` is on the host and whole (gzip's checksums), so no build is needed. */
const checkKeptRelease =
  (d: ActivityDeps) =>
  async (t: AppTarget, version: string): Promise<StepResult> => {
    checkVersion(version);
    const res = await d.remote(t).check(checkArtifact(t.app, layoutOf(t).jailPath('build'), version), 'check the kept release');
    if (res.code === NO_ARTIFACT_EXIT)
      throw precondition(`release ${shortVersion(version)} is not kept on ${t.server.host}: \`alcaide releases\` lists what is`);
    if (res.code !== 0)
      throw precondition(`the kept release ${shortVersion(version)} on ${t.server.host} is damaged (exit ${res.code}): ${outputTail(res, 4)}`);
    return { changed: false, note: `${shortVersion(version)} kept on ${t.server.host}, checksums hold` };
  };

export function createReleaseActivities(d: ActivityDeps) {
  return { pruneReleases: pruneReleases(d), checkKeptRelease: checkKeptRelease(d) };
}
