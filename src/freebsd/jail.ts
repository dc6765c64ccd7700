// jail(8), jls(8), jexec(8) and jail.conf(5) for one jail per file in /etc/jail.conf.d.
import { makeDirs, putText, removeTree } from './files';
import { raw, sh } from './sh';
import { TEMPLATE_MARKER } from './template';
import { jailConsoleLog } from './layout';

export interface JailSpec {
  name: string;
  path: string;
  hostname: string;
  iface: string;
  ip: string;
  /** an IPv6 address as well (slot jails: a stock Phoenix app binds the IPv6 wildcard) */
  ip6?: string;
  /** extra boolean params (allow.raw_sockets, …) and key = value params (sysvshm = new, …) */
  params?: Record<string, string | true>;
  /** fstab lines mounted with the jail (nullfs volumes, linprocfs) */
  mounts?: string[];
}

// Config validation already restricts every name and path; this is the last line of defence
// for the jail.conf syntax itself (a quote or `$` would change its meaning).
function confValue(v: string): string {
  if (!/^[A-Za-z0-9 _@%+=:,./|-]*$/.test(v)) throw new Error(`unsafe value for jail.conf: ${JSON.stringify(v)}`);
  return `"${v}"`;
}

export function renderJailConf(j: JailSpec): string {
  const lines = [
    `path = ${confValue(j.path)};`,
    `host.hostname = ${confValue(j.hostname)};`,
    `ip4.addr = ${confValue(`${j.iface}|${j.ip}/32`)};`,
    ...(j.ip6 ? [`ip6.addr = ${confValue(`${j.iface}|${j.ip6}/128`)};`] : []),
    'mount.devfs;',
    'devfs_ruleset = 4;',
    'exec.clean;',
    `exec.start = ${confValue('/bin/sh /etc/rc')};`,
    `exec.stop = ${confValue('/bin/sh /etc/rc.shutdown jail')};`,
    `exec.consolelog = ${confValue(jailConsoleLog(j.name))};`,
    ...Object.entries(j.params ?? {}).map(([k, v]) => (v === true ? `${k};` : `${k} = ${confValue(v)};`)),
    ...(j.mounts ?? []).map((m) => `mount += ${confValue(m)};`),
    'persist;',
  ];
  return `# Managed by alcaide; rewritten on every deploy.\n${j.name} {\n${lines.map((l) => `  ${l}`).join('\n')}\n}\n`;
}

/** Exit 0 when the jail is running. */
export const jailRunning = (name: string) => sh`jls -j ${name} jid >/dev/null 2>&1`;

/** Starts the jail from its own conf file (rc's `service jail start` exits 0 even on failure). */
export const jailStart = (name: string, conf: string) => sh`jail -f ${conf} -c ${name}`;

export const jailStop = (name: string, conf: string) => sh`jail -f ${conf} -r ${name}`;

/** Started at boot: jail_enable plus the name in jail_list (rc.d/jail then reads jail.conf.d/NAME.conf). */
/** sysrc(8) takes several assignments: one run sets (or checks) both. */
export const jailEnableAtBoot = (name: string) => sh`sysrc -q jail_enable=YES jail_list+=${name} >/dev/null`;
export const jailEnabledAtBoot = (name: string) => sh`sysrc -c jail_enable=YES jail_list+=${name}`;
export const jailDisableAtBoot = (name: string) => sh`sysrc -q jail_list-=${name} >/dev/null`;

/** Runs a command inside the jail with a clean login environment. */
export const jexec = (name: string, command: string) => sh`jexec -l ${name} /bin/sh -c ${command}`;

/** Runs a command inside the jail as `user`, a user of the jail (-U: its ids, groups and login class; its home as cwd). */
export const jexecAs = (name: string, user: string, command: string) => sh`jexec -l -U ${user} ${name} /bin/sh -c ${command}`;

/** A copy of the base template: tar keeps flags, modes and hard links. */
export const cloneTemplate = (template: string, path: string) => sh`mkdir -p ${path} && tar -cf - -C ${template} . | tar -xpf - -C ${path}`;

