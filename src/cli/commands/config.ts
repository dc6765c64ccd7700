import type { Command } from 'commander';
import { stringify } from 'yaml';
import { formatDuration } from '../../model/duration';
import type { Config } from '../../config/load';
import { secretNamesOf, SecretsStore } from '../../config/secrets';
import { UserError } from '../../errors';
import { configFor } from '../context';

/** The merged config as the user wrote it (durations readable), secrets shown only by name and state. */
export function presentConfig(c: Config, secretState: (name: string) => string): Record<string, unknown> {
  const { root: _root, files, addresses, destination, ...rest } = c;
  const secretNames = secretNamesOf(c);
  return {
    ...(destination ? { destination } : {}),
    files,
    ...rest,
    health_check: { ...c.health_check, interval: formatDuration(c.health_check.interval), timeout: formatDuration(c.health_check.timeout) },
    drain_timeout: formatDuration(c.drain_timeout),
    hold_timeout: formatDuration(c.hold_timeout),
    bake: formatDuration(c.bake),
    addresses,
    secrets: Object.fromEntries(secretNames.map((n) => [n, secretState(n)])),
  };
}

export function registerConfig(program: Command): void {
  program
    .command('config')
    .description('show the merged, validated configuration (secret values redacted)')
    .option('--json', 'print JSON instead of YAML')
    .addHelpText('after', `\nExamples:\n  $ alcaide config\n  $ alcaide -d staging config --json`)
    .action((opts: { json?: boolean }, cmd: Command) => {
      const c = configFor(cmd);
      const store = new SecretsStore(c.root, c.destination);
      let state: (n: string) => string;
      try {
        const secrets = store.exists() ? store.read() : {};
        state = (n) => (n in secrets ? '[redacted]' : `missing from ${store.displayName}`);
      } catch (e) {
        const why = e instanceof UserError ? e.message : String(e);
        state = () => `unknown (${why})`;
      }
      const out = presentConfig(c, state);
      process.stdout.write(opts.json ? `${JSON.stringify(out, null, 2)}\n` : stringify(out));
    });
}
