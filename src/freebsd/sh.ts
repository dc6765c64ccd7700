// The one shell-quoting function (docs/architecture.md rule 6). Every value interpolated into a command
// goes through `q`, usually via the `sh` template tag; only already-built commands are
// spliced in raw.

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes a value for FreeBSD /bin/sh: bare when it is plainly safe, else single-quoted. */
export function q(value: string | number): string {
  const s = String(value);
  if (s === '') return "''";
  return SAFE.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A command fragment that is already safe shell, spliced in as is. */
export class Raw {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}
export const raw = (text: string) => new Raw(text);

/** Template tag: quotes every interpolated value except Raw fragments and lists (each item quoted). */
export function sh(strings: TemplateStringsArray, ...values: Array<string | number | Raw | Array<string | number>>): string {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += v instanceof Raw ? v.text : Array.isArray(v) ? v.map(q).join(' ') : q(v);
    out += strings[i + 1]!;
  });
  return out;
}

/** Runs `cmd` only when `check` fails: the check-then-act shape of every idempotent step. */
export function unless(check: string, cmd: string): string {
  return `${check} || { ${cmd}; }`;
}

/**
 * One remote command that checks and acts for a whole step (one SSH round trip instead of
 * one per check and per action): `set -e`, then the parts. A part reports what it changed
 * with `changed NOTE` (a line "+ NOTE" on stdout); everything else it prints goes to stderr.
 */
export function script(...parts: string[]): string {
  return ['set -e', `changed() { echo "+ $*"; }`, ...parts].join('\n');
}

/** The notes a script printed with `changed`. */
export function changesOf(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('+ '))
    .map((l) => l.slice(2).trim());
}