const mountsBelow = (path: string) => sh`mount -p | awk -v p=${`${path}/`} 'index($2, p) == 1 { print $2 }'`;

/**
 * Unmounts whatever is still mounted below the jail (deepest first), clears schg flags, removes
 * it. When anything is still mounted it stops with exit 1 before removing a file: `rm -rf`
 * must never reach into a mounted volume (the database's data is one).
 */
export const destroyJailTree = (path: string, conf: string) =>
  `for m in $(${mountsBelow(path)} | sort -r); do umount -f "$m"; done; ` +
  `if [ -n "$(${mountsBelow(path)})" ]; then ${sh`echo ${`${path}: file systems still mounted below it; not removed`}`} >&2; exit 1; fi; ` +
  `${removeTree(path)} && ${sh`rm -f ${conf}`}`;

export const copyResolvConf = (path: string) => sh`if [ -f /etc/resolv.conf ]; then cp /etc/resolv.conf ${`${path}/etc/resolv.conf`}; fi`;

/** Script part: starts the jail unless it runs (or `known` — a shell test — says it cannot be running); reports it. */
export const startJailUnlessRunning = (name: string, conf: string, known = '') =>
  `if ${known ? `${known} || ` : ''}! ${jailRunning(name)}; then ${jailStart(name, conf)} >&2; ${sh`changed ${`started ${name}`}`}; fi`;

/** Script part: exits 3 when the jail has no conf file (it was never set up). */
export const requireJailConf = (conf: string) => sh`[ -f ${conf} ] || exit 3`;

/**
 * Script part (for `script()` with `putFunction()`): the jail's conf file as rendered, its root
 * cloned from the template (atomically: temp dir, then rename; the template marker comes with
 * it), running, started at boot unless `atBoot` is false. Each change is reported; a jail
 * that is already so costs one check each and changes nothing.
 */
export function convergeJail(spec: JailSpec, conf: string, templateDir: string, o: { atBoot?: boolean } = {}): string {
  const tmp = `${spec.path}.tmp`;
  // mount points of the jail's fstab lines must exist before it starts
  const mountPoints = (spec.mounts ?? []).map((m) => m.split(/\s+/)[1]!.replace(spec.path, tmp));
  return [
    '_wrote= _created=',
    putText(conf, '0644', renderJailConf(spec), `wrote ${conf}`),
    sh`if [ ! -f ${`${spec.path}/${TEMPLATE_MARKER}`} ]; then`,
    `  ${removeTree(tmp)}`,
    `  ${cloneTemplate(templateDir, tmp)}${mountPoints.length ? ` && ${makeDirs(mountPoints)}` : ''}`,
    `  ${sh`mv -f ${tmp} ${spec.path}`}`,
    `  ${sh`changed ${`created ${spec.path}`}`}; _wrote=1; _created=1`,
    'fi',
    `if [ -n "$_wrote" ]; then ${copyResolvConf(spec.path)}; fi`,
    // a jail whose root was just created cannot be running: no need to ask
    startJailUnlessRunning(spec.name, conf, '[ -n "$_created" ]'),
    ...(o.atBoot === false
      ? []
      : [
          `if ! { ${jailEnabledAtBoot(spec.name)}; } >/dev/null 2>&1; then ${jailEnableAtBoot(spec.name)}; ${sh`changed ${`${spec.name} starts at boot`}`}; fi`,
        ]),
  ].join('\n');
}

/**
 * Script part: stops the jail (and the app in it first, if its rc.d script is installed) when
 * it runs; reports "stopped NAME".
 */
export function stopJailWithApp(name: string, conf: string, stopApp: string): string {
  return [`if ${jailRunning(name)}; then`, `  ${stopApp} >&2 || true`, `  ${jailStop(name, conf)} >&2`, `  ${sh`changed ${`stopped ${name}`}`}`, 'fi'].join(
    '\n',
  );
}

export { raw };
