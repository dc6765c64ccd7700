// Shared by setup and deploy: idempotent file, rc.conf and jail helpers, each one remote
// command that checks, then acts only where needed.
import { createHash } from 'node:crypto';
import type { AppTarget } from '../src/model/target';
import { putFunction, putStdin } from '../src/freebsd/files';
import { convergeJail, type JailSpec } from '../src/freebsd/jail';
import { singleFlight } from '../src/freebsd/flight';
import { jailHostName, type HostsEntry } from '../src/freebsd/hosts';
import { layout, type Layout, type Slot } from '../src/freebsd/layout';
import { changesOf, script } from '../src/freebsd/sh';
import { sysrcEnsure, sysrcEnsureWord } from '../src/freebsd/system';
import { withHeartbeat, type Remote } from './remote';

export function layoutOf(t: AppTarget): Layout {
  return layout({ app: t.app, basePath: t.basePath, freebsdVersion: t.freebsdVersion });
}

/** The name a slot is reached by on the host (Caddy's upstream, the health check): both its addresses. */
export const slotHost = (t: AppTarget, slot: Slot) => jailHostName(layoutOf(t).jailName(slot));

/** The app's lines in /etc/hosts: each slot's name with its IPv6 and IPv4 address. */
export function slotHostsEntries(t: AppTarget): HostsEntry[] {
  return (['blue', 'green'] as const).map((s) => ({ name: slotHost(t, s), addresses: [t.network[`${s}6`], t.network[s]] }));
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Runs one step's script (its checks and actions in one command); returns what it changed. */
export async function converge(r: Remote, label: string, parts: string[], o: { stdin?: string; timeoutMs?: number; flight?: string } = {}): Promise<string[]> {
  return changesOf(await convergeOutput(r, label, parts, o));
}

/** converge's whole output: its parts may also print what they read (lines without the "+ " of a change). */
export async function convergeOutput(
  r: Remote,
  label: string,
  parts: string[],
  o: { stdin?: string; timeoutMs?: number; flight?: string } = {},
): Promise<string> {
  const s = script(putFunction(), ...parts);
  return (await withHeartbeat(() => r.run(o.flight ? singleFlight(o.flight, s) : s, label, o))).stdout;
}

/** Writes a file only when its content differs: one command, the content on stdin. */
export async function ensureFile(r: Remote, path: string, content: string, mode: string, label: string): Promise<boolean> {
  return (await converge(r, label, [putStdin(path, mode, 'wrote')], { stdin: content })).length > 0;
}

/** The build jail (and, during a rebuild, its successor build_next): same parameters, own name, path and address. */
export function buildJailSpec(t: AppTarget, role: 'build' | 'build_next'): JailSpec {
  const l = layoutOf(t);
  const path = l.jailPath(role);
  return {
    name: l.jailName(role),
    path,
    hostname: l.jailName(role),
    iface: t.network.iface,
    ip: role === 'build' ? t.network.build : t.network.buildNext,
    params: { 'allow.raw_sockets': true },
    // Linux binaries some asset tool chains ship (Tailwind's standalone CLI) need these.
    mounts: [`linprocfs ${path}/compat/linux/proc linprocfs rw 0 0`, `linsysfs ${path}/compat/linux/sys linsysfs rw 0 0`],
  };
}

/** Sets rc.conf NAME=VALUE unless it already is (`file`: another rc.conf, e.g. a jail's). */
export async function ensureSysrc(r: Remote, name: string, value: string, file?: string): Promise<boolean> {
  return (await r.run(sysrcEnsure(name, value, file), `set ${name}`)).stdout.includes('changed');
}

export async function ensureSysrcWord(r: Remote, name: string, word: string): Promise<boolean> {
  return (await r.run(sysrcEnsureWord(name, word), `add ${word} to ${name}`)).stdout.includes('changed');
}

/** A jail cloned from the template, configured, running, started at boot: one command. */
export async function ensureJail(r: Remote, l: Layout, spec: JailSpec, conf: string, o: { atBoot?: boolean } = {}): Promise<string[]> {
  return converge(r, `create ${spec.name}`, [convergeJail(spec, conf, l.templateDir, o)], { timeoutMs: 15 * 60_000 });
}
