// A slot jail's life, each stage one script (for `script()` with `putFunction()`): created for
// a version (a stale root from another version removed first), started, stopped, removed.
import { SLOT_MARKER } from './layout';
import { ensureAppUser, killAppIn, stopAppIfInstalled } from './app';
import { putText } from './files';
import {
  convergeJail,
  destroyJailTree,
  jailEnableAtBoot,
  jailEnabledAtBoot,
  jailDisableAtBoot,
  startJailUnlessRunning,
  stopJailWithApp,
  type JailSpec,
} from './jail';
import { sh } from './sh';
import { serviceRunning, serviceStart, waitForBoot } from './system';

export interface SlotJail {
  app: string;
  spec: JailSpec;
  conf: string;
  templateDir: string;
}

const stopApp = (s: SlotJail) => stopAppIfInstalled(s.app, s.spec.name, s.spec.path);

/**
 * A slot jail runs one unprivileged release, which needs none of jail(8)'s allowances: each
 * parameter and its source in docs/security.md. (mount.devfs with devfs_ruleset 4 comes with
 * every jail.conf alcaide writes.) Defaults are written out so jail.conf says what holds.
 */
export const SLOT_JAIL_PARAMS: Record<string, string | true> = {
  enforce_statfs: '2',
  'children.max': '0',
  'allow.noraw_sockets': true,
  'allow.noset_hostname': true,
  securelevel: '3',
};

/** A running jail for `version` with the app user in it: the slot marker names the version its root was made for. */
export function createSlot(s: SlotJail, version: string): string {
  const marker = `${s.spec.path}${SLOT_MARKER}`;
  return [
    sh`if [ "$(cat ${marker} 2>/dev/null)" != ${version} ] && [ -e ${s.spec.path} ]; then`,
    stopJailWithApp(s.spec.name, s.conf, stopApp(s)),
    `  ${destroyJailTree(s.spec.path, s.conf)}`,
    `  ${sh`changed ${`removed stale ${s.spec.name}`}`}`,
    'fi',
    convergeJail(s.spec, s.conf, s.templateDir),
    ensureAppUser(s.app, s.spec.path),
    putText(marker, '0644', `${version}\n`),
  ].join('\n');
}

/** The old slot after a deploy: app and jail stopped, not started at boot, kept on disk. */
export function stopSlotJail(s: SlotJail): string {
  return [waitForBoot(), stopJailWithApp(s.spec.name, s.conf, stopApp(s)), `${jailDisableAtBoot(s.spec.name)}`].join('\n');
}

/** A kept slot back in service: its jail, at boot, its app. */
export function startSlotJail(s: SlotJail): string {
  const name = s.spec.name;
  return [
    startJailUnlessRunning(name, s.conf),
    `if ! { ${jailEnabledAtBoot(name)}; } >/dev/null 2>&1; then ${jailEnableAtBoot(name)}; fi`,
    `if ! ${serviceRunning(s.app, name)} >/dev/null 2>&1; then ${serviceStart(s.app, name)} >&2; ${sh`changed ${`started ${s.app}`}`}; fi`,
  ].join('\n');
}

/**
 * The app started in its slot jail unless it runs. rc.subr refuses to start a service that
 * runs ("already running?", exit 1): only then is its status asked, so the first start costs
 * one service(8) run.
 */
export function startAppIn(s: Pick<SlotJail, 'app' | 'spec'>): string {
  return [
    `if ${serviceStart(s.app, s.spec.name)} >&2; then ${sh`changed ${`started under daemon(8) in ${s.spec.name}`}`}`,
    `else ${serviceRunning(s.app, s.spec.name)} >/dev/null; fi`,
  ].join('\n');
}

/**
 * A slot removed for good (a failed deploy's undo): stopped, not at boot, root and conf gone.
 * A slot that never took traffic has no request to drain: its app is killed, not stopped.
 */
export function destroySlot(s: SlotJail, o: { tookTraffic: boolean }): string {
  const app = o.tookTraffic ? stopApp(s) : killAppIn(s.app, s.spec.name);
  return [
    stopJailWithApp(s.spec.name, s.conf, app),
    jailDisableAtBoot(s.spec.name),
    destroyJailTree(s.spec.path, s.conf),
    sh`changed ${`${s.spec.name} removed`}`,
  ].join('\n');
}
