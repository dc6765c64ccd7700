// The deploy.yml schema. Every value that later becomes part of a shell command or a
// jail/file name is restricted here to a safe charset (docs/architecture.md rule 6), so host-command
// builders can rely on it. Messages are phrased as "what was expected"; the formatter in
// errors.ts adds the key path and what was found.
import { aliasWords, ALIAS_NAME_RE, CLI_COMMANDS } from './aliases';
import { z } from 'zod';
import { parseDuration } from '../model/duration';
import { DEFAULT_BASE_PATH } from '../freebsd/layout';
import { DEFAULT_RETAIN } from '../freebsd/releases';
import { DEFAULT_ROLLOUT, stepsProblem } from '../model/canary';
import type { SlotAddresses } from '../model/target';
import { WEB_ROLE } from '../model/fleet';
import { HOOK_NAMES, REMOTE_HOOKS, type HookName } from '../model/hooks';
import { DEFAULT_ADDRESS, DEFAULT_NAMESPACE, DEFAULT_TASK_QUEUE } from '../temporal/settings';
import { SECRET_ADAPTER_NAMES } from './secretAdapters';

// Each key's `.meta({ description })` is what `alcaide docs` and docs/configuration.md say
// about it; a key without a schema default may name what it falls back to (`computedDefault`).
declare module 'zod' {
  interface GlobalMeta {
    computedDefault?: string;
  }
}

const expected = (what: string) => ({ error: what });
/** A string that must not be empty; `what` it is, for both errors. */
const nonEmpty = (what: string) => z.string(expected(what)).min(1, expected(what));

export const APP_NAME_RE = /^[a-z][a-z0-9_]{0,29}$/;
export const ENV_KEY_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HOSTNAME_RE = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV4_RE = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const IPV6_RE = /^[0-9A-Fa-f:]+(?:%[A-Za-z0-9]+)?$/;
const USER_RE = /^[a-z_][a-z0-9_-]{0,31}$/;
const ABS_PATH_RE = /^\/(?:[A-Za-z0-9._-]+\/?)*$/;
const FREEBSD_VERSION_RE = /^(\d+)\.(\d+)-(RELEASE|STABLE|BETA\d+|RC\d+)$/;
const HTTP_PATH_RE = /^\/[A-Za-z0-9._~/-]*(?:\?[A-Za-z0-9._~=&-]*)?$/;
const DB_IDENT_RE = /^[a-z_][a-z0-9_]{0,62}$/;

const int = (what: string, min: number, max: number) => z.number(expected(what)).int(expected(what)).min(min, expected(what)).max(max, expected(what));

const port = (fallback: number) => int('a port number (integer 1-65535)', 1, 65535).default(fallback);

const hostName = z
  .string(expected('a hostname or IP address'))
  .refine((v) => HOSTNAME_RE.test(v) || IPV4_RE.test(v) || (v.includes(':') && IPV6_RE.test(v)), expected('a hostname or IP address'));

const absPath = (what = 'an absolute path of letters, digits, ".", "_", "-" and "/"') =>
  z
    .string(expected(what))
    .regex(ABS_PATH_RE, expected(what))
    .refine((p) => !p.split('/').includes('..'), expected(`${what}, without ".." segments`));

const secretName = z
  .string(expected('a secret name (letters, digits, "_"; not starting with a digit)'))
  .regex(ENV_KEY_RE, expected('a secret name (letters, digits, "_"; not starting with a digit)'));

/**
 * Durations are written as "500ms", "10s", "2m", "1h" or a number of seconds; stored as ms.
 * Their defaults are given as written in deploy.yml (`.prefault`), which `alcaide docs` shows.
 */
const duration = (what = 'a duration such as "500ms", "10s", "2m" or a number of seconds') =>
  z.union([z.string(), z.number()], expected(what)).transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: what });
      return z.NEVER;
    }
    return ms;
  });

/** What deploy.yml says of one hook (docs/hooks.md): the secrets it gets, and for some a command in the slot. */
const hookSchema = (hook: HookName) => {
  const remote = (REMOTE_HOOKS as readonly string[]).includes(hook);
  return z
    .strictObject(
      {
        secrets: z
          .array(secretName, expected('a list of secret names'))
          .default([])
          .meta({ description: `names in \`env.secret\` that .alcaide/hooks/${hook} gets in its environment (no other secret reaches a hook)` }),
        ...(remote && {
          remote: nonEmpty('a sh command line')
            .optional()
            .meta({
              description: `a command run in the ${hook === 'pre-switch' ? 'new slot before traffic moves' : 'new live slot'}, as the app user with the app's environment, such as \`bin/my_app eval 'MyApp.Release.warm()'\``,
            }),
        }),
      },
      expected(remote ? 'a mapping with secrets and remote' : 'a mapping with secrets'),
    )
    .optional()
    .meta({ description: `the ${hook} hook` });
};

