// Turns zod issues into one line each: "FILE:LINE: key.path: expected X, got Y".
import type { z } from 'zod';

export interface Located {
  /** file and line where the key path is written, if it is written anywhere */
  locate(path: PropertyKey[]): string | undefined;
  /** the raw (pre-validation) value at a path */
  valueAt(path: PropertyKey[]): unknown;
}

const HINTS: Record<string, string> = {
  'accessories.postgresql.password':
    'passwords are secrets: store it with `alcaide secrets set POSTGRES_PASSWORD` and name it in accessories.postgresql.password_secret',
};

export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list (${v.length} item${v.length === 1 ? '' : 's'})`;
  if (typeof v === 'object') return 'a mapping';
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

export function pathToString(path: PropertyKey[]): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i ? '.' : ''}${String(k)}`)).join('') || '(top level)';
}

function levenshtein(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      // a swap of two neighbours ("hots" for "host") counts as one edit
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  return d[a.length]![b.length]!;
}

export function suggest(key: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const dist = levenshtein(key, k);
    if (dist < bestD) [best, bestD] = [k, dist];
  }
  return best !== undefined && bestD <= (key.length <= 3 ? 1 : 2) ? best : undefined;
}

/** Known keys of the strict object at `path`, used for "did you mean" suggestions. */
export type KnownKeys = (path: PropertyKey[]) => string[];

export function formatIssues(issues: z.core.$ZodIssue[], src: Located, knownKeys: KnownKeys): string[] {
  const out: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const path = [...issue.path, key];
        const p = pathToString(path);
        const guess = suggest(key, knownKeys(issue.path));
        const hint = HINTS[p] ?? (guess ? `did you mean "${guess}"?` : `known keys here: ${knownKeys(issue.path).join(', ')}`);
        out.push(`${prefix(src, path)}${p}: unknown key (${hint})`);
      }
      continue;
    }
    if (issue.code === 'invalid_key') {
      const key = issue.path[issue.path.length - 1];
      out.push(
        `${prefix(src, issue.path)}${pathToString(issue.path.slice(0, -1))}: ${JSON.stringify(String(key))} is not a valid name (expected letters, digits and "_", not starting with a digit)`,
      );
      continue;
    }
    // Unions report their nested failures; the union's own message says what was expected.
    const value = src.valueAt(issue.path);
    const expectedText = issue.message.startsWith('Invalid input') ? 'a different value' : issue.message;
    const got = value === undefined ? 'it is missing' : `got ${describeValue(value)}`;
    out.push(`${prefix(src, issue.path)}${pathToString(issue.path)}: expected ${expectedText}, ${got}`);
  }
  return [...new Set(out)];
}

function prefix(src: Located, path: PropertyKey[]): string {
  const where = src.locate(path);
  return where ? `${where}: ` : '';
}
