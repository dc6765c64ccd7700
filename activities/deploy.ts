// Deploy and rollback activities. Each checks the host first and converges: a retry, or a
// resumed workflow after a crash, finds finished work finished and does not repeat it. A
// step's checks and actions travel as one script (src/freebsd): one SSH round trip.
import { ROUTE_BY_GATES, ROUTE_HEADER, SLOT_HEADER } from '../src/caddy/caddyfile';
import { failure } from '../src/failures';
import { asAppUser, installApp, releaseEval, releaseStaysUp, renderEnvFile, shareEnvFile, STAYS_UP_EXIT, VERSION_MARKER } from '../src/freebsd/app';
import { RELEASE_UNUSABLE_EXIT } from '../src/freebsd/build';
import { closeGate, switchGates } from '../src/freebsd/caddy';
import { dropShares, parseShareFiles, routeAllTo, shareFiles } from '../src/freebsd/canary';
import { appendStdin, fileExists, putStdin, putText, readFile, tailFile } from '../src/freebsd/files';
import { flightKey, singleFlight } from '../src/freebsd/flight';
import { ensureHostsBlock } from '../src/freebsd/hosts';
import { requireJailConf, startJailUnlessRunning } from '../src/freebsd/jail';
import { activeFile, appDir, appLog, childPidFile, deployLog, envFile, otherSlot, releaseArtifact, type Slot } from '../src/freebsd/layout';
import { databaseUrl } from '../src/freebsd/postgres';
import { changesOf, script } from '../src/freebsd/sh';
import { createSlot, destroySlot as destroySlotJail, SLOT_JAIL_PARAMS, startAppIn, startSlotJail, stopSlotJail, type SlotJail } from '../src/freebsd/slot';
import { slotChoice } from '../src/freebsd/slotChoice';
import { readActiveSlot } from '../src/host/liveSlot';
import { isWebHost } from '../src/model/fleet';
import { stepResult, type StepResult } from '../src/model/step';
import { shortVersion, type AppTarget } from '../src/model/target';
import { httpViaSsh, type TunnelResponse } from '../src/ssh/http';
import { checkVersion, jailNotRunning, runBuild, uploadSourceTo } from './build';
import { checkClaims } from './claims';
import { postgresPassword, postgresSpec } from './database';
import type { ActivityDeps, Clock } from './deps';
import { converge, convergeOutput, layoutOf, slotHost, slotHostsEntries } from './jails';
import { outputTail, precondition, type Remote, withHeartbeat } from './remote';

// ---------------------------------------------------------------- build

const ensureBuildJail =
  (d: ActivityDeps) =>
  async (t: AppTarget): Promise<StepResult> => {
    const r = d.remote(t);
    const l = layoutOf(t);
    const name = l.jailName('build');
    const conf = l.jailConf('build');
    const { recorded } = await checkClaims(r, t, { record: true });
    const res = await r.check(script(requireJailConf(conf), startJailUnlessRunning(name, conf)), 'build jail ready');
    if (res.code === 3) throw precondition(`the build jail ${name} does not exist on ${t.server.host}: run \`alcaide setup\` first`);
    if (res.code !== 0) throw failure('RemoteCommandError', `starting ${name} on ${t.server.host} failed (exit ${res.code}): ${outputTail(res, 4)}`);
    const changes = [...(recorded ? [`recorded the claim of ${t.app}`] : []), ...changesOf(res.stdout)];
    return stepResult(changes, `${name} running`);
  };

/** `git archive` of the commit, streamed to a local temp file, then uploaded resumably. */
const uploadSource =
  (d: ActivityDeps) =>
  async (t: AppTarget, version: string): Promise<StepResult> => {
    return uploadSourceTo(d.remote(t), t, version, layoutOf(t).jailPath('build'));
  };

