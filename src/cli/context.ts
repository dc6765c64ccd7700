import type { Command } from 'commander';
import { loadConfig, type Config } from '../config/load';
import { resolveCodecKey } from '../temporal/codec';
import { resolveTemporalSettings, type TemporalSettings } from '../temporal/settings';

export interface GlobalOptions {
  config?: string;
  destination?: string;
  verbose?: boolean;
}

export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

export function configFor(cmd: Command): Config {
  const g = globals(cmd);
  return loadConfig({ configPath: g.config, destination: g.destination });
}

/** Temporal settings plus the payload codec key of the project (or of the environment without one). */
export function temporalFor(config?: Config): TemporalSettings {
  return { ...resolveTemporalSettings(config?.temporal), codecKey: resolveCodecKey(config?.root ?? process.cwd()) };
}
