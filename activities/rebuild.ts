// Rebuilding the build jail (RebuildBuildJailWorkflow). The new jail, APP_build_next, is
// made beside the one in service and proven by a test build; only then is its root moved
// onto the build jail's path. Each activity checks first, so a retry or a resumed run
// converges; the undo activities put the old root back whatever stage a swap reached.
import { failure } from '../src/failures';
import { shortVersion, type AppTarget } from '../src/model/target';
import { appDir } from '../src/freebsd/layout';
import { VERSION_MARKER } from '../src/freebsd/app';
import { BUILD_PACKAGES, RELEASE_UNUSABLE_EXIT } from '../src/freebsd/build';
import {
  buildCacheDecision,
  copyBuildCache,
  copySourceTarball,
  hexInstalled,
  otpRelease,
  parseOtpRelease,
  pkgUpgradeAll,
  pkgVersions,
  REBUILD_MARKER,
  refreshHexRebar as refreshHexRebarCommand,
  removePrevRoot,
  restoreBuildRoot,
  swapBuildRoot,
} from '../src/freebsd/buildjail';
import { fileExists, pathExists, readFile, removeFile } from '../src/freebsd/files';
import { destroyJailTree, jailEnableAtBoot, jailEnabledAtBoot, jailRunning, jailStart, jailStop, jexec, renderJailConf } from '../src/freebsd/jail';
import type { JailRole } from '../src/freebsd/layout';
import { pkgAllInstalled, pkgInstall } from '../src/freebsd/pkg';
import { buildJailSpec, ensureFile, ensureJail, layoutOf } from './jails';
import { checkClaims } from './claims';
import { outputTail, precondition, type Remote, withHeartbeat } from './remote';
import { runBuild, uploadSourceTo } from './build';
import type { ActivityDeps } from './deps';
import { readActiveSlot } from '../src/host/liveSlot';
import { stepResult, type StepResult } from '../src/model/step';

export interface BuildJailFacts extends StepResult {
  /** the commit live on the app's slot, if any */
  version?: string;
  /** OTP major of the build jail in service */
  otp?: number;
  /** hex is installed there (so it is refreshed in the new jail) */
  hex: boolean;
}

async function readOtp(r: Remote, jail: string): Promise<number | undefined> {
  const res = await r.check(otpRelease(jail), `OTP release in ${jail}`);
  return res.code === 0 ? parseOtpRelease(res.stdout) : undefined;
}

/** Stops a jail of this app if it runs (from its conf file when there is one). */
async function stopJail(r: Remote, t: AppTarget, role: JailRole): Promise<boolean> {
  const l = layoutOf(t);
  const name = l.jailName(role);
  if (!(await r.ok(jailRunning(name), `check ${name}`))) return false;
  const conf = l.jailConf(role);
  await r.run((await r.ok(fileExists(conf), `check ${conf}`)) ? jailStop(name, conf) : `jail -r ${name}`, `stop jail ${name}`);
  return true;
}

/**
 * The new jail runs (it is not started at boot: after a reboot during a rebuild, the next
 * step starts it again from its conf file).
 */
async function nextJailRunning(r: Remote, t: AppTarget): Promise<string> {
  const l = layoutOf(t);
  const name = l.jailName('build_next');
  if (await r.ok(jailRunning(name), `check ${name}`)) return name;
  if (!(await r.ok(fileExists(`${l.jailPath('build_next')}/${REBUILD_MARKER}`), `check ${name} root`))) {
    throw precondition(`the new build jail ${name} is gone from ${t.server.host}: run the rebuild again`);
  }
  await r.run(jailStart(name, l.jailConf('build_next')), `start jail ${name}`);
  return name;
}

