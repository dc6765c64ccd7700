// -H/--hosts and -R/--roles: which of the app's hosts a command acts on.
import type { FleetHost } from '../model/fleet';
import { UserError } from '../errors';

const list = (v: string | undefined) =>
  v === undefined
    ? undefined
    : v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);

/**
 * The hosts named by -H (a host, or a label every host carrying it) and -R (roles), both when
 * both are given; config order. A name that matches nothing is exit 2, with what there is.
 */
export function selectHosts(hosts: readonly FleetHost[], sel: { hosts?: string; roles?: string }): FleetHost[] {
  const names = list(sel.hosts);
  const roles = list(sel.roles);
  if (names?.length === 0) throw new UserError('-H/--hosts: expected one or more hosts or labels, comma-separated', 2);
  if (roles?.length === 0) throw new UserError('-R/--roles: expected one or more roles, comma-separated', 2);
  const labels = [...new Set(hosts.flatMap((h) => h.labels))];
  const allRoles = [...new Set(hosts.flatMap((h) => h.roles))];
  for (const n of names ?? []) {
    if (!hosts.some((h) => h.host === n) && !labels.includes(n)) {
      throw new UserError(
        `-H/--hosts: no server or label "${n}" in deploy.yml (servers: ${hosts.map((h) => h.host).join(', ')}${labels.length ? `; labels: ${labels.join(', ')}` : ''})`,
        2,
      );
    }
  }
  for (const r of roles ?? []) {
    if (!allRoles.includes(r)) throw new UserError(`-R/--roles: no role "${r}" in deploy.yml (roles: ${allRoles.join(', ')})`, 2);
  }
  const picked = hosts.filter((h) => (!names || names.some((n) => n === h.host || h.labels.includes(n))) && (!roles || roles.some((r) => h.roles.includes(r))));
  if (!picked.length)
    throw new UserError(`-H ${sel.hosts} -R ${sel.roles}: no host is both (${hosts.map((h) => `${h.host}: ${h.roles.join(',')}`).join('; ')})`, 2);
  return picked;
}