/** The longest drain: one attempt of the drain's activity (workflows/saga.ts, the 'slow' class). */
const DRAIN_TIMEOUT_MAX_MS = 60 * 60_000;

/** The longest a hook may run: the hook activity's own limit is longer (workflows/saga.ts). */
const HOOK_TIMEOUT_MAX_MS = 60 * 60_000;

const hooksSchema = z
  .strictObject(
    {
      timeout: duration()
        .refine((ms) => ms >= 1000 && ms <= HOOK_TIMEOUT_MAX_MS, expected('a duration from 1s to 1h'))
        .prefault('5m')
        .meta({ description: 'how long each hook may run (its executable, then its remote command, each) before it is stopped and fails' }),
      ...(Object.fromEntries(HOOK_NAMES.map((h) => [h, hookSchema(h)])) as { [H in HookName]: ReturnType<typeof hookSchema> }),
    },
    expected(`a mapping with timeout and hook names (${HOOK_NAMES.join(', ')})`),
  )
  .prefault({})
  .meta({ description: 'hooks: executables in .alcaide/hooks/ and commands in the slot, each a step of the deploy or rollback (docs/hooks.md)' });

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}
export function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

const subnet = z.string(expected('an IPv4 subnet in CIDR form such as "10.0.0.0/24"')).refine((v) => {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(v);
  if (!m || !IPV4_RE.test(m[1]!)) return false;
  const bits = Number(m[2]);
  if (bits < 8 || bits > 29) return false;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return (ipv4ToInt(m[1]!) & ~mask) >>> 0 === 0;
}, expected('an IPv4 network address in CIDR form with a prefix of /8 to /29, such as "10.0.0.0/24" (host bits zero)'));

const sshUser = z.string(expected('a user name')).regex(USER_RE, expected('a user name (lowercase letters, digits, "_", "-")')).default('root');

const serverSchema = z.strictObject(
  {
    host: hostName.meta({ description: "the server's hostname or IP address" }),
    user: sshUser.meta({ description: 'the SSH user' }),
    port: port(22).meta({ description: 'the SSH port' }),
  },
  expected('a mapping with host, user and port'),
);

/** A role or label name: it names child workflows and is typed after -H/--role. */
export const ROLE_RE = /^[a-z][a-z0-9_-]{0,30}$/;
const roleName = (what: string) => z.string(expected(what)).regex(ROLE_RE, expected(`${what} (lowercase letters, digits, "_", "-")`));

/** One host of a fleet: `servers:` entries. */
const fleetServerSchema = z.strictObject(
  {
    host: hostName.meta({ description: "the server's hostname or IP address" }),
    user: sshUser.meta({ description: 'the SSH user' }),
    port: port(22).meta({ description: 'the SSH port' }),
    labels: z.array(roleName('a label'), expected('a list of labels')).default([]).meta({ description: 'words `-H` picks this server by, besides its host' }),
  },
  expected('a mapping with host, user, port and labels'),
);

/** `boot.limit`: how many web hosts switch at once, a count or a share of them. */
const bootLimit = z.union([z.number(), z.string()], expected('a number of hosts (such as 2) or a share (such as "25%")')).transform((v, ctx) => {
  const m = typeof v === 'string' ? /^(\d{1,3})%$/.exec(v) : undefined;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 1) return { count: v };
  if (m && Number(m[1]) >= 1 && Number(m[1]) <= 100) return { percent: Number(m[1]) };
  ctx.addIssue({ code: 'custom', message: 'a number of hosts (integer >= 1, such as 2) or a share from 1% to 100% (such as "25%")' });
  return z.NEVER;
});

