// Rebuilding the build jail: a fresh jail from the base template beside the one in service,
// proven by a test build, then swapped in by renaming its root onto the build jail's path
// (the build jail's name, conf file and jail_list entry never change, so a reboot at any
// moment starts a complete build jail). The old root is kept as PATH.prev until the new
// one runs.
import { BUILD_HOME, sourceTarball } from './layout';
import { removeTree } from './files';
import { jexec } from './jail';
import { raw, sh } from './sh';

/** Written into the new jail's root: which rebuild made it (idempotent create and swap). */
export const REBUILD_MARKER = '.alcaide-rebuild';

/** Paths (inside a build jail) of the build cache: deps/ and _build/ of the app, hex's package cache, rebar3's cache. */
export const buildCachePaths = (app: string) => [`${BUILD_HOME}/build/${app}`, '/root/.hex', '/root/.cache/rebar3'];

/** Prints the OTP release of the jail's Erlang ("26"). */
export const otpRelease = (jail: string) => jexec(jail, `erl -noshell -eval 'io:put_chars(erlang:system_info(otp_release)), halt().'`);

/** "25" → 25; anything else → undefined. */
export function parseOtpRelease(out: string): number | undefined {
  const m = /^\s*(\d+)\s*$/.exec(out);
  return m ? Number(m[1]) : undefined;
}

/**
 * Whether the build cache follows into the new jail: compiled BEAM files and NIFs are only
 * good for the OTP major they were built with, so it is carried only when both jails run the
 * same one (an unknown old OTP drops it too).
 */
export function buildCacheDecision(oldOtp: number | undefined, newOtp: number): { carry: boolean; note: string } {
  if (oldOtp === newOtp) return { carry: true, note: `OTP ${newOtp} in both: deps/, _build/ and the hex/rebar caches carried over` };
  const why = oldOtp === undefined ? `OTP of the build jail in service unknown, new jail OTP ${newOtp}` : `OTP ${oldOtp} → ${newOtp}`;
  return { carry: false, note: `${why}: build cache dropped, the next build compiles everything` };
}

/** Exit 0 when hex is installed in the jail (then hex and rebar are refreshed in the new one). */
export const hexInstalled = (root: string) => sh`ls ${`${root}/root/.mix/archives`} 2>/dev/null | grep -q '^hex'`;

/** Reinstalls hex and rebar in the jail (they are mix archives, not packages). */
export const refreshHexRebar = (jail: string) => jexec(jail, 'export HOME=/root LANG=C.UTF-8 MIX_ENV=prod && mix local.hex --force && mix local.rebar --force');

/** Upgrades every package in the jail after the repository catalogue is refreshed. */
export const pkgUpgradeAll = (jail: string) => sh`env ASSUME_ALWAYS_YES=yes pkg -j ${jail} upgrade -y`;

/** "name-version" of each package installed in the jail, one a line. */
export const pkgVersions = (pkgs: string[], jail: string) => sh`pkg -j ${jail} info -q ${pkgs}`;

/** Copies the build cache from the old jail's root to the new one's (a retry starts each copy over). */
export function copyBuildCache(app: string, fromRoot: string, toRoot: string): string {
  return buildCachePaths(app)
    .map((p) => {
      const from = `${fromRoot}${p}`;
      const to = `${toRoot}${p}`;
      return sh`if [ -d ${from} ]; then rm -rf ${to} && mkdir -p "$(dirname ${to})" && cp -Rp ${from} ${to}; fi`;
    })
    .join(' && ');
}

/** Copies the deployed commit's source tarball from the old build jail; exit 3 when it is not there. */
export const copySourceTarball = (version: string, fromRoot: string, toRoot: string) => {
  const from = `${fromRoot}${sourceTarball(version)}`;
  const to = `${toRoot}${sourceTarball(version)}`;
  return sh`if [ ! -f ${from} ]; then exit 3; fi; mkdir -p "$(dirname ${to})" && cp -p ${from} ${`${to}.tmp`} && mv -f ${`${to}.tmp`} ${to}`;
};

/**
 * Moves the proven root onto the build jail's path, keeping the old one as PATH.prev; both
 * jails must be stopped. Safe to run again after a crash at any point: a stale .prev is only
 * removed while the build path still holds the jail in service.
 */
export function swapBuildRoot(buildPath: string, nextPath: string): string {
  const prev = `${buildPath}.prev`;
  return [
    sh`if [ ! -d ${nextPath} ]; then echo ${`no proven root at ${nextPath}`} >&2; exit 3; fi`,
    sh`if [ -d ${buildPath} ]; then ${raw(removeTree(prev))} && mv ${buildPath} ${prev}; fi`,
    sh`mv ${nextPath} ${buildPath}`,
  ].join(' && ');
}

/**
 * Puts the old root back on the build path (undo of a swap; both jails stopped): whatever
 * stage the swap reached, the new root ends at nextPath and the old one at buildPath.
 * Without a kept old root it changes nothing.
 */
export function restoreBuildRoot(buildPath: string, nextPath: string): string {
  const prev = `${buildPath}.prev`;
  return [
    sh`if [ ! -d ${prev} ]; then exit 0; fi`,
    sh`if [ -d ${buildPath} ]; then if [ -d ${nextPath} ]; then echo ${`both ${buildPath} and ${nextPath} exist: not touching either`} >&2; exit 3; fi; mv ${buildPath} ${nextPath}; fi`,
    sh`mv ${prev} ${buildPath}`,
  ].join(' && ');
}

/** Removes the old root kept during the swap. */
export const removePrevRoot = (buildPath: string) => removeTree(`${buildPath}.prev`);
