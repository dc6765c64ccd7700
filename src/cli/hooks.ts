// Which hooks a deploy or rollback runs (docs/hooks.md): the executables in .alcaide/hooks/ and
// the commands deploy.yml configures, found here when the command starts and passed in the
// workflow input. Bad ones are a usage error (exit 2) before anything remote.
import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors';
import type { Config } from '../config/load';
import { HOOK_NAMES, hookPath, type HookName, type HookPlan, type HookSpec } from '../model/hooks';

export interface FoundHooks {
  hooks: HookSpec[];
  /** files in .alcaide/hooks/ that are no hook (a typo would never run): said, not fatal */
  ignored: string[];
}

/** The hooks of the project: each executable present and each configured remote command. */
export function findHooks(config: Pick<Config, 'root' | 'hooks'>, opts: { fleet?: boolean } = {}): FoundHooks {
  const dir = path.join(config.root, '.alcaide', 'hooks');
  let files: string[] = [];
  try {
    files = readdirSync(dir);
  } catch {
    /* no hooks directory: no executables */
  }
  const ignored = files.filter((f) => !(HOOK_NAMES as readonly string[]).includes(f) && !f.endsWith('.sample') && !f.startsWith('.'));
  const hooks: HookSpec[] = [];
  for (const hook of HOOK_NAMES) {
    const local = files.includes(hook) && isHookFile(path.join(dir, hook), hook);
    const conf = config.hooks[hook] as { secrets: string[]; remote?: string } | undefined;
    const remote = conf?.remote;
    if (remote !== undefined && opts.fleet) {
      throw new UserError(`hooks.${hook}.remote: not available for a deploy to several servers (a hook runs once for the fleet)`, 2);
    }
    if (!local && remote === undefined) continue;
    hooks.push({
      hook,
      local,
      ...(remote !== undefined && { remote }),
      ...(conf?.secrets.length && { secrets: conf.secrets }),
      timeoutMs: config.hooks.timeout,
    });
  }
  return { hooks, ignored };
}

/** A regular file with an execute bit; anything else named like a hook is an error, never silently skipped. */
function isHookFile(file: string, hook: HookName): boolean {
  const rel = hookPath(hook);
  if (!statSync(file).isFile()) throw new UserError(`${rel} is not a file`, 2);
  try {
    accessSync(file, constants.X_OK);
  } catch {
    throw new UserError(`${rel} is not executable: \`chmod +x ${rel}\` (or rename it ${hook}.sample to keep it unused)`, 2);
  }
  return true;
}

/** The hooks of a command: none with --skip-hooks (nothing in .alcaide/hooks/ is even looked at). */
export const hooksFor = (config: Pick<Config, 'root' | 'hooks'>, opts: { skip?: boolean; fleet?: boolean }): FoundHooks =>
  opts.skip ? { hooks: [], ignored: [] } : findHooks(config, opts);

/** What a workflow input carries. */
export const hookPlan = (found: FoundHooks, webUi: string | undefined): HookPlan => ({ hooks: found.hooks, ...(webUi && { webUi }) });