const postgresSchema = z.strictObject(
  {
    version: int('a PostgreSQL major version (integer 13-17)', 13, 17).default(16).meta({ description: 'the PostgreSQL major version (13-17)' }),
    volume: z
      .string(expected('"HOST_PATH:JAIL_PATH", two absolute paths'))
      .refine((v) => {
        const parts = v.split(':');
        return parts.length === 2 && parts.every((p) => ABS_PATH_RE.test(p) && !p.split('/').includes('..'));
      }, expected('"HOST_PATH:JAIL_PATH", two absolute paths'))
      .meta({ description: '`HOST_PATH:JAIL_PATH`: where the data lives on the host, so it survives redeploys' }),
    port: port(5432).meta({ description: 'the port PostgreSQL listens on in its jail' }),
    user: z
      .string(expected('a database role name'))
      .regex(DB_IDENT_RE, expected('a database role name (lowercase letters, digits, "_")'))
      .meta({ description: 'the database role the app connects as' }),
    password_secret: secretName.meta({ description: "the name of the secret (in the secrets file) that holds the role's password" }),
    database: z
      .string(expected('a database name'))
      .regex(DB_IDENT_RE, expected('a database name (lowercase letters, digits, "_")'))
      .meta({ description: 'the database the app uses' }),
  },
  expected('a mapping with version, volume, port, user, password_secret and database'),
);

/** An environment variable ends at a NUL byte, and the env file's `sh` drops one: "a\0b" would reach the app as "ab". */
export const NUL_FREE = 'a value without a NUL byte (no environment variable can hold one)';

const envValue = z
  .union([z.string(), z.number(), z.boolean()], expected('a string, number or boolean'))
  .transform((v) => String(v))
  .refine((v) => !v.includes('\0'), expected(NUL_FREE));

/** `env.clear` and a role's `env`: NAME: value. */
const envRecord = z.record(
  z.string().regex(ENV_KEY_RE, expected('an environment variable name (letters, digits, "_")')),
  envValue,
  expected('a mapping of NAME: value'),
);
const envMap = envRecord.default({});

const ROLE_CMD = 'one command line to run in the release directory, such as \'bin/my_app eval "MyApp.Worker.run()"\' (not empty, one line)';

/** `roles.NAME`: which servers run the release in this role (`web` is served by Caddy), and what they run. */
const roleSchema = z.strictObject(
  {
    hosts: z
      .array(hostName, expected('a list of hosts named in servers'))
      .min(1, expected('at least one host named in servers'))
      .meta({ description: 'the servers (named in `servers`) that run the release in this role' }),
    // instead of `bin/RELEASE start`, under daemon(8) as the app user (src/freebsd/app.ts renderRunner)
    cmd: z
      .string(expected(ROLE_CMD))
      .refine((v) => v.trim() !== '' && !/[\r\n\0]/.test(v), expected(ROLE_CMD))
      .optional()
      .meta({
        description:
          'what this role\'s hosts run under daemon(8), in the release directory: one sh command line, such as `bin/shop eval "Shop.Worker.run()"` (docs/fleets.md)',
        computedDefault: '`bin/RELEASE start`',
      }),
    // over env.clear, on this role's hosts only
    env: envRecord.optional().meta({ description: "`NAME: value` pairs over `env.clear` on this role's hosts (not a name in `env.secret`)" }),
  },
  expected('a mapping with hosts, cmd and env'),
);

