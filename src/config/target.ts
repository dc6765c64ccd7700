// A loaded configuration as the target a workflow carries (src/model/target.ts).
import type { AppTarget, SshTargetSpec } from '../model/target';
import type { Config } from './load';
import { hostRunOf, type FleetSpec } from '../model/fleet';

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
  const oneHostRun = c.hosts.length === 1 ? hostRunOf(c.hosts[0]!) : undefined;
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
      ? {
          version: pg.version,
          volumeHost: volumeHost!,
          volumeJail: volumeJail!,
          port: pg.port,
          user: pg.user,
          database: pg.database,
          passwordSecret: pg.password_secret,
        }
      : undefined,
    healthCheck: { path: c.health_check.path, intervalMs: c.health_check.interval, timeoutMs: c.health_check.timeout },
    drainTimeoutMs: c.drain_timeout,
    onFailure: c.on_failure,
    holdTimeoutMs: c.hold_timeout,
    bakeMs: c.bake,
    retain: c.retain,
    release: { name: c.release.name, migrate: c.release.migrate, migrateBeforeStart: c.release.migrate_before_start },
    envClear: c.env.clear,
    envSecretNames: c.env.secret,
    // a fleet of one is the plain target it always was (its histories stay as they were)
    fleet: c.hosts.length > 1 ? fleetSpec(c) : undefined,
    // a fleet's hosts each get theirs (onHost); one server may still set web's cmd or env
    ...(oneHostRun && { hostRun: oneHostRun }),
  };
}

function fleetSpec(c: Config): FleetSpec {
  return {
    hosts: c.hosts,
    primaryRole: c.primary_role,
    buildHost: c.build.host ?? c.server.host,
    boot: { limit: c.boot.limit, waitMs: c.boot.wait, prepareAtOnce: c.boot.prepare },
  };
}
