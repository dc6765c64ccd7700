// A fleet's one build reaches every other host: the release artifact is downloaded once from
// the build host to this worker's disk (streamed, resumable, checked against the build host's
// sha256), then uploaded to each host where the install step looks for it (resumable, sha256
// checked again there). Never rebuilt: every host runs the bytes the build host made.
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { freebsdUploadCommands } from '../src/freebsd/files';
import { releaseArtifact } from '../src/freebsd/layout';
import type { StepResult } from '../src/model/step';
import { shortVersion, type AppTarget } from '../src/model/target';
import { downloadFile, uploadFile } from '../src/ssh/upload';
import { checkVersion } from './build';
import type { ActivityDeps } from './deps';
import { layoutOf } from './jails';
import { relayDirOf } from './relay';
import { withHeartbeat } from './remote';

/** One download per file at a time in this process: hosts copied side by side share it. */
const downloads = new Map<string, Promise<unknown>>();

/** Where the install step reads a version's artifact on a host: in its build jail, as the build leaves it. */
export const artifactOn = (t: AppTarget, version: string) => `${layoutOf(t).jailPath('build')}${releaseArtifact(t.app, version)}`;

const copyRelease =
  (d: ActivityDeps) =>
  async (from: AppTarget, to: AppTarget, version: string): Promise<StepResult> => {
    checkVersion(version);
    const relay = relayDirOf(from);
    const local = path.join(relay, path.basename(releaseArtifact(from.app, version)));
    let sent = 0;
    return withHeartbeat(
      async () => {
        mkdirSync(relay, { recursive: true, mode: 0o700 });
        let download = downloads.get(local);
        if (!download) {
          download = downloadFile(d.remote(from).conn, artifactOn(from, version), local, freebsdUploadCommands, {
            label: `download the release from ${from.server.host}`,
          }).finally(() => downloads.delete(local));
          downloads.set(local, download);
        }
        await download;
        const res = await uploadFile(d.remote(to).conn, local, artifactOn(to, version), freebsdUploadCommands, {
          label: `copy the release to ${to.server.host}`,
          onProgress: (b) => (sent = b),
        });
        const mib = (res.size / 1048576).toFixed(1);
        return {
          changed: !res.skipped,
          note: res.skipped
            ? `${shortVersion(version)} already on ${to.server.host} (${mib} MiB, sha256 checked)`
            : `${mib} MiB from ${from.server.host}, sha256 checked${res.resumedFrom ? `, resumed at ${(res.resumedFrom / 1048576).toFixed(1)} MiB` : ''}`,
        };
      },
      () => ({ bytes: sent }),
    );
  };

export function createDistributeActivities(d: ActivityDeps) {
  return { copyRelease: copyRelease(d) };
}
