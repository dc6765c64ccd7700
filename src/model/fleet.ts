// A fleet: the hosts an app runs on, their roles, and how they switch (deploy.yml's servers,
// roles, primary_role, build and boot). Pure values, carried by workflows; a single `server:`
// is a fleet of one web host.
import type { AppTarget, HostRun, SshTargetSpec } from './target';

export interface FleetHost extends SshTargetSpec {
  labels: string[];
  /** the roles this host runs the release in (`web`: behind its own Caddy) */
  roles: string[];
  /** its one role's own command and environment (roles.NAME.cmd/env; a host takes them from one role at most) */
  cmd?: string;
  env?: Record<string, string>;
}

export type BootLimit = { count: number } | { percent: number };

export interface FleetSpec {
  hosts: FleetHost[];
  /** migrations run once, on this role's first host, before any host switches */
  primaryRole: string;
  /** the host that builds the release; every other host gets a copy */
  buildHost: string;
  /** prepareAtOnce: hosts preparing their next slot at the same time (absent in runs started before it existed: all) */
  boot: { limit: BootLimit; waitMs: number; prepareAtOnce?: number };
}

export const WEB_ROLE = 'web';

/** The fleet a target belongs to: the one it names, or a fleet of its own server alone. */
export function fleetOf(t: AppTarget): FleetSpec {
  return (
    t.fleet ?? {
      hosts: [
        {
          ...t.server,
          labels: [],
          roles: [WEB_ROLE],
          ...(t.hostRun?.cmd !== undefined && { cmd: t.hostRun.cmd }),
          ...(t.hostRun?.env && { env: t.hostRun.env }),
        },
      ],
      primaryRole: WEB_ROLE,
      buildHost: t.server.host,
      boot: { limit: { count: 1 }, waitMs: 0 },
    }
  );
}

/** The same app's target on another host of its fleet. */
export function onHost(t: AppTarget, host: FleetHost): AppTarget {
  const { hostRun: _fleetWide, ...rest } = t;
  const run = hostRunOf(host);
  return { ...rest, server: { host: host.host, user: host.user, port: host.port }, ...(run && { hostRun: run }) };
}

/**
 * What a host runs, when it is not what every host ran before roles had a command: a host in
 * no web role (no Caddy site, no PHX_SERVER), a role's own command or environment.
 */
export function hostRunOf(h: Pick<FleetHost, 'roles' | 'cmd' | 'env'>): HostRun | undefined {
  const web = h.roles.includes(WEB_ROLE);
  if (web && h.cmd === undefined && h.env === undefined) return undefined;
  return { web, ...(h.cmd !== undefined && { cmd: h.cmd }), ...(h.env !== undefined && { env: h.env }) };
}

/** A target's host is a web host unless it says otherwise (targets from before roles had commands). */
export const isWebHost = (t: AppTarget): boolean => t.hostRun?.web ?? true;

/** The app's target on each of its hosts that serves through Caddy (one host: that host). */
export const webHostsOf = (t: AppTarget): AppTarget[] =>
  fleetOf(t)
    .hosts.map((h) => onHost(t, h))
    .filter(isWebHost);

/** The hosts of a role, in the order the config lists the servers. */
export const hostsInRole = (f: FleetSpec, role: string): FleetHost[] => f.hosts.filter((h) => h.roles.includes(role));

/** The host migrations run on: the primary role's first. */
export const primaryHost = (f: FleetSpec): FleetHost => hostsInRole(f, f.primaryRole)[0]!;

/** How many hosts switch at once: a count, or a share of `n` rounded up (never 0). */
export function batchSize(limit: BootLimit, n: number): number {
  const size = 'count' in limit ? limit.count : Math.ceil((n * limit.percent) / 100);
  return Math.max(1, Math.min(n, size));
}

/** `hosts` in switch batches of boot.limit, in config order. */
export function batches<T>(hosts: readonly T[], limit: BootLimit): T[][] {
  const size = batchSize(limit, hosts.length);
  const out: T[][] = [];
  for (let i = 0; i < hosts.length; i += size) out.push(hosts.slice(i, i + size));
  return out;
}

/** The id of a per-host child of a fleet workflow: the parent's id and the host. */
export const hostWorkflowId = (parentId: string, host: string): string => `${parentId}@${host}`;

/** What a preflight found on one host (activities/preflight.ts). */
export interface HostCheck {
  host: string;
  /** "14.3-RELEASE", when the host runs a FreeBSD alcaide supports */
  release?: string;
  major?: number;
  arch?: string;
  /** what stops this host, one line each (empty: it is ready) */
  problems: string[];
}

/**
 * Why the fleet cannot go on, one line per host and one for the fleet as a whole: a release
 * built once runs only on hosts of one FreeBSD major version and architecture.
 */
export function fleetProblems(checks: readonly HostCheck[]): string[] {
  const out = checks.flatMap((c) => c.problems.map((p) => `${c.host}: ${p}`));
  const kinds = new Set(checks.filter((c) => c.major !== undefined).map((c) => `FreeBSD ${c.major} ${c.arch}`));
  if (kinds.size > 1) {
    out.push(
      `the hosts must share one FreeBSD major version and architecture (one build runs on all): ${checks
        .filter((c) => c.major !== undefined)
        .map((c) => `${c.host} ${c.release} ${c.arch}`)
        .join(', ')}`,
    );
  }
  return out;
}
