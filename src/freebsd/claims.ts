// Claims: what each app (and destination) on a host holds there — its jail names, its jail
// subnet (and the slots' IPv6 addresses derived from it), Caddy's loopback ports for its slots, its site address — one small file per app in
// one place for the whole host (apps may have different base paths; jail names and addresses
// are host-wide all the same). Setup and deploy read them all first and refuse, before changing anything, an
// app or destination that would take what another holds (a staging deploy on the production
// box would otherwise stop production's jails). pf's NAT covers every claimed subnet.
import type { AppTarget } from '../model/target';
import { siteAddress } from '../caddy/caddyfile';
import { q } from './sh';
import { CLAIMS_DIR } from './layout';

export interface Claim {
  app: string;
  destination?: string;
  subnet: string;
  proxyPorts: [number, number];
  site: string;
  /** the slots' IPv6 addresses (derived from the subnet's, so they cannot clash on their own): for the operator reading the file */
  ip6?: string[];
}

/** One file per app and destination (neither name holds a "."), so two never share one. */
export const claimFile = (c: Pick<Claim, 'app' | 'destination'>, dir = CLAIMS_DIR) => `${dir}/${c.app}${c.destination ? `.${c.destination}` : ''}.claim`;

export function claimOf(t: AppTarget): Claim {
  return {
    app: t.app,
    ...(t.destination ? { destination: t.destination } : {}),
    subnet: t.network.subnet,
    proxyPorts: [t.proxyPorts.blue, t.proxyPorts.green],
    site: siteAddress(t.domain),
    ip6: [t.network.blue6, t.network.green6],
  };
}

export const describeClaim = (c: Pick<Claim, 'app' | 'destination'>) => `${c.app}${c.destination ? ` (destination ${c.destination})` : ''}`;

export function renderClaim(c: Claim): string {
  return [
    `# alcaide: ${describeClaim(c)} holds its jails, subnet, ports and site on this host.`,
    `# Remove this file only when that app is gone from the host.`,
    `app=${c.app}`,
    `destination=${c.destination ?? ''}`,
    `subnet=${c.subnet}`,
    `proxy_ports=${c.proxyPorts.join(' ')}`,
    `site=${c.site}`,
    ...(c.ip6 ? [`ip6=${c.ip6.join(' ')}`] : []),
    '',
  ].join('\n');
}

const SEPARATOR = '--- alcaide claim';

/** Prints every claim file, each after a separator line with its path; nothing when there are none. */
export function readClaims(dir = CLAIMS_DIR): string {
  return `for f in ${q(dir)}/*.claim; do [ -f "$f" ] || continue; echo "${SEPARATOR} $f"; cat "$f"; done`;
}

/** The claims `readClaims` printed; a file that does not parse is skipped (it claims nothing we can tell). */
export function parseClaims(out: string): Claim[] {
  const claims: Claim[] = [];
  for (const chunk of out.split(`${SEPARATOR} `).slice(1)) {
    const kv = new Map<string, string>();
    for (const line of chunk.split('\n').slice(1)) {
      const m = /^([a-z0-9_]+)=(.*)$/.exec(line);
      if (m) kv.set(m[1]!, m[2]!);
    }
    const ports = (kv.get('proxy_ports') ?? '').split(' ').map(Number);
    const app = kv.get('app');
    const subnet = kv.get('subnet');
    if (!app || !subnet || ports.length !== 2 || ports.some((p) => !Number.isInteger(p))) continue;
    const destination = kv.get('destination');
    const ip6 = kv.get('ip6')?.split(' ').filter(Boolean);
    claims.push({
      app,
      ...(destination ? { destination } : {}),
      subnet,
      proxyPorts: [ports[0]!, ports[1]!],
      site: kv.get('site') ?? '',
      ...(ip6?.length ? { ip6 } : {}),
    });
  }
  return claims;
}

const sameOwner = (a: Claim, b: Claim) => a.app === b.app && (a.destination ?? '') === (b.destination ?? '');

function range(cidr: string): [number, number] {
  const [ip, bits] = cidr.split('/');
  const base = ip!.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(bits));
  const start = base - (base % size);
  return [start, start + size];
}

export function subnetsOverlap(a: string, b: string): boolean {
  const [a0, a1] = range(a);
  const [b0, b1] = range(b);
  return a0 < b1 && b0 < a1;
}

/** What `own` would take from the other claims on the host: one line each, empty when nothing. */
export function claimConflicts(own: Claim, claims: Claim[]): string[] {
  const problems: string[] = [];
  for (const other of claims) {
    if (sameOwner(own, other)) continue;
    const who = describeClaim(other);
    if (other.app === own.app) problems.push(`the jails ${own.app}_blue, ${own.app}_green and ${own.app}_build are ${who}'s`);
    if (subnetsOverlap(own.subnet, other.subnet)) problems.push(`the jail subnet ${own.subnet} overlaps ${who}'s ${other.subnet}`);
    const ports = own.proxyPorts.filter((p) => other.proxyPorts.includes(p));
    if (ports.length) problems.push(`Caddy's slot port${ports.length > 1 ? 's' : ''} ${ports.join(', ')} ${ports.length > 1 ? 'are' : 'is'} ${who}'s`);
    if (own.site === other.site) problems.push(`the site ${own.site} is ${who}'s`);
  }
  return problems;
}

/** What to change in the config to share the host, for the conflicts found. */
export function claimHint(problems: string[]): string {
  const hints: string[] = [];
  if (problems.some((p) => p.startsWith('the jails '))) hints.push('its own `app` name (in its deploy.DEST.yml, with `release.name` set to the mix release)');
  if (problems.some((p) => p.includes(' subnet '))) hints.push('its own `network.subnet`');
  if (problems.some((p) => p.includes(' port'))) hints.push('its own `proxy.ports`');
  if (problems.some((p) => p.startsWith('the site '))) hints.push('its own `domain`');
  return `to share this host, give this app ${hints.join(', ')}; or deploy it to another host`;
}

/** Every subnet claimed on the host (its own included), in order, once each: pf NATs them all. */
export function claimedSubnets(own: Claim, claims: Claim[]): string[] {
  return [...new Set([own.subnet, ...claims.filter((c) => !sameOwner(own, c)).map((c) => c.subnet)])].sort();
}