/** The build jail in service: running, its OTP release, hex in use, and the commit deployed. */
const inspectBuildJail =
  (d: ActivityDeps) =>
  async (t: AppTarget): Promise<BuildJailFacts> => {
    const r = d.remote(t);
    const l = layoutOf(t);
    const name = l.jailName('build');
    await checkClaims(r, t, { record: false });
    if (!(await r.ok(fileExists(l.jailConf('build')), 'check build jail'))) {
      throw precondition(`the build jail ${name} does not exist on ${t.server.host}: run \`alcaide setup\` first`);
    }
    if (!(await r.ok(jailRunning(name), 'check build jail'))) await r.run(jailStart(name, l.jailConf('build')), 'start build jail');
    const otp = await readOtp(r, name);
    const hex = await r.ok(hexInstalled(l.jailPath('build')), 'check hex');
    const slot = await readActiveSlot(r, t);
    let version: string | undefined;
    if (slot) {
      const marker = await r.check(readFile(`${l.jailPath(slot)}${appDir(t.app)}/${VERSION_MARKER}`), 'read the deployed version');
      if (marker.code === 0 && /^[0-9a-f]{40}$/.test(marker.stdout.trim())) version = marker.stdout.trim();
    }
    return {
      changed: false,
      version,
      otp,
      hex,
      note: `${name}: OTP ${otp ?? 'unknown'}, hex ${hex ? 'in use' : 'not installed'}; ${version ? `deployed: ${shortVersion(version)} on ${slot}` : 'nothing deployed yet'}`,
    };
  };

/** A fresh jail from the base template, not started at boot; one left by an earlier rebuild is removed first. */
const createNextBuildJail =
  (d: ActivityDeps) =>
  async (t: AppTarget, rebuildId: string): Promise<StepResult> => {
    const r = d.remote(t);
    const l = layoutOf(t);
    const spec = buildJailSpec(t, 'build_next');
    const marker = `${spec.path}/${REBUILD_MARKER}`;
    const changes: string[] = [];
    const current = await r.check(readFile(marker), `read ${spec.name} marker`);
    if (current.stdout.trim() !== rebuildId && (await r.ok(pathExists(spec.path), `check ${spec.name} root`))) {
      await stopJail(r, t, 'build_next');
      await r.run(destroyJailTree(spec.path, l.jailConf('build_next')), `remove stale ${spec.name}`);
      changes.push(`removed a stale ${spec.name}`);
    }
    changes.push(...(await ensureJail(r, l, spec, l.jailConf('build_next'), { atBoot: false })));
    await ensureFile(r, marker, `${rebuildId}\n`, '0644', `mark ${spec.name}`);
    return stepResult(changes, `${spec.name} ready`);
  };

/** The build packages, installed and upgraded to the repository's current versions. */
const installBuildPackages =
  (d: ActivityDeps) =>
  async (t: AppTarget): Promise<StepResult> => {
    const r = d.remote(t);
    const name = await nextJailRunning(r, t);
    const changes: string[] = [];
    if (!(await r.ok(pkgAllInstalled(BUILD_PACKAGES, name), 'check build packages'))) {
      await withHeartbeat(() => r.run(pkgInstall(BUILD_PACKAGES, name), 'install build packages', { timeoutMs: 30 * 60_000 }));
      changes.push('installed');
    }
    await withHeartbeat(() => r.run(pkgUpgradeAll(name), 'upgrade packages', { timeoutMs: 30 * 60_000 }));
    const versions = (await r.run(pkgVersions(BUILD_PACKAGES, name), 'package versions')).stdout.trim().split('\n').filter(Boolean);
    return { changed: true, note: `${changes.length ? 'installed and upgraded' : 'upgraded'}: ${versions.join(', ')}` };
  };

/** hex and rebar are mix archives: reinstalled in the new jail when the old one used them. */
const refreshHexRebar =
  (d: ActivityDeps) =>
  async (t: AppTarget, hexInUse: boolean): Promise<StepResult> => {
    if (!hexInUse) return { changed: false, note: 'hex is not installed in the build jail in service: builds that need it install it' };
    const r = d.remote(t);
    const name = await nextJailRunning(r, t);
    const res = await withHeartbeat(() => r.check(refreshHexRebarCommand(name), 'refresh hex and rebar', { timeoutMs: 10 * 60_000 }));
    if (res.code !== 0) throw failure('HexRefreshFailed', `mix local.hex / local.rebar failed in ${name} (exit ${res.code}):\n${outputTail(res, 6)}`);
    return { changed: true, note: 'hex and rebar reinstalled' };
  };