export const configSchema = z
  .strictObject(
    {
      app: z
        .string(expected('an app name'))
        .regex(APP_NAME_RE, expected('the mix app name: lowercase letters, digits and "_", starting with a letter, at most 30 characters'))
        .meta({ description: 'the mix app name (`[a-z][a-z0-9_]*`, at most 30 characters); the jails are `APP_blue` and `APP_green`' }),
      // one host (`server:`), or a fleet (`servers:` and optionally `roles:`), never both
      server: serverSchema.optional().meta({ description: 'the FreeBSD server, reached over SSH', computedDefault: 'required unless `servers`' }),
      servers: z
        .array(fleetServerSchema, expected('a list of servers (host, user, port, labels)'))
        .min(1, expected('at least one server'))
        .optional()
        .meta({ description: 'several servers instead of `server`: a list of `host`, `user`, `port` and `labels` (docs/fleets.md)' }),
      roles: z.record(roleName('a role name'), roleSchema, expected('a mapping of role names to { hosts, cmd, env }')).optional().meta({
        description: "which servers run the release in each role, and what they run; `web` (required with `roles`) is served by each host's Caddy",
        computedDefault: '`web`: every server',
      }),
      // migrations run once, on the first host of this role, before any host switches
      primary_role: roleName('a role name').default('web').meta({ description: "migrations run once, on this role's first host, before any host switches" }),
      build: z
        .strictObject(
          // the fleet's one build runs here (default: the first host of the primary role); the
          // release is copied to every other host
          {
            host: hostName
              .optional()
              .meta({ description: 'the one host that builds each release; the others get a copy', computedDefault: "the primary role's first host" }),
          },
          expected('a mapping with host'),
        )
        .prefault({})
        .meta({ description: "where a fleet's release is built" }),
      boot: z
        .strictObject(
          {
            limit: bootLimit.prefault(1).meta({ description: 'how many web hosts switch at once: a count, or a share such as `"25%"`' }),
            wait: duration().prefault(0).meta({ description: 'the pause between two batches of hosts' }),
            // how many hosts prepare their next slot at once (jail, install, start, health)
            prepare: int('a number of hosts (integer 1-100)', 1, 100)
              .default(10)
              .meta({ description: 'how many hosts prepare their next slot at once (jail, install, start, health)' }),
          },
          expected('a mapping with limit, wait and prepare'),
        )
        .prefault({})
        .meta({ description: "how a fleet's hosts switch to a new release" }),
      domain: hostName.optional().meta({ description: 'with a domain Caddy serves HTTPS with automatic TLS; without, HTTP on :80' }),
      app_jail: z
        .strictObject(
          {
            base_path: absPath().default(DEFAULT_BASE_PATH).meta({ description: 'where jail roots live' }),
            freebsd_version: z
              .string(expected('a FreeBSD release such as "14.3-RELEASE"'))
              .regex(FREEBSD_VERSION_RE, expected('a FreeBSD release such as "14.3-RELEASE"'))
              .refine((v) => Number(FREEBSD_VERSION_RE.exec(v)?.[1]) >= 14, expected('FreeBSD 14 or newer, such as "14.3-RELEASE"'))
              .default('14.3-RELEASE')
              .meta({ description: 'the FreeBSD release the jails are built from (14 or newer)' }),
            port: port(4000).meta({ description: 'the port the release listens on in its jail' }),
          },
          expected('a mapping with base_path, freebsd_version and port'),
        )
        .prefault({})
        .meta({ description: "the app's jails" }),
      network: z
        .strictObject(
          {
            interface: z
              .string(expected('an interface name such as "lo1"'))
              .regex(/^[a-z]+[0-9]+$/, expected('an interface name such as "lo1"'))
              .default('lo1')
              .meta({ description: "the cloned loopback interface the jails' addresses live on" }),
            subnet: subnet.default('10.0.0.0/24').meta({
              description:
                'the jail network: host .1, blue .2, green .3, database .4, build jail .5, the new build jail during a rebuild .6; the slots also get `fd00:a1ca:1de::` + their IPv4 address (`::a00:2`)',
            }),
          },
          expected('a mapping with interface and subnet'),
        )
        .prefault({})
        .meta({ description: 'the jail network on each host' }),
      accessories: z
        .strictObject(
          { postgresql: postgresSchema.optional().meta({ description: 'PostgreSQL in a jail of its own; deploys set `DATABASE_URL`' }) },
          expected('a mapping of accessories (postgresql)'),
        )
        .prefault({})
        .meta({ description: 'services next to the app, each in a jail of its own' }),
      env: z
        .strictObject(
          {
            clear: envMap.meta({
              description:
                'plain environment for the app: `NAME: value` pairs (PHX_HOST defaults to the domain or the host; PHX_SERVER, PORT and DATABASE_URL are set)',
            }),
            secret: z
              .array(secretName, expected('a list of secret names'))
              .default([])
              .meta({ description: 'names of keys in the secrets file (`alcaide secrets set NAME`), decrypted on the worker at deploy time' }),
          },
          expected('a mapping with clear and secret'),
        )
        .prefault({})
        .meta({ description: "the app's environment" }),
      // `alcaide secrets fetch` with no flags: where the team's vault keeps env.secret (docs/secrets.md)
      secrets_from: z
        .strictObject(
          {
            adapter: z
              .enum(SECRET_ADAPTER_NAMES, expected(`one of ${SECRET_ADAPTER_NAMES.join(', ')}`))
              .meta({ description: `the vault's adapter: ${SECRET_ADAPTER_NAMES.join(', ')}` }),
            account: nonEmpty('an account name')
              .optional()
              .meta({ description: 'the vault account or profile, as `--account` (what it means depends on the adapter)' }),
            from: nonEmpty('a vault item, project or folder')
              .optional()
              .meta({ description: 'where in the vault the secrets are (a vault item, a project, a folder), as `--from`' }),
            command: nonEmpty('a command line')
              .optional()
              .meta({ description: "the `command` adapter's command: run by /bin/sh, it prints one JSON object of NAME: value" }),
            keys: z
              .record(secretName, nonEmpty('a reference in the vault'), expected('a mapping of NAME: REF'))
              .default({})
              .meta({ description: '`NAME: REF` for a secret the vault names otherwise; fetched with the names of `env.secret`' }),
          },
          expected('a mapping with adapter, account, from, command and keys'),
        )
        .superRefine((s, ctx) => {
          if (s.adapter === 'command' && s.command === undefined) {
            ctx.addIssue({ code: 'custom', path: ['command'], message: 'a command line (adapter: command runs it)' });
          }
          if (s.adapter !== 'command' && s.command !== undefined) {
            ctx.addIssue({ code: 'custom', path: ['command'], message: `no command with adapter: ${s.adapter} (only the command adapter runs one)` });
          }
        })
        .optional()
        .meta({ description: 'the vault `alcaide secrets fetch` reads `env.secret` values from (docs/secrets.md)' }),
      health_check: z
        .strictObject(
          {
            // "/": a stock phx.new app answers it (PageController) and has no /health route
            path: z
              .string(expected('an HTTP path such as "/" or "/health"'))
              .regex(HTTP_PATH_RE, expected('an HTTP path such as "/" or "/health"'))
              .default('/')
              .meta({
                description:
                  "where a new slot must answer 200 before traffic moves; `/` is a stock Phoenix app's home page, a route of your own is better (docs/phoenix.md)",
              }),
            interval: duration()
              .prefault('1s')
              .meta({ description: 'the longest pause between two checks (the first after 50 ms, then twice as long each time)' }),
            timeout: duration().prefault('30s').meta({ description: 'how long a new slot has to answer 200' }),
          },
          expected('a mapping with path, interval and timeout'),
        )
        .prefault({})
        .meta({ description: 'readiness of a new slot' }),
      // the drain's activity runs in the 'slow' class (60 min an attempt)
      drain_timeout: duration()
        .refine((ms) => ms <= DRAIN_TIMEOUT_MAX_MS, expected('a duration up to 1h'))
        .prefault('10s')
        .meta({
          description:
            'the longest the old slot keeps serving its in-flight requests after the switch (the drain ends once Caddy has none in flight to it); at most 1h',
        }),
      // compensate: a failed deploy puts the previous slot back at once (unattended, CI);
      // hold: a failure before the switch waits for `alcaide retry` or `alcaide abort`
      on_failure: z.enum(['compensate', 'hold'], expected('"compensate" or "hold"')).default('compensate').meta({
        description:
          'what a failed deploy does: `compensate` puts the previous slot back at once (what CI wants); `hold`, for a failure before the switch, waits for `alcaide retry` or `alcaide abort`',
      }),
      hold_timeout: duration().prefault('1h').meta({ description: 'how long a held deploy waits before it compensates by itself' }),
      // after the switch, keep checking health through Caddy this long (0: off); a failed check rolls back
      bake: duration().prefault(0).meta({
        description:
          'after the switch, check health through Caddy this long (0: off); a failed check rolls back, and the old slot keeps running until the bake ends',
      }),
      // a human gate before the switch (docs/approvals.md): the new slot is healthy, the old one serves
      approval: z.enum(['never', 'before_switch'], expected('"never" or "before_switch"')).default('never').meta({
        description:
          'when a deploy waits for `alcaide approve`: `before_switch`, every deploy once the new slot is healthy and before traffic moves; `never`, only when `deploy --approve` asks (`deploy --no-approve` skips the wait once)',
      }),
      approval_timeout: duration()
        .prefault('4h')
        .meta({ description: 'how long a deploy waits for approval before it is undone (the previous slot never stopped serving)' }),
      rollout: z
        .strictObject(
          {
            steps: z
              .array(z.number(expected('a share in percent')), expected('a list of shares in percent, such as [5, 25, 50]'))
              .default(DEFAULT_ROLLOUT.steps)
              .superRefine((steps, ctx) => {
                const p = stepsProblem(steps);
                if (p) ctx.addIssue({ code: 'custom', message: p });
              })
              .meta({ description: 'the shares of clients (percent) the new slot takes, one after the other, before it takes them all' }),
            interval: duration().prefault('5m').meta({ description: 'how long each share lasts (`alcaide promote` goes to 100 % at once)' }),
            check_interval: duration()
              .refine((ms) => ms >= 1000, expected('a duration of 1s or more'))
              .prefault('10s')
              .meta({ description: "how often the slots' figures are read from Caddy's access logs" }),
            max_error_rate: z
              .number(expected('percentage points (0-100)'))
              .min(0, expected('percentage points (0-100)'))
              .max(100, expected('percentage points (0-100)'))
              .default(DEFAULT_ROLLOUT.maxErrorPoints)
              .meta({ description: "how many points the new slot's share of 5xx answers may exceed the old slot's before all traffic goes back" }),
            min_requests: int('a number of requests (integer 1-1000000)', 1, 1_000_000)
              .default(DEFAULT_ROLLOUT.minRequests)
              .meta({ description: 'the requests the new slot must have answered before its error rate is judged' }),
          },
          expected('a mapping with steps, interval, check_interval, max_error_rate and min_requests'),
        )
        .optional()
        .meta({
          description:
            'every deploy is a canary: a share of clients at a time on the new slot, watched, then all (docs/canary.md; `deploy --no-canary` skips it)',
        }),
      retain: int('a number of releases (integer 2-100)', 2, 100).default(DEFAULT_RETAIN).meta({
        description:
          "how many releases each host keeps (artifacts and uploaded sources, the most recently built or deployed); older ones are removed after each deploy, never the live or the kept slot's (`alcaide releases`, `alcaide rollback --to`)",
      }),
      hooks: hooksSchema,
      proxy: z
        .strictObject(
          {
            ports: z
              .array(port(0), expected('two loopback ports [blue, green] for the slot servers in Caddy'))
              .length(2, expected('two loopback ports [blue, green] for the slot servers in Caddy'))
              .optional()
              .meta({ description: "two loopback ports `[blue, green]` for Caddy's per-slot servers", computedDefault: 'derived from the app name' }),
          },
          expected('a mapping with ports'),
        )
        .prefault({})
        .meta({ description: 'Caddy in front of the slots' }),
      release: z
        .strictObject(
          {
            name: z
              .string(expected('a release name'))
              .regex(APP_NAME_RE, expected('a release name (lowercase letters, digits, "_")'))
              .optional()
              .meta({ description: 'the mix release to build', computedDefault: 'the app name' }),
            migrate: z
              .union(
                [z.string().min(1, expected('an Elixir expression to eval, or false to skip migrations')), z.literal(false)],
                expected('an Elixir expression to eval, or false to skip migrations'),
              )
              .optional()
              .meta({
                description:
                  'the Elixir expression that runs migrations (`false` skips them); migrations of a failed deploy stay applied: keep them backward compatible',
                computedDefault: '`Name.Release.migrate()` of the release name',
              }),
            // true: migrations run in the new slot before its app starts (an app that reads a
            // new table at boot); false: after it starts, before traffic moves
            migrate_before_start: z.boolean(expected('true or false')).default(false).meta({
              description:
                '`true`: migrations run in the new slot before its app starts (an app that reads a new table at boot); `false`: after it starts, before traffic moves',
            }),
          },
          expected('a mapping with name, migrate and migrate_before_start'),
        )
        .prefault({})
        .meta({ description: 'the release that is built and deployed' }),
      ssh: z
        .strictObject(
          {
            keys: z
              .array(nonEmpty('a path to a private key'), expected('a list of private key paths'))
              .default([])
              .meta({ description: 'private keys to offer; none: ssh-agent, then `~/.ssh/id_ed25519` and `id_rsa`' }),
            known_hosts: nonEmpty('a path to a known_hosts file')
              .optional()
              .meta({ description: 'the known_hosts file that host keys are checked against', computedDefault: '`~/.ssh/known_hosts`' }),
            proxy_jump: z
              .string(expected('"[user@]host[:port]"'))
              .regex(/^(?:[a-z_][a-z0-9_-]*@)?[A-Za-z0-9.-]+(?::\d{1,5})?$/, expected('"[user@]host[:port]"'))
              .optional()
              .meta({ description: 'a jump host, `[user@]host[:port]`, that SSH goes through' }),
          },
          expected('a mapping with keys, known_hosts and proxy_jump'),
        )
        .prefault({})
        .meta({ description: 'SSH access to the hosts' }),
      temporal: z
        .strictObject(
          {
            address: z
              .string(expected('"host:port"'))
              .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, expected('"host:port" such as "localhost:7233"'))
              .optional()
              .meta({ description: 'the Temporal frontend, `host:port` (`TEMPORAL_ADDRESS` overrides)', computedDefault: DEFAULT_ADDRESS }),
            namespace: z
              .string(expected('a namespace name'))
              .regex(/^[A-Za-z0-9._-]+$/, expected('a namespace name'))
              .optional()
              .meta({ description: 'the Temporal namespace (`TEMPORAL_NAMESPACE` overrides)', computedDefault: DEFAULT_NAMESPACE }),
            task_queue: z
              .string(expected('a task queue name'))
              .regex(/^[A-Za-z0-9._-]+$/, expected('a task queue name'))
              .optional()
              .meta({ description: 'the task queue the worker polls (`ALCAIDE_TASK_QUEUE` overrides)', computedDefault: DEFAULT_TASK_QUEUE }),
            tls: z
              .strictObject(
                {
                  client_cert: nonEmpty('a path to a PEM certificate')
                    .optional()
                    .meta({ description: 'the client certificate for mTLS (PEM), with `client_key`' }),
                  client_key: nonEmpty('a path to a PEM private key').optional().meta({ description: 'the private key of `client_cert` (PEM)' }),
                  ca: nonEmpty('a path to a PEM CA certificate')
                    .optional()
                    .meta({ description: "the CA certificate (PEM) the server's certificate is checked against" }),
                  server_name: nonEmpty('a TLS server name').optional().meta({ description: "the name the server's certificate must carry" }),
                },
                expected('a mapping with client_cert, client_key, ca and server_name'),
              )
              .optional()
              .meta({ description: 'TLS to Temporal (the `TEMPORAL_TLS_*` variables override)' }),
          },
          expected('a mapping with address, namespace, task_queue and tls'),
        )
        .prefault({})
        .meta({ description: 'where Temporal runs (docs/temporal-cluster.md)' }),
      // names for alcaide command lines: `console: run bin/my_app remote` runs as `alcaide console`
      aliases: z
        .record(
          // the names are checked below, with a message of their own
          z.string(),
          z.string(expected('an alcaide command line such as "run bin/my_app remote"')).transform((line, ctx) => {
            const r = aliasWords(line);
            if ('words' in r) return r.words;
            ctx.addIssue({ code: 'custom', message: r.error });
            return z.NEVER;
          }),
          expected('a mapping of alias names to alcaide command lines'),
        )
        .default({})
        .meta({ description: 'names for alcaide command lines: `console: run bin/my_app remote` runs as `alcaide console`' }),
    },
    expected('a mapping of settings (app, server, ...)'),
  )
  .superRefine((c, ctx) => {
    if (c.temporal.tls && Boolean(c.temporal.tls.client_cert) !== Boolean(c.temporal.tls.client_key)) {
      ctx.addIssue({ code: 'custom', path: ['temporal', 'tls'], message: 'client_cert and client_key to be given together' });
    }
    fleetIssues(c).forEach((i) => ctx.addIssue({ code: 'custom', ...i }));
    for (const name of Object.keys(c.aliases)) {
      if (!ALIAS_NAME_RE.test(name))
        ctx.addIssue({
          code: 'custom',
          path: ['aliases', name],
          message: `an alias name of lowercase letters, digits, "-" and "_", starting with a letter (not "${name}")`,
        });
      else if ((CLI_COMMANDS as readonly string[]).includes(name))
        ctx.addIssue({ code: 'custom', path: ['aliases', name], message: `a name that is not one of alcaide's own commands ("${name}" is)` });
    }
    for (const h of HOOK_NAMES) {
      for (const k of c.hooks[h]?.secrets ?? []) {
        if (!c.env.secret.includes(k)) ctx.addIssue({ code: 'custom', path: ['hooks', h, 'secrets'], message: `names in env.secret ("${k}" is not)` });
      }
    }
    const clash = c.env.secret.filter((k) => k in c.env.clear);
    for (const k of clash) {
      ctx.addIssue({ code: 'custom', path: ['env', 'secret'], message: `each name in env.clear or env.secret, not both ("${k}" is in both)` });
    }
  });

