// The releases a host keeps: the build jail's release artifacts and uploaded sources, read in
// one command (with what each slot jail holds and the deploy log), ranked by when each was last
// used, and the ones beyond `retain` removed. Pure: the scripts, the parser and the choice.
//
// "Newest" is the later of a file's mtime (when it was built, uploaded or copied to the host) and
// the release's last line in the deploy log (a deploy or rollback that made it live): both
// survive restarts, and `alcaide rollback --to` an old release makes it recent again.
import { VERSION_MARKER } from './app';
import { appDir, ARTIFACTS_DIR, deployLog, releaseArtifact, SLOTS, SOURCES_DIR, sourceTarball, type Slot } from './layout';
import { raw, sh } from './sh';
import { versionProblem } from '../model/target';

/** `retain`'s default: the releases each host keeps. */
export const DEFAULT_RETAIN = 5;

/** A version names files on the host: a full commit id, nothing else (src/model/target.ts). */
const isVersion = (v: string) => versionProblem(v) === undefined;
/** The same check in the script: a name read from the host that is not a version is not ours. */
const IS_VERSION = `_isv() { case "$1" in *[!0-9a-f]*) return 1 ;; esac; [ \${#1} -eq 40 ] || [ \${#1} -eq 64 ]; }`;
/** Deploy log lines read back (the log only grows: the newest are enough to rank the kept releases). */
const LOG_LINES = 2000;

export interface ReleaseFile {
  size: number;
  /** mtime, epoch ms */
  mtimeMs: number;
}

export interface ReleaseListing {
  artifacts: Record<string, ReleaseFile>;
  sources: Record<string, ReleaseFile>;
  /** the version installed in each slot jail (its marker), if any */
  slots: Partial<Record<Slot, string>>;
  /** the deploy log's lines, oldest first */
  deploys: Array<{ at: string; slot: Slot; version: string; ref?: string }>;
}

/** Prints "KIND VERSION SIZE MTIME" for each file in `dir` named `prefix` VERSION `suffix`; anything else there is not ours and ignored. */
const listFiles = (kind: string, dir: string, prefix: string, suffix: string) =>
  [
    sh`for _f in ${dir}/${prefix}*${raw(suffix)}; do`,
    sh`  _v=\${_f##*/}; _v=\${_v#${prefix}}; _v=\${_v%${raw(suffix)}}`,
    sh`  if _isv "$_v" && [ -f "$_f" ] && [ ! -L "$_f" ]; then echo ${kind} "$_v" $(stat -f '%z %m' "$_f"); fi`,
    'done',
  ].join('\n');

/**
 * The listing's script: the app's artifacts and sources in the build jail whose root is
 * `buildRoot`, the version in each slot jail (`slotRoot(slot)`), the deploy log's last lines.
 */
export function listReleases(app: string, buildRoot: string, slotRoot: (slot: Slot) => string): string {
  return [
    IS_VERSION,
    listFiles('artifact', `${buildRoot}${ARTIFACTS_DIR}`, `${app}-`, '.tar.gz'),
    listFiles('source', `${buildRoot}${SOURCES_DIR}`, '', '.tar'),
    ...SLOTS.map((s) => {
      const marker = `${slotRoot(s)}${appDir(app)}/${VERSION_MARKER}`;
      return sh`if [ -f ${marker} ]; then echo ${`slot ${s}`} "$(head -n 1 ${marker})"; fi`;
    }),
    sh`if [ -f ${deployLog(app)} ]; then tail -n ${LOG_LINES} ${deployLog(app)} | sed 's/^/deploy /'; fi`,
    'true',
  ].join('\n');
}

export function parseReleases(out: string): ReleaseListing {
  const listing: ReleaseListing = { artifacts: {}, sources: {}, slots: {}, deploys: [] };
  for (const line of out.split('\n')) {
    const [kind, rest = ''] = line.split(/ (.*)/s);
    if (kind === 'artifact' || kind === 'source') {
      const [version = '', size, mtime] = rest.split(' ');
      if (isVersion(version) && /^\d+$/.test(size ?? '') && /^\d+$/.test(mtime ?? ''))
        listing[kind === 'artifact' ? 'artifacts' : 'sources'][version] = { size: Number(size), mtimeMs: Number(mtime) * 1000 };
    } else if (kind === 'slot') {
      const [slot = '', version = ''] = rest.split(' ');
      if ((SLOTS as readonly string[]).includes(slot) && isVersion(version)) listing.slots[slot as Slot] = version;
    } else if (kind === 'deploy') {
      const d = deployLine(rest);
      if (d) listing.deploys.push(d);
    }
  }
  return listing;
}

