// `alcaide remove`: an app taken off its host for good, each part a script part for `script()`.
// What is removed is named by the config (the app's jails, its site, its state directory, its
// claim); the PostgreSQL volume is a host directory outside every jail and is never touched
// (destroyJailTree unmounts it first and refuses while anything is still mounted).
import { accessLogDir, siteFile } from './layout';
import { caddyValidate } from './caddy';
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
 * Caddy stops serving the app: its site file set aside (out of the import glob), what remains
 * validated and Caddy reloaded, then the file removed; when Caddy rejects what remains the site
 * is put back and the script fails. A run cut short after the set-aside finishes on the next.
 * Then its deploy state (the gates among it) is removed. Each reported.
 */
export function removeSite(app: string, stateDir: string): string {
  return [
    removeSiteFile(app),
    sh`if [ -e ${stateDir} ]; then rm -rf ${stateDir}; changed ${`removed ${stateDir}`}; fi`,
    // the slots' access logs the site wrote (a canary's figures)
    sh`if [ -e ${accessLogDir(app)} ]; then rm -rf ${accessLogDir(app)}; changed ${`removed ${accessLogDir(app)}`}; fi`,
  ].join('\n');
}

/** removeSite's first half: the site file alone (a host that left the web role keeps its deploy state). */
export function removeSiteFile(app: string): string {
  const site = siteFile(app);
  const aside = `${site}.removing`;
  return [
    sh`if [ -e ${site} ]; then mv -f ${site} ${aside}; fi`,
    sh`if [ -e ${aside} ]; then`,
    `  if ${serviceRunning('caddy')} >/dev/null 2>&1; then`,
    `    if ! ${caddyValidate()} >&2; then ${sh`mv -f ${aside} ${site}; echo ${`Caddy rejects its configuration without ${site}; the site was put back`}`} >&2; exit 1; fi`,
    `    ${serviceReload('caddy')} >&2`,
    '  fi',
    `  ${sh`rm -f ${aside}`}`,
    `  ${sh`changed ${`removed the site ${site}`}`}`,
    'fi',
  ].join('\n');
}

/** The claim, released last: with it gone another app may take the subnet, ports and site. */
export const releaseClaim = (file: string) => sh`if [ -e ${file} ]; then rm -f ${file}; changed ${`released ${file}`}; fi`;