const buildRelease =
  (d: ActivityDeps) =>
  async (t: AppTarget, version: string): Promise<StepResult> => {
    const res = await runBuild(d.remote(t), t, layoutOf(t).jailName('build'), version, 'build the release');
    if (res.code === RELEASE_UNUSABLE_EXIT) throw precondition(res.stderr.trim().split('\n').pop() ?? 'the release cannot run in a slot');
    if (res.code !== 0) {
      const down = jailNotRunning(res, layoutOf(t).jailName('build'), t.server.host);
      if (down) throw down;
      throw failure('BuildFailed', `mix release failed in ${layoutOf(t).jailName('build')} (exit ${res.code}):\n${outputTail(res)}`);
    }
    const cached = res.stdout.trim().split('\n').pop() === 'cached';
    return { changed: !cached, note: cached ? `release ${shortVersion(version)} already built` : `release ${shortVersion(version)} built` };
  };

// ---------------------------------------------------------------- slots

export interface SlotChoice extends StepResult {
  next: Slot;
  active?: Slot;
}

const chooseSlot =
  (d: ActivityDeps) =>
  async (t: AppTarget): Promise<SlotChoice> => {
    return slotChoice(await readActiveSlot(d.remote(t), t));
  };

function slotSpec(t: AppTarget, slot: Slot) {
  const l = layoutOf(t);
  return {
    name: l.jailName(slot),
    path: l.jailPath(slot),
    hostname: l.jailName(slot),
    iface: t.network.iface,
    ip: t.network[slot],
    ip6: t.network[`${slot}6`],
    params: SLOT_JAIL_PARAMS,
  };
}

function slotJail(t: AppTarget, slot: Slot): SlotJail {
  const l = layoutOf(t);
  return { app: t.app, spec: slotSpec(t, slot), conf: l.jailConf(slot), templateDir: l.templateDir };
}

/** A fresh jail for the slot; a stale one from an older release is removed first. */
const createSlotJail =
  (d: ActivityDeps) =>
  async (t: AppTarget, slot: Slot, version: string): Promise<StepResult> => {
    checkVersion(version);
    const s = slotJail(t, slot);
    // the slot's name in /etc/hosts (setup writes it too; a host set up before names existed gets it here)
    const changes = await converge(d.remote(t), `create ${s.spec.name}`, [ensureHostsBlock(t.app, slotHostsEntries(t)), createSlot(s, version)], {
      timeoutMs: 15 * 60_000,
    });
    return stepResult(changes, `${s.spec.name} ready`);
  };

const installRelease =
  (d: ActivityDeps) =>
  async (t: AppTarget, slot: Slot, version: string): Promise<StepResult> => {
    checkVersion(version);
    const l = layoutOf(t);
    const artifact = `${l.jailPath('build')}${releaseArtifact(t.app, version)}`;
    const changes = await converge(
      d.remote(t),
      'install the release',
      [installApp({ app: t.app, releaseName: t.release.name, cmd: t.hostRun?.cmd }, l.jailPath(slot), artifact, version)],
      {
        flight: flightKey(l.jailName(slot), 'install'),
      },
    );
    return stepResult(changes, `release ${shortVersion(version)} installed`);
  };