/** A deploy log line (recordDeploy's JSON); nothing when it is not one. */
function deployLine(line: string): ReleaseListing['deploys'][number] | undefined {
  try {
    const j = JSON.parse(line) as { at?: unknown; slot?: unknown; version?: unknown; ref?: unknown };
    if (typeof j.at !== 'string' || !SLOTS.includes(j.slot as Slot) || typeof j.version !== 'string' || !isVersion(j.version)) return undefined;
    return { at: j.at, slot: j.slot as Slot, version: j.version, ...(typeof j.ref === 'string' ? { ref: j.ref } : {}) };
  } catch {
    return undefined;
  }
}

export interface KeptRelease {
  version: string;
  /** what was asked for when it was last deployed (a tag, a branch), when not HEAD */
  ref?: string;
  artifact?: ReleaseFile;
  source?: ReleaseFile;
  /** the slot jail that holds it, if one does */
  slot?: Slot;
  /** when it was last made live, by the deploy log */
  deployedAt?: string;
  /** epoch ms: the later of its files' mtimes and its last deploy (the rank `retain` keeps by) */
  usedAt: number;
}

/** Every release the host keeps (an artifact, a source or a slot), the most recently used first. */
export function keptReleases(l: ReleaseListing): KeptRelease[] {
  const versions = new Set([...Object.keys(l.artifacts), ...Object.keys(l.sources), ...Object.values(l.slots)]);
  return [...versions]
    .map((version) => {
      const last = l.deploys.filter((d) => d.version === version).at(-1);
      // HEAD, or a sha prefix (`rollback --to 3f2a9c1d`), says nothing the version does not
      const ref = [...l.deploys].reverse().find((d) => d.version === version && d.ref && d.ref !== 'HEAD' && !version.startsWith(d.ref))?.ref;
      const artifact = l.artifacts[version];
      const source = l.sources[version];
      const deployed = last ? Date.parse(last.at) : NaN;
      return {
        version,
        ...(ref && { ref }),
        ...(artifact && { artifact }),
        ...(source && { source }),
        ...(l.slots.blue === version ? { slot: 'blue' as const } : l.slots.green === version ? { slot: 'green' as const } : {}),
        ...(last && { deployedAt: last.at }),
        usedAt: Math.max(artifact?.mtimeMs ?? 0, source?.mtimeMs ?? 0, Number.isNaN(deployed) ? 0 : deployed),
      };
    })
    .sort((a, b) => b.usedAt - a.usedAt || a.version.localeCompare(b.version));
}

/**
 * The versions whose files go: every release beyond the `retain` most recently used, except
 * those `protect` names (the one being deployed) and those a slot jail holds (live and kept).
 */
export function releasesToPrune(l: ReleaseListing, retain: number, protect: readonly string[]): string[] {
  const keep = new Set([...protect, ...Object.values(l.slots)]);
  return keptReleases(l)
    .filter((r) => r.artifact || r.source)
    .slice(retain)
    .filter((r) => !keep.has(r.version))
    .map((r) => r.version);
}

/**
 * Script part (for `script()`): removes each version's artifact and source (and their partial
 * uploads) from the build jail whose root is `buildRoot`. Paths are made from checked versions
 * only, never from names read on the host.
 */
export function removeReleases(app: string, buildRoot: string, versions: readonly string[]): string {
  return versions
    .map((v) => {
      if (!isVersion(v)) throw new Error(`not a version: ${JSON.stringify(v).slice(0, 80)}`);
      const files = [releaseArtifact(app, v), sourceTarball(v)].flatMap((f) => [`${buildRoot}${f}`, `${buildRoot}${f}.part`]);
      return sh`if ${raw(files.map((f) => sh`[ -e ${f} ]`).join(' || '))}; then rm -f ${files}; changed ${`removed ${v.slice(0, 12)}`}; fi`;
    })
    .join('\n');
}

/** checkArtifact's exit status when there is no artifact of the version. */
export const NO_ARTIFACT_EXIT = 3;

/** Exits 0 when the artifact of `version` is in the build jail at `buildRoot` and its gzip checksums hold, NO_ARTIFACT_EXIT when it is not there. */
export const checkArtifact = (app: string, buildRoot: string, version: string) => {
  const f = `${buildRoot}${releaseArtifact(app, version)}`;
  return sh`if [ ! -f ${f} ]; then exit ${NO_ARTIFACT_EXIT}; fi; gzip -t ${f}`;
};