export interface CacheResult extends StepResult {
  carried: boolean;
  otp?: number;
}

/** deps/, _build/ and the hex/rebar caches follow only when the OTP major is the same. */
const carryBuildCache =
  (d: ActivityDeps) =>
  async (t: AppTarget, oldOtp?: number): Promise<CacheResult> => {
    const r = d.remote(t);
    const l = layoutOf(t);
    const name = await nextJailRunning(r, t);
    const otp = await readOtp(r, name);
    if (otp === undefined) throw failure('ToolchainBroken', `erl does not start in ${name}: the new build jail's Erlang is broken`);
    const { carry, note } = buildCacheDecision(oldOtp, otp);
    if (carry)
      await withHeartbeat(() =>
        r.run(copyBuildCache(t.app, l.jailPath('build'), l.jailPath('build_next')), 'copy the build cache', { timeoutMs: 30 * 60_000 }),
      );
    return { changed: carry, carried: carry, otp, note };
  };

/** Builds the deployed commit in the new jail: the proof it can build what runs. */
const testBuild =
  (d: ActivityDeps) =>
  async (t: AppTarget, version?: string): Promise<StepResult> => {
    const r = d.remote(t);
    const l = layoutOf(t);
    const name = await nextJailRunning(r, t);
    if (!version) {
      const v = await r.check(jexec(name, 'elixir --version'), 'elixir version');
      if (v.code !== 0) throw failure('ToolchainBroken', `elixir does not start in ${name}:\n${outputTail(v, 6)}`);
      return { changed: false, note: `nothing deployed yet, so no test build; elixir answers in ${name}` };
    }
    const copied = await r.check(copySourceTarball(version, l.jailPath('build'), l.jailPath('build_next')), 'copy the source');
    if (copied.code === 3) await uploadSourceTo(r, t, version, l.jailPath('build_next'));
    else if (copied.code !== 0)
      throw failure('RemoteCommandError', `copying the source of ${shortVersion(version)} failed (exit ${copied.code}): ${outputTail(copied, 4)}`);
    const res = await runBuild(r, t, name, version, 'test build');
    // killed (a reboot, an OOM kill) is not a failed build: retried, and the retry starts the jail again
    if (res.code === null) throw failure('BuildInterrupted', `the test build in ${name} was killed (${res.signal ?? 'no exit status'}): retrying`);
    if (res.code !== 0) {
      const why = res.code === RELEASE_UNUSABLE_EXIT ? (res.stderr.trim().split('\n').pop() ?? 'the release cannot run') : outputTail(res);
      throw failure('TestBuildFailed', `the test build of ${shortVersion(version)} failed in ${name} (exit ${res.code}):\n${why}`);
    }
    return { changed: true, note: `${shortVersion(version)} built in ${name}` };
  };

/** Moves the proven root onto the build jail's path and starts it; the old root stays as PATH.prev. */
const swapBuildJail =
  (d: ActivityDeps) =>
  async (t: AppTarget, rebuildId: string): Promise<StepResult> => {
    const r = d.remote(t);
    const l = layoutOf(t);
    const name = l.jailName('build');
    const conf = l.jailConf('build');
    const inService = await r.check(readFile(`${l.jailPath('build')}/${REBUILD_MARKER}`), 'read build jail marker');
    const swapped = inService.code === 0 && inService.stdout.trim() === rebuildId;
    if (!swapped) {
      await stopJail(r, t, 'build_next');
      await stopJail(r, t, 'build');
      await r.run(swapBuildRoot(l.jailPath('build'), l.jailPath('build_next')), 'swap the build jail root');
    }
    await r.run(removeFile(l.jailConf('build_next')), `remove ${l.jailConf('build_next')}`);
    await ensureFile(r, conf, renderJailConf(buildJailSpec(t, 'build')), '0644', `write ${conf}`);
    if (!(await r.ok(jailRunning(name), `check ${name}`))) await r.run(jailStart(name, conf), `start jail ${name}`);
    if (!(await r.ok(jailEnabledAtBoot(name), `check ${name} at boot`))) await r.run(jailEnableAtBoot(name), `start ${name} at boot`);
    return {
      changed: !swapped,
      note: swapped ? `${name} already runs the new root` : `${name} runs the new root; the old one is kept at ${l.jailPath('build')}.prev until it is removed`,
    };
  };