export { WEB_ROLE };

interface FleetShape {
  server?: { host: string };
  servers?: Array<{ host: string; port: number }>;
  roles?: Record<string, { hosts: string[]; cmd?: string; env?: Record<string, string> }>;
  primary_role: string;
  build: { host?: string };
  env: { secret: string[] };
}

/** What is wrong with the hosts and roles taken together (each with the key path it is about). */
function fleetIssues(c: FleetShape): Array<{ path: PropertyKey[]; message: string }> {
  const out: Array<{ path: PropertyKey[]; message: string }> = [];
  if (c.server && c.servers) {
    return [
      {
        path: ['servers'],
        message: "either server (one host) or servers (a list), not both (a destination file that lists servers drops the base file's with `server: null`)",
      },
    ];
  }
  if (!c.server && !c.servers) return [{ path: ['server'], message: 'a mapping with host, user and port (or `servers:`, a list of them)' }];
  const hosts = c.servers?.map((s) => s.host) ?? [c.server!.host];
  c.servers?.forEach((s, i) => {
    const first = c.servers!.findIndex((o) => o.host === s.host);
    if (first < i) out.push({ path: ['servers', i, 'host'], message: `each server once ("${s.host}" is servers[${first}] too)` });
  });
  const roles = c.roles ?? { [WEB_ROLE]: { hosts } };
  for (const [name, role] of Object.entries(roles)) {
    role.hosts.forEach((h, i) => {
      if (!hosts.includes(h))
        out.push({ path: ['roles', name, 'hosts', i], message: `a host named in ${c.servers ? 'servers' : 'server'} (${hosts.join(', ')})` });
      else if (role.hosts.indexOf(h) < i) out.push({ path: ['roles', name, 'hosts', i], message: `each host once in a role ("${h}" is listed twice)` });
    });
  }
  out.push(...roleRunIssues(roles, c.env.secret));
  if (c.roles && !(WEB_ROLE in c.roles)) out.push({ path: ['roles'], message: `a "${WEB_ROLE}" role: the hosts Caddy serves the app from` });
  const inRoles = new Set(Object.values(roles).flatMap((r) => r.hosts));
  c.servers?.forEach((s, i) => {
    if (!inRoles.has(s.host))
      out.push({ path: ['servers', i], message: `a server in a role ("${s.host}" is in none of roles: ${Object.keys(roles).join(', ')})` });
  });
  if (!(c.primary_role in roles)) out.push({ path: ['primary_role'], message: `one of the roles (${Object.keys(roles).join(', ')})` });
  if (c.build.host !== undefined && !hosts.includes(c.build.host))
    out.push({ path: ['build', 'host'], message: `a host named in servers (${hosts.join(', ')})` });
  return out;
}

