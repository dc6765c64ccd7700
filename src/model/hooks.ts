// Hooks (docs/hooks.md): executables in the project's .alcaide/hooks/, named for the moment
// they run, and commands configured to run in the live slot. The CLI finds which exist when it
// starts a deploy or rollback and passes them in the workflow input (the workflow stays
// deterministic); each runs as a step of its own (the activity runHook). Pure values.

/** Every hook, in the order a deploy reaches them; Kamal's names where they mean the same. */
export const HOOK_NAMES = ['pre-connect', 'pre-build', 'pre-deploy', 'pre-switch', 'post-switch', 'post-deploy', 'post-rollback'] as const;

export type HookName = (typeof HOOK_NAMES)[number];

/** Hooks that may run a configured command in the new (or rolled-back-to) slot: a slot is live or about to be. */
export const REMOTE_HOOKS = ['pre-switch', 'post-switch', 'post-deploy'] as const satisfies readonly HookName[];

/** The executable of `hook`, relative to the project root. */
export const hookPath = (hook: HookName) => `.alcaide/hooks/${hook}`;

/** A failed pre-* hook stops the run (and undoes what it changed); a failed post-* hook is reported. */
export const isPreHook = (hook: HookName) => hook.startsWith('pre-');

/** What one hook runs, as the CLI found it and deploy.yml configures it. */
export interface HookSpec {
  hook: HookName;
  /** run .alcaide/hooks/HOOK on the worker, cwd the project root */
  local: boolean;
  /** a sh command line run in the slot jail as the app user with the app's environment (REMOTE_HOOKS only) */
  remote?: string;
  /** names of env.secret values the executable gets in its environment (read on the worker) */
  secrets?: string[];
  /** the executable's and the remote command's limit each; killed after it */
  timeoutMs: number;
}

/** What a deploy or rollback input carries about hooks: none with --skip-hooks, absent before hooks existed. */
export interface HookPlan {
  hooks: HookSpec[];
  /** the workflow's Web UI link, when the CLI knows it */
  webUi?: string;
}

/** What a hook's environment says about the run it belongs to (no secret). */
export interface HookContext {
  app: string;
  destination?: string;
  command: 'deploy' | 'rollback';
  /** user@host who started it */
  performer: string;
  /** the hosts it changes */
  hosts: string[];
  version?: string;
  slot?: string;
  previousSlot?: string;
  webUi?: string;
  /** seconds since the run started (post-* hooks) */
  runtimeSeconds?: number;
}

/** The ALCAIDE_* variables of a hook, the ones that have a value; ALCAIDE_RECORDED_AT is the worker's, when it runs. */
export function hookVariables(hook: HookName, c: HookContext): Record<string, string> {
  const vars: Record<string, string | undefined> = {
    ALCAIDE_HOOK: hook,
    ALCAIDE_APP: c.app,
    ALCAIDE_DESTINATION: c.destination,
    ALCAIDE_COMMAND: c.command,
    ALCAIDE_PERFORMER: c.performer,
    ALCAIDE_HOSTS: c.hosts.join(','),
    ALCAIDE_VERSION: c.version,
    ALCAIDE_SLOT: c.slot,
    ALCAIDE_PREVIOUS_SLOT: c.previousSlot,
    ALCAIDE_WEB_UI: c.webUi,
    ALCAIDE_RUNTIME: c.runtimeSeconds === undefined ? undefined : String(c.runtimeSeconds),
  };
  return Object.fromEntries(Object.entries(vars).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''));
}

/** What the runHook activity gets: the hook, what it runs, its ALCAIDE_* variables and the slot a remote command runs in. */
export interface HookRun extends HookSpec {
  vars: Record<string, string>;
  /** the slot jail a remote command runs in */
  slot?: 'blue' | 'green';
}
