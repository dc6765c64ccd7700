// `alcaide secrets fetch`: values read from a team's vault by an adapter (src/config/secretAdapters)
// into the encrypted secrets file, all of them or none (docs/secrets.md). The request comes from
// the flags, over deploy.yml's secrets_from; nothing here prints or writes a value.
import { UserError } from '../errors';
import type { Config } from './load';
import { ENV_KEY_RE } from './schema';
import { parseSecretsText, secretNamesOf, secretValueProblem, setSecretInText } from './secrets';
import { secretAdapter, SECRET_ADAPTER_NAMES, type FetchRequest, type RunVaultCli, type SecretAdapter, type SecretRef } from './secretAdapters';

export interface FetchFlags {
  adapter?: string;
  account?: string;
  from?: string;
  command?: string;
}

export type SecretsFrom = NonNullable<Config['secrets_from']>;

export interface FetchPlan {
  adapter: SecretAdapter;
  request: FetchRequest;
}

/** A KEY[=REF] argument; REF defaults to what deploy.yml's keys map says, else KEY. */
function parseArg(arg: string, refs: Record<string, string>): SecretRef {
  const eq = arg.indexOf('=');
  const key = eq < 0 ? arg : arg.slice(0, eq);
  if (!ENV_KEY_RE.test(key)) throw new UserError(`${JSON.stringify(key)} is not a valid secret name (letters, digits, "_", not starting with a digit)`, 2);
  return { key, ref: eq < 0 ? (refs[key] ?? key) : arg.slice(eq + 1) };
}

/** What a REF may not be whatever the vault: empty, an option to its CLI, or more than one line. */
function refProblem({ key, ref }: SecretRef): string | undefined {
  if (!ref) return `${key}: an empty reference`;
  if (ref.startsWith('-')) return `${key}=${ref}: a reference may not start with "-" (the vault's CLI would read it as an option)`;
  // eslint-disable-next-line no-control-regex
  if (/[\0-\x1f\x7f]/.test(ref)) return `${key}: a reference may not hold control characters`;
  return undefined;
}

/**
 * The adapter and the request: flags win; deploy.yml's secrets_from supplies what they leave out
 * when it names the same adapter (or none is given); with no KEY arguments, every secret the
 * config names (env.secret, the PostgreSQL password) and those of secrets_from.keys.
 */
export function fetchPlan(flags: FetchFlags, args: string[], config?: Pick<Config, 'env' | 'accessories' | 'secrets_from'>): FetchPlan {
  const name = flags.adapter ?? config?.secrets_from?.adapter;
  if (!name) throw new UserError(`name the vault: --adapter NAME (one of ${SECRET_ADAPTER_NAMES.join(', ')}) or secrets_from in deploy.yml`, 2);
  const adapter = secretAdapter(name);
  const configured = config?.secrets_from;
  const from: Partial<SecretsFrom> = configured?.adapter === adapter.name ? configured : {};
  const keys = from.keys ?? {};
  const wanted = args.length ? args : config ? [...new Set([...secretNamesOf(config), ...Object.keys(keys)])] : [];
  if (!wanted.length) throw new UserError('nothing to fetch: name the secrets (KEY or KEY=REF), or list them in env.secret', 2);
  const refs = wanted.map((a) => parseArg(a, keys));
  const problems = refs.map(refProblem).filter((p): p is string => p !== undefined);
  const seen = new Set<string>();
  for (const r of refs) {
    if (seen.has(r.key)) problems.push(`${r.key} is named twice`);
    seen.add(r.key);
  }
  const request: FetchRequest = { refs, account: flags.account ?? from.account, from: flags.from ?? from.from, command: flags.command ?? from.command };
  if (request.account !== undefined && !adapter.account) problems.push(`--adapter ${adapter.name} takes no --account`);
  if (request.from !== undefined && !adapter.from) problems.push(`--adapter ${adapter.name} takes no --from`);
  if (request.command !== undefined && adapter.name !== 'command') problems.push(`--command is for --adapter command`);
  if (problems.length) throw new UserError(problems.join('; '), 2);
  return { adapter, request };
}

/**
 * What reads every value and checks each: the request is checked now (exit 2 before any CLI
 * runs); a failure of any read throws, so nothing is written from half a fetch.
 */
export function vaultReader(plan: FetchPlan): (run: RunVaultCli) => Record<string, string> {
  const read = plan.adapter.prepare(plan.request);
  return (run) => {
    const values = read(run);
    for (const { key } of plan.request.refs) {
      if (typeof values[key] !== 'string') throw new UserError(`${plan.adapter.title} gave no value for ${key}`);
      const problem = secretValueProblem(key, values[key]);
      if (problem) throw new UserError(problem, 2);
    }
    return values;
  };
}

/** The secrets text with the values set, and which of them change it. */
export function mergeSecrets(text: string, values: Record<string, string>): { text: string; changed: string[]; unchanged: string[] } {
  const current = parseSecretsText(text).secrets;
  const changed = Object.keys(values).filter((k) => current[k] !== values[k]);
  const unchanged = Object.keys(values).filter((k) => current[k] === values[k]);
  return { text: changed.reduce((t, k) => setSecretInText(t, k, values[k]!), text), changed, unchanged };
}