/**
 * A host runs one command with one environment: at most one of its roles sets `cmd` or `env`,
 * and a web host runs what serves the app through its Caddy, never another role's `cmd`.
 * Secrets are the app's, the same on every host: a role's env does not name one.
 */
function roleRunIssues(roles: NonNullable<FleetShape['roles']>, secrets: string[]): Array<{ path: PropertyKey[]; message: string }> {
  const out: Array<{ path: PropertyKey[]; message: string }> = [];
  const sets = (r: { cmd?: string; env?: object }) => r.cmd !== undefined || r.env !== undefined;
  const runFrom = new Map<string, string>();
  for (const [name, role] of Object.entries(roles)) {
    for (const k of Object.keys(role.env ?? {})) {
      if (secrets.includes(k)) out.push({ path: ['roles', name, 'env', k], message: `a name not in env.secret ("${k}" is a secret, the same on every host)` });
    }
    if (!sets(role)) continue;
    role.hosts.forEach((h, i) => {
      const other = runFrom.get(h);
      if (other !== undefined)
        out.push({
          path: ['roles', name, 'hosts', i],
          message: `a host in one role with cmd or env at most: a host runs one command ("${h}" is in ${other} and ${name}, both set cmd or env)`,
        });
      else if (role.cmd !== undefined && name !== WEB_ROLE && roles[WEB_ROLE]?.hosts.includes(h))
        out.push({
          path: ['roles', name, 'hosts', i],
          message: `a host outside the ${WEB_ROLE} role: ${name} sets cmd, and "${h}" is a ${WEB_ROLE} host, whose release serves the app through its Caddy`,
        });
      runFrom.set(h, other ?? name);
    });
  }
  return out;
}

export type RawConfig = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;

export type { SlotAddresses };

/** The unique-local /64 on the jail interface that the slot jails' IPv6 addresses live in. */
export const JAIL_IPV6_PREFIX = 'fd00:a1ca:1de::';

/**
 * A jail's IPv6 address: its IPv4 address as the interface id (10.0.0.2 -> fd00:a1ca:1de::a00:2),
 * unique on the host because claims keep the IPv4 subnets of apps apart.
 */
export function ipv6Of(ipv4: string): string {
  const n = ipv4ToInt(ipv4);
  return `${JAIL_IPV6_PREFIX}${Math.floor(n / 65536).toString(16)}:${(n % 65536).toString(16)}`;
}

/** host .1, blue .2, green .3, db .4, build .5, next build jail .6 inside the jail subnet. */
export function slotAddresses(subnetCidr: string): SlotAddresses {
  const base = ipv4ToInt(subnetCidr.split('/')[0]!);
  const at = (n: number) => intToIpv4(base + n);
  return { host: at(1), blue: at(2), green: at(3), db: at(4), build: at(5), buildNext: at(6), blue6: ipv6Of(at(2)), green6: ipv6Of(at(3)) };
}
