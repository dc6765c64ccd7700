// What a workflow carries about an app: validated, non-secret settings only (docs/architecture.md rule 5).
// Secrets stay in the project's encrypted file; activities decrypt them on the worker.
// The pure model: no Node imports and nothing from config loading (src/config/target.ts
// makes a target from a loaded config), so workflows import it freely.

import type { FleetSpec } from './fleet';

export interface SshTargetSpec {
  host: string;
  port: number;
  user: string;
}

/** The host's and each jail's address on the app's subnet. */
export interface SlotAddresses {
  host: string;
  blue: string;
  green: string;
  db: string;
  build: string;
  /** the new build jail while a rebuild proves it */
  buildNext: string;
  /** the slots' IPv6 addresses (see ipv6Of) */
  blue6: string;
  green6: string;
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
  network: SlotAddresses & { iface: string; subnet: string };
  postgresql?: { version: number; volumeHost: string; volumeJail: string; port: number; user: string; database: string; passwordSecret: string };
  healthCheck: { path: string; intervalMs: number; timeoutMs: number };
  drainTimeoutMs: number;
  onFailure: 'compensate' | 'hold';
  holdTimeoutMs: number;
  bakeMs: number;
  /** how many releases each host keeps (retain); absent in targets from before pruning: the default */
  retain?: number;
  release: { name: string; migrate: string | false; migrateBeforeStart: boolean };
  envClear: Record<string, string>;
  envSecretNames: string[];
  /** the fleet this host belongs to, when deploy.yml lists several servers (src/model/fleet.ts) */
  fleet?: FleetSpec;
  /** what this host runs (src/model/fleet.ts hostRunOf); absent: a web host running `bin/RELEASE start` */
  hostRun?: HostRun;
}

/** A host's part in its fleet: served by Caddy or not, and its role's own command and environment. */
export interface HostRun {
  /** in the web role: its Caddy serves the app, its release serves HTTP (PHX_SERVER=true) */
  web: boolean;
  /** run in the release directory under daemon(8) instead of `bin/RELEASE start` (one sh command line) */
  cmd?: string;
  /** extra environment of this host's role, over env.clear */
  env?: Record<string, string>;
}

const VERSION_RE = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/**
 * What is wrong with a version, if anything. Versions are full git commit ids (SHA-1 or
 * SHA-256); they name files and directories on the host, so nothing else may pass, even
 * from a workflow started by hand.
 */
export function versionProblem(version: unknown): string | undefined {
  return typeof version === 'string' && VERSION_RE.test(version)
    ? undefined
    : `version: expected a full git commit id (40 or 64 hex digits), got ${JSON.stringify(version)?.slice(0, 80)}`;
}

/** A commit id as people read it: its first 12 hex digits. */
export const shortVersion = (version: string) => version.slice(0, 12);

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
