// `aliases:` in deploy.yml: a name for an alcaide command line (`console: run bin/my_app
// remote`), run as `alcaide console`. The words are split as a shell would split them — quotes
// and backslashes — but nothing else of a shell applies: no variables, globs, pipes or `;`.
import { parse } from 'shell-quote';

/** alcaide's own commands (src/cli/main.ts registers them; test/unit/aliases.test.ts keeps the two lists equal): an alias cannot take their names. */
export const CLI_COMMANDS = [
  'version',
  'init',
  'config',
  'docs',
  'secrets',
  'doctor',
  'setup',
  'deploy',
  'rollback',
  'releases',
  'abort',
  'retry',
  'approve',
  'promote',
  'status',
  'logs',
  'run',
  'history',
  'schedule',
  'remove',
  'maintenance',
  'pause',
  'resume',
  'worker',
  'codec-server',
  'help',
] as const;

/** alcaide's global options that take a value (src/cli/main.ts): the command is the first other word. */
export const GLOBAL_OPTIONS_WITH_VALUE = ['-c', '--config', '-d', '--destination', '-H', '--hosts', '-R', '--roles'];

/** Where the command word is in an alcaide command line (after the global options), or -1. */
export function commandIndex(words: readonly string[]): number {
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (GLOBAL_OPTIONS_WITH_VALUE.includes(w)) i++;
    else if (w === '--' || !w.startsWith('-')) return w === '--' ? -1 : i;
  }
  return -1;
}

export const ALIAS_NAME_RE = /^[a-z][a-z0-9_-]{0,30}$/;

/** The words of an alias, or what is wrong with it. */
export function aliasWords(line: string): { words: string[] } | { error: string } {
  let parsed: ReturnType<typeof parse>;
  try {
    // variables stay as written: `$HOME` is two words' worth of text, not the operator's home
    parsed = parse(line, (name) => `$${name}`);
  } catch (e) {
    return { error: `an alcaide command line (${(e as Error).message})` };
  }
  const special = parsed.find((w) => typeof w !== 'string');
  if (special) {
    const what = 'op' in special ? (special.op === 'glob' ? `the glob ${special.pattern}` : `"${special.op}"`) : 'a comment';
    return { error: `an alcaide command line without shell syntax (${what}: aliases run alcaide, not a shell; quote it)` };
  }
  const words = parsed as string[];
  const at = commandIndex(words);
  if (at < 0) return { error: 'an alcaide command line such as "run bin/my_app remote"' };
  if (!(CLI_COMMANDS as readonly string[]).includes(words[at]!))
    return { error: `an alcaide command line starting with one of alcaide's commands ("${words[at]}" is none: ${CLI_COMMANDS.join(', ')})` };
  return { words };
}
