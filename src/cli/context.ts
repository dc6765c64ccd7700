import type { Command } from 'commander';
import { loadConfig, type Config } from '../config/load';
import { UserError } from '../errors';
import { selectHosts } from './hosts';
import { resolveCodecKey } from '../temporal/codec';
import { resolveTemporalSettings, type TemporalSettings } from '../temporal/settings';

export interface GlobalOptions {
  config?: string;
  destination?: string;
  verbose?: boolean;
  /** -H: comma-separated hosts or labels */
  hosts?: string;
  /** -R: comma-separated roles */
  roles?: string;
}

export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

/** The project's config, with -H/-R checked against its hosts and roles (an unknown name is exit 2). */
export function configFor(cmd: Command): Config & { selected?: string[] } {
  const g = globals(cmd);
  const config = loadConfig({ configPath: g.config, destination: g.destination });
  const selected = g.hosts !== undefined || g.roles !== undefined ? selectHosts(config.hosts, g).map((h) => h.host) : undefined;
  return { ...config, selected };
}

/**
 * The config of a command that acts on one host at a time: the only host, or the one -H/-R
 * picks (`server` is then that host). A fleet without a pick is exit 2 before anything remote.
 */
export function oneHostConfigFor(cmd: Command, what: string): Config {
  const config = configFor(cmd);
  const pick = pickedHosts(config);
  if (pick.length !== 1) {
    throw new UserError(
      `${what} acts on one host at a time: ${config.selected ? `-H/-R picked ${pick.length}` : `deploy.yml lists ${pick.length}`} (${pick.map((h) => h.host).join(', ')}); pick one with -H HOST`,
      2,
    );
  }
  return onHost(config, pick[0]!);
}

/** The hosts -H/-R picked, or every host. */
export function pickedHosts(config: Config & { selected?: string[] }): Config['hosts'] {
  return config.selected ? config.hosts.filter((h) => config.selected!.includes(h.host)) : config.hosts;
}

/** The config narrowed to one of its hosts (`server` is that host). */
export function onHost(config: Config, h: Config['hosts'][number]): Config {
  return { ...config, server: { host: h.host, user: h.user, port: h.port }, hosts: [h] };
}

/** Temporal settings plus the payload codec key of the project (or of the environment without one). */
export function temporalFor(config?: Config): TemporalSettings {
  return { ...resolveTemporalSettings(config?.temporal), codecKey: resolveCodecKey(config?.root ?? process.cwd()) };
}

/**
 * The config of the nightly build jail rebuild: a fleet builds on its build host only, so that
 * is the host whose build jail is rebuilt (or the one -H/-R picks).
 */
export function buildHostConfigFor(cmd: Command, what: string): Config {
  const config = configFor(cmd);
  return config.hosts.length < 2 || config.selected ? oneHostConfigFor(cmd, what) : onBuildHost(config);
}

/** A fleet's config narrowed to its build host. */
export function onBuildHost(config: Config): Config {
  return onHost(
    config,
    config.hosts.find((h) => h.host === (config.build.host ?? config.server.host))!,
  );
}

/**
 * The config of a command that acts on a whole fleet (a deploy: one version on every host) or on
 * the one host of a one-host app: -H/-R are refused for a fleet (exit 2).
 */
export function fleetConfigFor(cmd: Command, what: string, why = 'so it ends on one version'): Config {
  const config = configFor(cmd);
  if (config.hosts.length > 1 && config.selected) {
    throw new UserError(`${what} acts on every host of the fleet (${config.hosts.map((h) => h.host).join(', ')}), ${why}: -H/-R do not apply`, 2);
  }
  return config.hosts.length > 1 ? config : oneHostConfigFor(cmd, what);
}
