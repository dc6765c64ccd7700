// What `alcaide releases` prints (a block per host, a line per kept release) and which kept
// release `alcaide rollback --to VERSION` means: a sha prefix, a ref it was deployed as, or the
// commit git resolves VERSION to — kept on every host, else exit 2 before anything changes.
import { UserError } from '../errors';
import type { KeptRelease } from '../freebsd/releases';
import type { HostReleases } from '../host/releases';
import { color } from './output';

const when = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/:\d\d\.\d+Z$/, ' UTC');
const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;
/** A ref as recorded, on one line and short (it is what someone typed). */
const refOf = (r: KeptRelease) => (r.ref ? r.ref.replace(/[^\x20-\x7e]/g, '?').slice(0, 40) : '');

/** Where a release is on its host: the live slot, the kept (stopped) slot, or only its files. */
export function placeOf(r: KeptRelease, live?: string): string {
  if (r.slot) return r.slot === live ? `live (${r.slot})` : `kept slot (${r.slot})`;
  return r.artifact ? 'artifact' : 'source only (never built)';
}

export function renderHostReleases(h: HostReleases): string {
  if (!h.releases.length) return `${h.host}\n  no release kept on this host`;
  const rows = h.releases.map((r) => [
    r.version.slice(0, 12),
    refOf(r) || '—',
    r.artifact ? mib(r.artifact.size) : '—',
    r.artifact ? when(r.artifact.mtimeMs) : '—',
    r.deployedAt ? when(Date.parse(r.deployedAt)) : 'never',
    placeOf(r, h.live),
  ]);
  const head = ['VERSION', 'REF', 'SIZE', 'BUILT', 'LAST DEPLOYED', 'WHERE'];
  const widths = head.map((x, i) => Math.max(x.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `  ${r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i]!) : c)).join('  ')}`;
  return [h.host, color.dim(line(head)), ...rows.map(line)].join('\n');
}

export type KeptChoice =
  /** already served on every host: nothing to do */
  | { version: string; how: 'live' }
  /** in the kept slot on every host: a plain rollback */
  | { version: string; how: 'kept-slot' }
  /** an artifact on every host: installed into the idle slot without a build */
  | { version: string; how: 'artifact'; ref: string };

/**
 * The kept release `arg` names on these hosts. `gitSha`: the commit git resolves `arg` to in the
 * project, if it does. A name that matches nothing, or several, or a release some host lacks,
 * is exit 2 with what each host keeps.
 */
export function chooseKept(arg: string, hosts: readonly HostReleases[], gitSha?: string): KeptChoice {
  const all = hosts.flatMap((h) => h.releases);
  const versions = [...new Set(all.map((r) => r.version))];
  const isPrefix = /^[0-9a-f]{4,64}$/.test(arg);
  let matches = versions.filter((v) => (isPrefix && v.startsWith(arg)) || v === gitSha);
  if (!matches.length) matches = [...new Set(all.filter((r) => r.ref === arg).map((r) => r.version))];
  const kept = () => `\n${hosts.map(renderHostReleases).join('\n\n')}`;
  if (matches.length > 1)
    throw new UserError(`--to ${arg} names several kept releases (${matches.map((v) => v.slice(0, 12)).join(', ')}): give more of the sha${kept()}`, 2);
  const version = matches[0] ?? gitSha;
  if (!version) throw new UserError(`--to ${arg}: no kept release and no commit of the project by that name; the hosts keep:${kept()}`, 2);
  const on = hosts.map((h) => ({ h, r: h.releases.find((r) => r.version === version) }));
  if (on.every(({ h, r }) => r?.slot && r.slot === h.live)) return { version, how: 'live' };
  if (on.every(({ h, r }) => r?.slot && r.slot !== h.live)) return { version, how: 'kept-slot' };
  const missing = on.filter(({ r }) => !r?.artifact).map(({ h }) => h.host);
  if (missing.length)
    throw new UserError(
      `release ${version.slice(0, 12)} is not kept on ${missing.join(', ')}: a rollback installs a kept release, it does not build one (\`alcaide deploy --ref ${arg}\` does); the hosts keep:${kept()}`,
      2,
    );
  // what the deploy log records it as: the name it was known by, else the one given
  const ref = on.find(({ r }) => r?.ref)?.r?.ref ?? (isPrefix ? version : arg);
  return { version, how: 'artifact', ref };
}
