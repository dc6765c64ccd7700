// `alcaide secrets fetch`: values from the team's vault into the encrypted secrets file, through
// the vault's own CLI on this machine (docs/secrets.md). Every value is read before the file is
// written once; a failure of any read changes nothing. Names are printed, values never.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_CONFIG_FILE, loadConfig, type Config } from '../../config/load';
import type { SecretsStore } from '../../config/secrets';
import { fetchPlan, mergeSecrets, vaultReader, type FetchFlags } from '../../config/secretsFetch';
import { SECRET_ADAPTERS, vaultRunner } from '../../config/secretAdapters';
import { UserError } from '../../errors';
import { globals } from '../context';
import { color, mark } from '../output';

interface FetchOptions extends FetchFlags {
  dryRun?: boolean;
}

/** Each adapter and its REF syntax, wrapped to 100 columns beside the name. */
function adapterTable(): string {
  const indent = Math.max(...SECRET_ADAPTERS.map((a) => a.name.length)) + 4;
  return SECRET_ADAPTERS.map((a) => {
    const lines = [`  ${a.name.padEnd(indent - 2)}`];
    for (const word of `${a.title} (${a.cli}); REF: ${a.ref}`.split(' ')) {
      const last = lines.length - 1;
      if (lines[last]!.length + word.length > 100) lines.push(' '.repeat(indent) + word);
      else lines[last] += (lines[last]!.trim() && lines[last]!.length > indent ? ' ' : '') + word;
    }
    return lines.join('\n');
  }).join('\n');
}

/** deploy.yml when there is one, or when the flags leave the adapter or the names to it. */
function configIfAny(cmd: Command, opts: FetchFlags, keys: string[]): Config | undefined {
  const g = globals(cmd);
  const needed = !opts.adapter || !keys.length;
  if (!needed && !existsSync(path.resolve(g.config ?? DEFAULT_CONFIG_FILE))) return undefined;
  return loadConfig({ configPath: g.config, destination: g.destination });
}

/** Under `alcaide secrets`, with its way to the store and the text of a new file. */
export function registerSecretsFetch(secrets: Command, storeFor: (cmd: Command) => SecretsStore, newFileText: string): void {
  secrets
    .command('fetch [KEY[=REF]...]')
    .description("read secrets from the team's vault (1Password, Bitwarden, AWS, GCP, Doppler, LastPass, a command) into the encrypted file")
    .option('--adapter <name>', 'the vault (below); default: secrets_from.adapter of deploy.yml')
    .option('--account <account>', 'the vault account or profile (see docs/secrets.md per adapter)')
    .option('--from <where>', 'where the secrets are: a vault item, project or folder')
    .option('--command <cmd>', 'for --adapter command: a command printing one JSON object of NAME: value')
    .option('--dry-run', 'read every value and say what would change, write nothing')
    .addHelpText(
      'after',
      `
KEY is the name in the secrets file (and in env.secret); REF is where the vault keeps it when
its name there differs (default: KEY, or secrets_from.keys). With no KEY, every secret of
env.secret (and the PostgreSQL password) is fetched. The vault's CLI runs on this machine and
must be signed in; values come on its stdout, never on a command line, and nothing is written
unless every value was read. Adapters:
${adapterTable()}

Examples:
  $ alcaide secrets fetch --adapter 1password --from app-prod/my_app SECRET_KEY_BASE DATABASE_URL
  $ alcaide -d staging secrets fetch --adapter aws --account staging --from my_app/staging
  $ alcaide secrets fetch --adapter bitwarden "SECRET_KEY_BASE=my_app prod/secret_key_base"
  $ alcaide secrets fetch --adapter doppler --from my_app/prd DATABASE_URL=PG_URL
  $ alcaide secrets fetch --adapter command --command 'sops -d --output-type json secrets.json'
  $ alcaide secrets fetch --dry-run          # secrets_from of deploy.yml, nothing written`,
    )
    .action((keys: string[], opts: FetchOptions, cmd: Command) => {
      const plan = fetchPlan(opts, keys, configIfAny(cmd, opts, keys));
      const read = vaultReader(plan);
      const store = storeFor(cmd);
      // the master key and the file first: a fetch that cannot be stored does not ask the vault
      const text = store.exists() ? store.readText() : newFileText;
      let values: Record<string, string>;
      try {
        values = read(vaultRunner(plan.adapter));
      } catch (e) {
        if (e instanceof UserError) throw new UserError(`${e.message}\nnothing changed in ${store.displayName}`, e.exitCode, e.hint);
        throw e;
      }
      const merged = mergeSecrets(text, values);
      const refOf = (k: string) => plan.request.refs.find((r) => r.key === k)!.ref;
      for (const k of merged.changed)
        console.log(`${mark.ok()} ${k}${opts.dryRun ? ' would be set' : ' set'} ${color.dim(`from ${plan.adapter.title} (${refOf(k)})`)}`);
      for (const k of merged.unchanged) console.log(`${color.dim('·')} ${k} unchanged`);
      if (opts.dryRun) console.log(color.dim(`--dry-run: ${store.displayName} not written`));
      else if (merged.changed.length) {
        store.writeText(merged.text);
        console.log(`${mark.ok()} saved ${store.displayName} (${merged.changed.length} set, ${merged.unchanged.length} unchanged)`);
      } else console.log(`${store.displayName} already holds these values; not written`);
    });
}