/** The app's environment, decrypted here on the worker, sent on stdin into a 0600 file. */
const writeAppEnv =
  (d: ActivityDeps) =>
  async (t: AppTarget, slot: Slot, version: string): Promise<StepResult> => {
    checkVersion(version);
    const r = d.remote(t);
    const secrets = t.envSecretNames.length ? d.secrets(t) : {};
    const missing = t.envSecretNames.filter((n) => !(n in secrets));
    if (missing.length) throw precondition(`secrets missing from the secrets file: ${missing.join(', ')} (alcaide secrets set NAME)`);
    const roleEnv = t.hostRun?.env ?? {};
    const vars: Record<string, string> = {
      ...t.envClear,
      ...Object.fromEntries(t.envSecretNames.map((n) => [n, secrets[n]!])),
      ...roleEnv,
      // Phoenix builds its URLs and checks websocket origins (LiveView) against this host: the
      // domain, or the server's name a browser uses without one; the config's own value wins
      ...(!('PHX_HOST' in t.envClear) && !('PHX_HOST' in roleEnv) && !t.envSecretNames.includes('PHX_HOST') ? { PHX_HOST: t.domain ?? t.server.host } : {}),
      // a web host's release serves HTTP; any other starts its endpoint only if its env says so
      ...(isWebHost(t) && { PHX_SERVER: 'true' }),
      PORT: String(t.appPort),
      LANG: 'C.UTF-8',
      RELEASE_DISTRIBUTION: 'name',
      RELEASE_NODE: `${t.release.name}_${slot}@${t.network[slot]}`,
      ALCAIDE_SLOT: slot,
      ALCAIDE_VERSION: version,
    };
    // The accessory's URL, unless the config names DATABASE_URL itself.
    if (t.postgresql && !('DATABASE_URL' in vars)) vars.DATABASE_URL = databaseUrl(postgresSpec(t), postgresPassword(d.secrets(t), t));
    const root = layoutOf(t).jailPath(slot);
    const changed =
      (
        await converge(r, 'write the app environment', [putStdin(`${root}${envFile(t.app)}`, '0640', 'wrote'), shareEnvFile(t.app, root)], {
          stdin: renderEnvFile(vars),
        })
      ).length > 0;
    return { changed, note: `${Object.keys(vars).length} variables (${t.envSecretNames.length} secret), mode 0640, group ${t.app}` };
  };

const startApp =
  (d: ActivityDeps) =>
  async (t: AppTarget, slot: Slot): Promise<StepResult> => {
    const changes = await converge(d.remote(t), 'start the app', [startAppIn(slotJail(t, slot))]);
    return stepResult(changes, 'already running');
  };

const runMigrations =
  (d: ActivityDeps) =>
  async (t: AppTarget, slot: Slot): Promise<StepResult> => {
    const r = d.remote(t);
    if (t.release.migrate === false) return { changed: false, note: 'skipped' };
    const name = layoutOf(t).jailName(slot);
    const res = await withHeartbeat(() =>
      r.check(
        singleFlight(flightKey(t.app, 'migrate'), asAppUser(name, t.app, releaseEval(t.app, t.release.name, t.release.migrate as string))),
        'run migrations',
        { timeoutMs: 30 * 60_000 },
      ),
    );
    if (res.code !== 0) {
      const down = jailNotRunning(res, name, t.server.host);
      if (down) throw down;
      throw failure('MigrationFailed', `migrations failed in ${name} (exit ${res.code}):\n${outputTail(res)}`);
    }
    return { changed: true, note: migrationNote(res.stdout) };
  };

const MIGRATION_NOTE_MAX = 10;

/**
 * What the migrations did, for the step's note: Ecto's migrator logs a "== Running VERSION
 * Module.change/0 forward" line per migration among the statements it runs, so those name
 * every applied migration; other output is kept line by line. Long lists end with a count.
 */
export function migrationNote(stdout: string): string {
  const lines = stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const ran = lines.map((l) => /== Running (\d+) (?:\S+\.)?([A-Za-z0-9_]+)\.\w+\/\d+ (forward|backward)/.exec(l)).filter((m) => m !== null);
  const items = ran.length
    ? ran.map((m) => `${m[1]} ${m[2]}${m[3] === 'backward' ? ' (down)' : ''}`)
    : lines.map((l) => l.replace(/^(?:\d\d:\d\d:\d\d\.\d+ )?\[\w+\] /, ''));
  const shown = items.slice(0, MIGRATION_NOTE_MAX).join('; ');
  const more = items.length > MIGRATION_NOTE_MAX ? `; and ${items.length - MIGRATION_NOTE_MAX} more` : '';
  return ran.length ? `${ran.length} migration${ran.length === 1 ? '' : 's'} run: ${shown}${more}` : `${shown}${more}` || 'done';
}

/**
 * The pause after health try `tries` (1-based): 50 ms, doubling up to health_check.interval,
 * so a slot that comes up quickly is seen quickly and a slow one is not polled harder.
 */
export const healthPause = (intervalMs: number, tries: number) => Math.min(intervalMs, 50 * 2 ** Math.min(tries - 1, 16));

