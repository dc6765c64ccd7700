// `alcaide remove`: an app taken off its host for good, each part a script part for `script()`.
// What is removed is named by the config (the app's jails, its site, its state directory, its
// claim); the PostgreSQL volume is a host directory outside every jail and is never touched
// (destroyJailTree unmounts it first and refuses while anything is still mounted).
import { caddyValidate, siteFile } from '../caddy/caddyfile';
import { destroyJailTree, jailDisableAtBoot, stopJailWithApp } from './jail';
import { sh } from './sh';
import { serviceReload, serviceRunning } from './system';

/** A jail gone for good: its service and the jail stopped, out of jail_list, root and conf removed; reports it. */
export function removeJail(j: { name: string; path: string; conf: string; stopService: string }): string {
  return [
    sh`if [ -e ${j.path} ] || [ -e ${j.conf} ]; then`,
    stopJailWithApp(j.name, j.conf, j.stopService),
    `  ${jailDisableAtBoot(j.name)}`,
    `  ${destroyJailTree(j.path, j.conf)}`,
    `  ${sh`changed ${`removed ${j.name}`}`}`,
    'fi',
  ].join('\n');
}

/**
 * Caddy stops serving the app: its site file removed and Caddy reloaded (after `caddy validate`
 * of what remains); then its deploy state (the gates among it) removed. Each reported.
 */
export function removeSite(app: string, stateDir: string): string {
  return [
    sh`if [ -e ${siteFile(app)} ]; then`,
    `  ${sh`rm -f ${siteFile(app)}`}`,
    `  if ${serviceRunning('caddy')} >/dev/null 2>&1; then ${caddyValidate()} >&2 && ${serviceReload('caddy')} >&2; fi`,
    `  ${sh`changed ${`removed the site ${siteFile(app)}`}`}`,
    'fi',
    sh`if [ -e ${stateDir} ]; then rm -rf ${stateDir}; changed ${`removed ${stateDir}`}; fi`,
  ].join('\n');
}

/** The claim, released last: with it gone another app may take the subnet, ports and site. */
export const releaseClaim = (file: string) => sh`if [ -e ${file} ]; then rm -f ${file}; changed ${`released ${file}`}; fi`;