/** The old root, once the new one is in service. */
const retireOldBuildJail =
  (d: ActivityDeps) =>
  async (t: AppTarget): Promise<StepResult> => {
    const r = d.remote(t);
    const prev = `${layoutOf(t).jailPath('build')}.prev`;
    if (!(await r.ok(pathExists(prev), 'check the old root'))) return { changed: false, note: 'already removed' };
    await withHeartbeat(() => r.run(removePrevRoot(layoutOf(t).jailPath('build')), 'remove the old root', { timeoutMs: 15 * 60_000 }));
    return { changed: true, note: `removed ${prev}` };
  };

// ---------------------------------------------------------------- undo

/** Removes the new jail (the build jail in service is not touched). */
const destroyNextBuildJail =
  (d: ActivityDeps) =>
  async (t: AppTarget): Promise<StepResult> => {
    const r = d.remote(t);
    const l = layoutOf(t);
    const name = l.jailName('build_next');
    const existed = await r.ok(`${pathExists(l.jailPath('build_next'))} || ${fileExists(l.jailConf('build_next'))}`, `check ${name}`);
    if (!existed) return { changed: false, note: `${name} was not there` };
    await stopJail(r, t, 'build_next');
    await r.run(destroyJailTree(l.jailPath('build_next'), l.jailConf('build_next')), `remove ${name}`);
    return { changed: true, note: `${name} removed; the build jail in service is unchanged` };
  };

/** Puts the old root back on the build jail's path (whatever stage the swap reached) and starts it. */
const restoreOldBuildJail =
  (d: ActivityDeps) =>
  async (t: AppTarget, rebuildId: string): Promise<StepResult> => {
    const r = d.remote(t);
    const l = layoutOf(t);
    const name = l.jailName('build');
    const prev = `${l.jailPath('build')}.prev`;
    // Only this rebuild's swap is undone: the build path is empty (between the two renames) or holds this rebuild's root.
    const marker = await r.check(readFile(`${l.jailPath('build')}/${REBUILD_MARKER}`), 'read build jail marker');
    const moved = marker.stdout.trim() === rebuildId || !(await r.ok(pathExists(l.jailPath('build')), 'check the build root'));
    const hadPrev = moved && (await r.ok(pathExists(prev), 'check the old root'));
    if (hadPrev) {
      await stopJail(r, t, 'build');
      await stopJail(r, t, 'build_next');
      await r.run(restoreBuildRoot(l.jailPath('build'), l.jailPath('build_next')), 'put the old root back');
    }
    await ensureFile(r, l.jailConf('build'), renderJailConf(buildJailSpec(t, 'build')), '0644', `write ${l.jailConf('build')}`);
    if (!(await r.ok(jailRunning(name), `check ${name}`))) await r.run(jailStart(name, l.jailConf('build')), `start jail ${name}`);
    return { changed: hadPrev, note: hadPrev ? `${name} runs its old root again` : `${name} was not replaced` };
  };

export function createRebuildActivities(d: ActivityDeps) {
  return {
    inspectBuildJail: inspectBuildJail(d),
    createNextBuildJail: createNextBuildJail(d),
    installBuildPackages: installBuildPackages(d),
    refreshHexRebar: refreshHexRebar(d),
    carryBuildCache: carryBuildCache(d),
    testBuild: testBuild(d),
    swapBuildJail: swapBuildJail(d),
    retireOldBuildJail: retireOldBuildJail(d),
    destroyNextBuildJail: destroyNextBuildJail(d),
    restoreOldBuildJail: restoreOldBuildJail(d),
  };
}
