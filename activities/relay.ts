// The worker's relay directory: where a fleet's release is kept on its way from the build host
// to the others (activities/distribute.ts), pruned beyond `retain` like the hosts' releases
// (activities/releases.ts).
import { readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { releaseArtifact } from '../src/freebsd/layout';
import { versionProblem } from '../src/model/target';

/** Where this worker keeps the releases it relays (one file per app and version, a directory per destination). */
export const RELAY_DIR = path.join(os.tmpdir(), `alcaide-releases-${process.getuid?.() ?? 'user'}`);

/**
 * The relay directory of one destination: its prune (retain) never takes another destination's
 * copies of the same app, which may be on their way to that destination's hosts.
 */
export const relayDirOf = (t: { destination?: string }, root = RELAY_DIR) => path.join(root, t.destination ? `d-${t.destination}` : 'default');

/** The worker's relayed copies of the app's releases (activities/distribute.ts) in `dir` beyond the `retain` newest, by mtime; never `version`'s. */
export function pruneRelay(app: string, retain: number, version: string, dir: string): number {
  // the name the copy has (releaseArtifact's), around a full commit id
  const [before, after] = path.basename(releaseArtifact(app, '\0')).split('\0') as [string, string];
  const versionIn = (name: string) => {
    const v = name.startsWith(before) && name.endsWith(after) ? name.slice(before.length, name.length - after.length) : '';
    return versionProblem(v) ? undefined : v;
  };
  let files: Array<{ file: string; version: string; mtimeMs: number }>;
  try {
    files = readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const v = versionIn(e.name);
      return v && e.isFile() ? [{ file: e.name, version: v, mtimeMs: statSync(path.join(dir, e.name)).mtimeMs }] : [];
    });
  } catch {
    return 0; // no relay directory: this worker copied nothing
  }
  const gone = files
    .sort((a, b) => b.mtimeMs - a.mtimeMs)
    .slice(retain)
    .filter((f) => f.version !== version);
  for (const f of gone) for (const p of [f.file, `${f.file}.part`]) rmSync(path.join(dir, p), { force: true });
  return gone.length;
}
