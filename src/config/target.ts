// What a workflow carries about an app: validated, non-secret settings only (docs/architecture.md rule 5).
// Secrets stay in the project's encrypted file; activities decrypt them on the worker.
// No Node imports here: workflows import these types.
import type { Config } from './load';

export interface SshTargetSpec {
  host: string;
  port: number;
  user: string;
}

export interface AppTarget {
  app: string;
  destination?: string;
  /** where deploy.yml and .alcaide/ live on the worker's machine */
  projectRoot: string;
  server: SshTargetSpec;
  ssh: { keys: string[]; knownHosts?: string; proxyJump?: SshTargetSpec; trustNewHost: boolean };
  domain?: string;
  freebsdVersion: string;
  basePath: string;
  appPort: number;
  /** loopback ports of Caddy's per-slot servers */
  proxyPorts: { blue: number; green: number };
  network: { iface: string; subnet: string; host: string; blue: string; green: string; db: string; build: string; buildNext: string; blue6: string; green6: string };
  postgresql?: { version: number; volumeHost: string; volumeJail: string; port: number; user: string; database: string; passwordSecret: string };
  healthCheck: { path: string; intervalMs: number; timeoutMs: number };
  drainTimeoutMs: number;
  onFailure: 'compensate' | 'hold';
  holdTimeoutMs: number;
  bakeMs: number;
  release: { name: string; migrate: string | false; migrateBeforeStart: boolean };
  envClear: Record<string, string>;
  envSecretNames: string[];
}

const VERSION_RE = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/**
 * What is wrong with a version, if anything. Versions are full git commit ids (SHA-1 or
 * SHA-256); they name files and directories on the host, so nothing else may pass, even
 * from a workflow started by hand.
 */
export function versionProblem(version: unknown): string | undefined {
  return typeof version === 'string' && VERSION_RE.test(version) ? undefined : `version: expected a full git commit id (40 or 64 hex digits), got ${JSON.stringify(version)?.slice(0, 80)}`;
}

export function assertVersion(version: unknown): void {
  const p = versionProblem(version);
  if (p) throw new Error(p);
}

/**
 * One workflow id per app and destination for deploys, rollbacks and build jail rebuilds:
 * Temporal runs one workflow per id at a time, so the id is the app's lock.
 */
export function appWorkflowId(t: { app: string; destination?: string }): string {
  return `alcaide-${t.app}${t.destination ? `-${t.destination}` : ''}`;
}

/**
 * Loopback ports of Caddy's two per-slot servers, derived from the app name so apps on one
 * host do not collide (overridable with proxy.ports).
 */
export function defaultProxyPorts(app: string): { blue: number; green: number } {
  let h = 0;
  for (const c of app) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  const blue = 20000 + (h % 10000) * 2;
  return { blue, green: blue + 1 };
}

export function parseProxyJump(spec: string): SshTargetSpec {
  const m = /^(?:([^@]+)@)?([^:]+)(?::(\d+))?$/.exec(spec)!;
  return { user: m[1] ?? 'root', host: m[2]!, port: m[3] ? Number(m[3]) : 22 };
}

export function toAppTarget(c: Config, opts: { trustNewHost?: boolean } = {}): AppTarget {
  const pg = c.accessories.postgresql;
  const [volumeHost, volumeJail] = pg ? pg.volume.split(':') : [];
  return {
    app: c.app,
    destination: c.destination,
    projectRoot: c.root,
    server: { ...c.server },
    ssh: {
      keys: c.ssh.keys,
      knownHosts: c.ssh.known_hosts,
      proxyJump: c.ssh.proxy_jump ? parseProxyJump(c.ssh.proxy_jump) : undefined,
      trustNewHost: opts.trustNewHost ?? false,
    },
    domain: c.domain,
    freebsdVersion: c.app_jail.freebsd_version,
    basePath: c.app_jail.base_path,
    appPort: c.app_jail.port,
    proxyPorts: c.proxy.ports ? { blue: c.proxy.ports[0]!, green: c.proxy.ports[1]! } : defaultProxyPorts(c.app),
    network: { iface: c.network.interface, subnet: c.network.subnet, ...c.addresses },
    postgresql: pg
      ? { version: pg.version, volumeHost: volumeHost!, volumeJail: volumeJail!, port: pg.port, user: pg.user, database: pg.database, passwordSecret: pg.password_secret }
      : undefined,
    healthCheck: { path: c.health_check.path, intervalMs: c.health_check.interval, timeoutMs: c.health_check.timeout },
    drainTimeoutMs: c.drain_timeout,
    onFailure: c.on_failure,
    holdTimeoutMs: c.hold_timeout,
    bakeMs: c.bake,
    release: { name: c.release.name, migrate: c.release.migrate, migrateBeforeStart: c.release.migrate_before_start },
    envClear: c.env.clear,
    envSecretNames: c.env.secret,
  };
}
