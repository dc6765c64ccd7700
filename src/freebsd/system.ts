// Host facts and rc.conf through sysrc(8), which is idempotent by nature.
import { sh, unless } from './sh';

/** Prints "FreeBSD 14.3-RELEASE amd64". */
export const hostFacts = () => 'uname -s -r -m';

export interface HostFacts {
  os: string;
  release: string;
  major: number;
  arch: string;
}

export function parseHostFacts(out: string): HostFacts | undefined {
  const m = /^(\S+)\s+((\d+)\.\d+-\S+)\s+(\S+)\s*$/.exec(out.trim());
  return m ? { os: m[1]!, release: m[2]!, major: Number(m[3]), arch: m[4]! } : undefined;
}

export const SUPPORTED_ARCH = ['amd64', 'arm64'];

/** Why alcaide cannot deploy to a host that printed `out` for hostFacts(), if it cannot. */
export function hostFactsProblem(host: string, out: string): string | undefined {
  const f = parseHostFacts(out);
  if (!f || f.os !== 'FreeBSD') return `${host} runs "${out.trim()}", not FreeBSD: alcaide deploys to FreeBSD 14 or newer`;
  if (f.major < 14) return `${host} runs FreeBSD ${f.release}; alcaide needs FreeBSD 14 or newer (freebsd-update upgrade -r 14.3-RELEASE)`;
  if (!SUPPORTED_ARCH.includes(f.arch)) return `${host} is ${f.arch}; supported: ${SUPPORTED_ARCH.join(', ')}`;
  return undefined;
}

/** Exit 0 when NAME already has VALUE (sysrc -c: "no change needed"). */
/** `file`: another rc.conf than the host's, e.g. a jail's (sysrc -f). */
export const sysrcIs = (name: string, value: string, file?: string) =>
  file ? sh`sysrc -f ${file} -c ${`${name}=${value}`}` : sh`sysrc -c ${`${name}=${value}`}`;
export const sysrcSet = (name: string, value: string, file?: string) => (file ? sh`sysrc -f ${file} ${`${name}=${value}`}` : sh`sysrc ${`${name}=${value}`}`);
/** Exit 0 when WORD is already in the space-separated list NAME. */
export const sysrcHas = (name: string, word: string) => sh`sysrc -c ${`${name}+=${word}`}`;
export const sysrcAdd = (name: string, word: string) => sh`sysrc ${`${name}+=${word}`}`;
/** Sets NAME=VALUE unless it already is; prints "changed" when it set it. */
export const sysrcEnsure = (name: string, value: string, file?: string) =>
  unless(sysrcIs(name, value, file), `${sysrcSet(name, value, file)} >/dev/null && echo changed`);
/** Adds WORD to the list NAME unless it is there; prints "changed" when it added it. */
export const sysrcEnsureWord = (name: string, word: string) => unless(sysrcHas(name, word), `${sysrcAdd(name, word)} >/dev/null && echo changed`);
export const sysrcRemove = (name: string, word: string) => sh`sysrc ${`${name}-=${word}`}`;

export const kldLoaded = (module: string) => sh`kldstat -q -m ${module}`;
export const kldLoad = (module: string) => sh`kldload ${module}`;

export const serviceRunning = (name: string, jail?: string) => (jail ? sh`service -j ${jail} ${name} status` : sh`service ${name} status`);
export const serviceStart = (name: string, jail?: string) => (jail ? sh`service -j ${jail} ${name} start` : sh`service ${name} start`);
export const serviceReload = (name: string) => sh`service ${name} reload`;
/** Any rc.d action (restart, initdb, …) of a service on the host or, with `jail`, inside that jail. */
export const serviceAction = (name: string, action: string, jail?: string) => (jail ? sh`service -j ${jail} ${name} ${action}` : sh`service ${name} ${action}`);
/** Stops a service whether or not it is enabled (onestop). */
export const serviceStopAny = (name: string, jail?: string) => (jail ? sh`service -j ${jail} ${name} onestop` : sh`service ${name} onestop`);

/**
 * Waits (up to `seconds`) while the host's boot is still running /etc/rc (init(8) runs it as
 * `sh /etc/rc autoboot`): a host that rebooted mid-deploy starts the jails in jail_list as it
 * read it, so a jail stopped and taken off the list before rc.d/jail ran would start again.
 */
export const waitForBoot = (seconds = 300) =>
  `i=0; while pgrep -f '(^|/)sh /etc/rc( |$)' >/dev/null && [ $i -lt ${seconds * 5} ]; do sleep 0.2; i=$((i + 1)); done`;