/** What came back, for an error: the status and the start of the body on one line. */
const answered = (res: TunnelResponse) => `HTTP ${res.status}${res.body.trim() ? ` (${res.body.replace(/\s+/g, ' ').trim().slice(0, 120)})` : ''}`;

/** The release's pid under daemon(8) (rewritten on each restart), or nothing. */
const readChildPid = (r: Remote, root: string, app: string) =>
  r.check(readFile(`${root}${childPidFile(app)}`), 'read the app pid').then((res) => (res.code === 0 ? res.stdout.trim() : ''));

/** daemon(8) restarting the release this often during one health check means it crash-loops. */
export const CRASH_LOOP_RESTARTS = 2;

/**
 * Polls the app's health path on the slot (by its name: IPv6 and IPv4) until it answers 200.
 * About once a second it reads the release's pid: daemon(8) restarting it CRASH_LOOP_RESTARTS
 * times means it crash-loops, which fails the step at once with the log's tail.
 */
const checkHealth =
  (d: ActivityDeps) =>
  async (t: AppTarget, slot: Slot): Promise<StepResult> => {
    const r = d.remote(t);
    const host = slotHost(t, slot);
    const url = `http://${host}:${t.appPort}${t.healthCheck.path}`;
    const root = layoutOf(t).jailPath(slot);
    const start = d.clock.now();
    let last = 'no answer yet';
    let tries = 0;
    const pids = new Set<string>();
    let pidReadAt = 0;
    const fail = async (why: string) => {
      const log = await r.check(tailFile(`${root}${appLog(t.app)}`, 15), 'read app log');
      return failure('HealthCheckFailed', `GET ${url} ${why}; the app log ${appLog(t.app)} in ${layoutOf(t).jailName(slot)} ends with:\n${log.stdout.trim()}`);
    };
    await withHeartbeat(async () => {
      while (d.clock.now() - start < t.healthCheck.timeoutMs) {
        tries++;
        try {
          const res = await httpViaSsh(r.conn, { host, port: t.appPort, path: t.healthCheck.path, timeoutMs: Math.min(5000, t.healthCheck.timeoutMs) });
          if (res.status === 200) return;
          last = answered(res);
        } catch (e) {
          last = (e as Error).message;
        }
        if (d.clock.now() - pidReadAt >= 1000) {
          pidReadAt = d.clock.now();
          const pid = await readChildPid(r, root, t.app);
          if (pid && !pids.has(pid)) {
            if (pids.size) d.log.debug('daemon(8) restarted the release during the health check', { slot, pid, last });
            pids.add(pid);
          }
          if (pids.size > CRASH_LOOP_RESTARTS) {
            throw await fail(
              `never answered 200: the app crash-loops (daemon(8) restarted it ${pids.size - 1} times in ${Math.round((d.clock.now() - start) / 1000)}s; last: ${last})`,
            );
          }
        }
        await d.clock.sleep(healthPause(t.healthCheck.intervalMs, tries));
      }
      throw await fail(`did not answer 200 within ${t.healthCheck.timeoutMs / 1000}s (${tries} tries; last: ${last})`);
    });
    return { changed: false, note: `200 from ${url} after ${tries} ${tries === 1 ? 'try' : 'tries'}` };
  };

/**
 * How long a host without HTTP (in no web role) must keep its release up, the same process
 * throughout, before it counts as prepared: a release that crashes at start is restarted by
 * daemon(8) within this window, which changes its pid.
 */
export const STAYS_UP_SECONDS = 5;

