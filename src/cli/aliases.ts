// `alcaide NAME …` where NAME is one of deploy.yml's aliases: the alias's words stand in for
// NAME, the rest of the line follows them (`alcaide console` → `alcaide run bin/my_app remote`).
import { commandIndex, CLI_COMMANDS } from '../config/aliases';

/**
 * argv (node, script, words…) with an alias expanded, or as it was. `aliasesOf` reads the
 * project's aliases for the global options given (-c, -d): only called when the command word
 * is not one of alcaide's own, so a broken deploy.yml never stands in the way of `alcaide init`.
 */
export function expandAlias(argv: readonly string[], aliasesOf: (globals: string[]) => Record<string, string[]> | undefined): string[] {
  const words = argv.slice(2);
  const at = commandIndex(words);
  const name = words[at];
  if (name === undefined || (CLI_COMMANDS as readonly string[]).includes(name)) return [...argv];
  const alias = aliasesOf(words.slice(0, at))?.[name];
  return alias ? [...argv.slice(0, 2), ...words.slice(0, at), ...alias, ...words.slice(at + 1)] : [...argv];
}
