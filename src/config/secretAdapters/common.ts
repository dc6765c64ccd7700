// What the adapters share: usage errors, running one call and reading its stdout exactly.
import { UserError } from '../../errors';
import type { RunVaultCli, SecretAdapter, VaultCall } from './types';

/** A problem with the request itself: exit 2, before any vendor CLI runs. */
export function usageError(adapter: Pick<SecretAdapter, 'name'>, message: string): UserError {
  return new UserError(`--adapter ${adapter.name}: ${message}`, 2);
}

/** The first lines of a failed call's stderr, which say why (vendors print no values there). */
function stderrHead(stderr: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(0, 8);
  return lines.length ? `:\n  ${lines.join('\n  ')}` : '';
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Bytes as text, every byte kept (a BOM too); bytes that are not UTF-8 are refused. */
export function utf8(bytes: Uint8Array, what: string): string {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    throw new UserError(`${what} is not UTF-8 text; a secret must be text`);
  }
}

/** Runs one call and returns its stdout as text; a non-zero exit is a UserError saying why. */
export function runCall(adapter: SecretAdapter, run: RunVaultCli, call: VaultCall): string {
  const out = run(call);
  if (out.status !== 0) {
    throw new UserError(
      `${adapter.title}: \`${call.argv.join(' ')}\` failed (exit ${out.status})${stderrHead(out.stderr)}`,
      1,
      adapter.signedOut.test(out.stderr) ? adapter.signIn : undefined,
    );
  }
  return utf8(out.stdout, `what \`${call.argv.join(' ')}\` printed`);
}

/** A call's stdout parsed as JSON. */
export function runJson(adapter: SecretAdapter, run: RunVaultCli, call: VaultCall): unknown {
  const text = runCall(adapter, run, call);
  try {
    return JSON.parse(text);
  } catch {
    // never quote the output: it may hold values
    throw new UserError(`${adapter.title}: \`${call.argv.join(' ')}\` printed something that is not JSON`);
  }
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A JSON value as the text stored: a string as it is, anything else as JSON (`5`, `true`). */
export function asText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Refs grouped by a container (a vault item, a secret), in first-seen order, so each is read once. */
export function groupBy<T>(items: T[], keyOf: (t: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const t of items) groups.set(keyOf(t), [...(groups.get(keyOf(t)) ?? []), t]);
  return groups;
}