/** A host without HTTP to check: its release must stay up, one process, for STAYS_UP_SECONDS. */
const checkRunning =
  (d: ActivityDeps) =>
  async (t: AppTarget, slot: Slot): Promise<StepResult> => {
    const r = d.remote(t);
    const name = layoutOf(t).jailName(slot);
    const res = await withHeartbeat(() =>
      r.check(releaseStaysUp(t.app, name, STAYS_UP_SECONDS), 'check the release stays up', { timeoutMs: (STAYS_UP_SECONDS + 30) * 1000 }),
    );
    const pids = res.stdout.trim().split(/\s+/);
    if (res.code === 0) return { changed: false, note: `pid ${pids[0]} up for ${STAYS_UP_SECONDS}s` };
    const down = jailNotRunning(res, name, t.server.host);
    if (down) throw down;
    const why = {
      [STAYS_UP_EXIT.noPid]: `never started (no pid in ${childPidFile(t.app)})`,
      [STAYS_UP_EXIT.exited]: `ended (pid ${pids[0]}) within ${STAYS_UP_SECONDS}s`,
      [STAYS_UP_EXIT.restarted]: `ended within ${STAYS_UP_SECONDS}s: daemon(8) restarted it (pid ${pids[0]}, then ${pids[1] || 'none yet'})`,
    }[res.code ?? -1];
    if (!why) throw failure('RemoteCommandError', `checking the release in ${name} on ${t.server.host} failed (exit ${res.code}): ${outputTail(res, 4)}`);
    const log = await r.check(tailFile(`${layoutOf(t).jailPath(slot)}${appLog(t.app)}`, 15), 'read app log');
    throw failure('HealthCheckFailed', `the release in ${name} ${why}; the app log ${appLog(t.app)} ends with:\n${log.stdout.trim()}`);
  };

/**
 * A request through Caddy as clients make it: HTTPS with the domain's name, or plain HTTP on :80.
 * It heartbeats: the steps that loop over it (the switch waits up to 15 s for Caddy to route)
 * would otherwise outlive the heartbeat timeout and end as "Heartbeat timeout", not as their cause.
 */
function throughCaddy(r: Remote, t: AppTarget, headers?: Record<string, string>): Promise<TunnelResponse> {
  return withHeartbeat(() =>
    t.domain
      ? httpViaSsh(r.conn, { host: '127.0.0.1', port: 443, path: t.healthCheck.path, hostHeader: t.domain, tlsServername: t.domain, timeoutMs: 8000, headers })
      : httpViaSsh(r.conn, { host: '127.0.0.1', port: 80, path: t.healthCheck.path, hostHeader: 'localhost', timeoutMs: 8000, headers }),
  );
}

/**
 * Waits until Caddy's own health checks route requests to `slot`. `byGates`: on the gates' path
 * alone, past a canary's routes (the host's own request with ROUTE_HEADER), to see the gates
 * route before a share file goes.
 */
async function waitForRouting(clock: Clock, r: Remote, t: AppTarget, slot: Slot, o: { withinMs?: number; byGates?: boolean } = {}): Promise<number> {
  const withinMs = o.withinMs ?? 15_000;
  const start = clock.now();
  let last = '';
  while (clock.now() - start < withinMs) {
    try {
      const res = await throughCaddy(r, t, o.byGates ? { [ROUTE_HEADER]: ROUTE_BY_GATES } : undefined);
      if (res.status === 200 && res.headers[SLOT_HEADER.toLowerCase()] === slot) return clock.now() - start;
      last = `HTTP ${res.status} from ${String(res.headers[SLOT_HEADER.toLowerCase()] ?? 'no slot')}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await clock.sleep(50);
  }
  throw failure('SwitchNotSeen', `Caddy did not route to ${slot} within ${withinMs / 1000}s (last: ${last})`);
}

/**
 * In one round trip: `parts`, after every request sent to `to` through a canary's share file if
 * there is one (src/freebsd/canary.ts; nothing without one); whether there is one.
 */
async function routeAllThen(r: Remote, t: AppTarget, to: Slot, label: string, parts: string[] = []): Promise<{ canary: boolean }> {
  const out = await convergeOutput(r, label, [routeAllTo(t.app, to), ...parts, shareFiles(t.app)]);
  return { canary: parseShareFiles(out).length > 0 };
}

/**
 * A canary's routes handed back to the gates, which already route to `to`: Caddy's checks are
 * seen sending the gates' path there before the share file (routing everything to `to` meanwhile) goes.
 */
async function endCanary(d: ActivityDeps, r: Remote, t: AppTarget, to: Slot): Promise<void> {
  await waitForRouting(d.clock, r, t, to, { byGates: true });
  await r.run(dropShares(t.app), 'remove the canary share');
}

/**
 * Opens the new slot's gate and closes the old one: no Caddy reload, in-flight requests finish.
 * During a canary (the promote): every request to `to` through the share file first, then the
 * gates, then the share file removed once the gates route to `to`.
 */
const switchTraffic =
  (d: ActivityDeps) =>
  async (t: AppTarget, to: Slot, from?: Slot): Promise<StepResult> => {
    const r = d.remote(t);
    const { canary } = await routeAllThen(r, t, to, `open the ${to} gate`, [switchGates(t.app, to, from, activeFile(t.app))]);
    if (canary) await endCanary(d, r, t, to);
    const ms = await waitForRouting(d.clock, r, t, to);
    return { changed: true, note: `Caddy routes to ${to} (${ms} ms after the gate opened)${canary ? '; the canary share removed' : ''}` };
  };

const verifyThroughCaddy =
  (d: ActivityDeps) =>
  async (t: AppTarget, slot: Slot): Promise<StepResult> => {
    const r = d.remote(t);
    // five requests at once, each on its own tunnel: as many chances to reach a wrong upstream
    for (const res of await Promise.all([0, 1, 2, 3, 4].map(() => throughCaddy(r, t)))) {
      const served = res.headers[SLOT_HEADER.toLowerCase()];
      if (res.status !== 200 || served !== slot) {
        throw failure(
          'VerifyFailed',
          `through Caddy ${t.healthCheck.path} answered HTTP ${res.status} from ${String(served ?? 'no slot')}, expected 200 from ${slot}`,
        );
      }
    }
    return { changed: false, note: `5 of 5 requests through Caddy answered by ${slot}` };
  };

/**
 * One check of the bake window: the health path through Caddy must answer 200 from `slot`.
 * Up to three requests a second apart, so one dropped connection is not a rollback.
 */
const bakeCheck =
  (d: ActivityDeps) =>
  async (t: AppTarget, slot: Slot): Promise<StepResult> => {
    const r = d.remote(t);
    let last = '';
    for (let i = 0; i < 3; i++) {
      if (i) await d.clock.sleep(1000);
      try {
        const res = await throughCaddy(r, t);
        const served = res.headers[SLOT_HEADER.toLowerCase()];
        if (res.status === 200 && served === slot) return { changed: false, note: `200 from ${slot}` };
        last = `HTTP ${res.status} from ${String(served ?? 'no slot')}`;
      } catch (e) {
        last = (e as Error).message;
      }
    }
    throw failure('BakeFailed', `through Caddy ${t.healthCheck.path} answered ${last} three times, expected 200 from ${slot}`);
  };

/** Stops the app and its jail; the jail stays on disk for rollback but no longer starts at boot. */
const stopSlot =
  (d: ActivityDeps) =>
  async (t: AppTarget, slot: Slot): Promise<StepResult> => {
    const name = layoutOf(t).jailName(slot);
    const stopped = (await converge(d.remote(t), `stop ${name}`, [stopSlotJail(slotJail(t, slot))])).length > 0;
    return { changed: stopped, note: stopped ? `${name} stopped, kept for rollback` : `${name} already stopped` };
  };

const recordDeploy =
  (d: ActivityDeps) =>
  async (t: AppTarget, deploy: { slot: Slot; version: string; previousSlot?: Slot; ref?: string }): Promise<StepResult> => {
    checkVersion(deploy.version);
    const line = JSON.stringify({ at: new Date(d.clock.now()).toISOString(), ...deploy });
    await converge(d.remote(t), 'record the deploy', [putText(activeFile(t.app), '0644', `${deploy.slot}\n`), appendStdin(deployLog(t.app))], {
      stdin: `${line}\n`,
    });
    return { changed: true, note: `${t.app} ${shortVersion(deploy.version)} live on ${deploy.slot}` };
  };

// ---------------------------------------------------------------- undo

/** `tookTraffic`: the switch began, so requests may be in flight on the slot (drained, not killed). */
const destroySlot =
  (d: ActivityDeps) =>
  async (t: AppTarget, slot: Slot, tookTraffic = true): Promise<StepResult> => {
    const name = layoutOf(t).jailName(slot);
    await converge(d.remote(t), `remove ${name}`, [closeGate(t.app, slot), destroySlotJail(slotJail(t, slot), { tookTraffic })]);
    return { changed: true, note: `${name} removed` };
  };

/**
 * Puts `to` (the previous slot) back in service and takes `from` out; with no previous slot, only
 * closes `from`. During a canary (its abort): every request to `to` through the share file first,
 * then the gates, then the share file removed once the gates route to `to`.
 */
const restoreTraffic =
  (d: ActivityDeps) =>
  async (t: AppTarget, to: Slot | undefined, from: Slot): Promise<StepResult> => {
    const r = d.remote(t);
    if (!to) {
      await r.run(`${closeGate(t.app, from)} && ${dropShares(t.app)}`, `close the ${from} gate`);
      return { changed: true, note: `${from} closed; there was no previous slot` };
    }
    // during a canary `to` is its stable slot, serving the rest all along: every request there first
    const { canary } = await routeAllThen(r, t, to, `every request to ${to}`);
    await startSlot(d)(t, to);
    await checkHealth(d)(t, to);
    await converge(r, `open the ${to} gate`, [switchGates(t.app, to, from, activeFile(t.app))]);
    if (canary) await endCanary(d, r, t, to);
    await waitForRouting(d.clock, r, t, to);
    return { changed: true, note: `traffic back on ${to}${canary ? '; the canary share removed' : ''}` };
  };

// ---------------------------------------------------------------- rollback

export interface RollbackChoice extends StepResult {
  to: Slot;
  from?: Slot;
  version: string;
}

/** The slot to go back to: the stopped one beside the live one, if it still holds a release. */
const chooseRollback =
  (d: ActivityDeps) =>
  async (t: AppTarget): Promise<RollbackChoice> => {
    const r = d.remote(t);
    const l = layoutOf(t);
    await checkClaims(r, t, { record: false });
    const active = await readActiveSlot(r, t);
    const to: Slot = active ? otherSlot(active) : 'blue';
    const marker = await r.check(readFile(`${l.jailPath(to)}${appDir(t.app)}/${VERSION_MARKER}`), 'read previous release');
    if (marker.code !== 0 || !(await r.ok(fileExists(l.jailConf(to)), 'check previous slot'))) {
      throw precondition(`there is no previous release to roll back to on ${t.server.host}: the ${to} slot is empty${active ? ` (live: ${active})` : ''}`);
    }
    const version = marker.stdout.trim();
    return { changed: false, to, from: active, version, note: `${to} holds ${shortVersion(version)}${active ? `, ${active} is live` : ''}` };
  };

/** Starts a kept slot again: its jail, its app, at boot. */
const startSlot =
  (d: ActivityDeps) =>
  async (t: AppTarget, slot: Slot): Promise<StepResult> => {
    const s = slotJail(t, slot);
    const changes = await converge(d.remote(t), `start ${s.spec.name}`, [startSlotJail(s)]);
    return stepResult(changes, `${s.spec.name} already running`);
  };

export function createDeployActivities(d: ActivityDeps) {
  return {
    ensureBuildJail: ensureBuildJail(d),
    uploadSource: uploadSource(d),
    buildRelease: buildRelease(d),
    chooseSlot: chooseSlot(d),
    createSlotJail: createSlotJail(d),
    installRelease: installRelease(d),
    writeAppEnv: writeAppEnv(d),
    startApp: startApp(d),
    runMigrations: runMigrations(d),
    checkHealth: checkHealth(d),
    checkRunning: checkRunning(d),
    switchTraffic: switchTraffic(d),
    verifyThroughCaddy: verifyThroughCaddy(d),
    bakeCheck: bakeCheck(d),
    stopSlot: stopSlot(d),
    recordDeploy: recordDeploy(d),
    destroySlot: destroySlot(d),
    restoreTraffic: restoreTraffic(d),
    chooseRollback: chooseRollback(d),
    startSlot: startSlot(d),
  };
}
