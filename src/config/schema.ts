// The deploy.yml schema. Every value that later becomes part of a shell command or a
// jail/file name is restricted here to a safe charset (docs/architecture.md rule 6), so host-command
// builders can rely on it. Messages are phrased as "what was expected"; the formatter in
// errors.ts adds the key path and what was found.
import { z } from 'zod';
import { parseDuration } from '../model/duration';
import { DEFAULT_BASE_PATH } from '../freebsd/layout';
import type { SlotAddresses } from '../model/target';

const expected = (what: string) => ({ error: what });

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

/** Durations are written as "500ms", "10s", "2m", "1h" or a number of seconds; stored as ms. */
const duration = (what = 'a duration such as "500ms", "10s", "2m" or a number of seconds') =>
  z.union([z.string(), z.number()], expected(what)).transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: what });
      return z.NEVER;
    }
    return ms;
  });

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

const serverSchema = z.strictObject(
  {
    host: hostName,
    user: z.string(expected('a user name')).regex(USER_RE, expected('a user name (lowercase letters, digits, "_", "-")')).default('root'),
    port: port(22),
  },
  expected('a mapping with host, user and port'),
);

const postgresSchema = z.strictObject(
  {
    version: int('a PostgreSQL major version (integer 13-17)', 13, 17).default(16),
    volume: z.string(expected('"HOST_PATH:JAIL_PATH", two absolute paths')).refine((v) => {
      const parts = v.split(':');
      return parts.length === 2 && parts.every((p) => ABS_PATH_RE.test(p) && !p.split('/').includes('..'));
    }, expected('"HOST_PATH:JAIL_PATH", two absolute paths')),
    port: port(5432),
    user: z.string(expected('a database role name')).regex(DB_IDENT_RE, expected('a database role name (lowercase letters, digits, "_")')),
    password_secret: secretName,
    database: z.string(expected('a database name')).regex(DB_IDENT_RE, expected('a database name (lowercase letters, digits, "_")')),
  },
  expected('a mapping with version, volume, port, user, password_secret and database'),
);

/** An environment variable ends at a NUL byte, and the env file's `sh` drops one: "a\0b" would reach the app as "ab". */
export const NUL_FREE = 'a value without a NUL byte (no environment variable can hold one)';

const envValue = z
  .union([z.string(), z.number(), z.boolean()], expected('a string, number or boolean'))
  .transform((v) => String(v))
  .refine((v) => !v.includes('\0'), expected(NUL_FREE));

export const configSchema = z
  .strictObject(
    {
      app: z
        .string(expected('an app name'))
        .regex(APP_NAME_RE, expected('the mix app name: lowercase letters, digits and "_", starting with a letter, at most 30 characters')),
      server: serverSchema,
      domain: hostName.optional(),
      app_jail: z
        .strictObject(
          {
            base_path: absPath().default(DEFAULT_BASE_PATH),
            freebsd_version: z
              .string(expected('a FreeBSD release such as "14.3-RELEASE"'))
              .regex(FREEBSD_VERSION_RE, expected('a FreeBSD release such as "14.3-RELEASE"'))
              .refine((v) => Number(FREEBSD_VERSION_RE.exec(v)?.[1]) >= 14, expected('FreeBSD 14 or newer, such as "14.3-RELEASE"'))
              .default('14.3-RELEASE'),
            port: port(4000),
          },
          expected('a mapping with base_path, freebsd_version and port'),
        )
        .prefault({}),
      network: z
        .strictObject(
          {
            interface: z
              .string(expected('an interface name such as "lo1"'))
              .regex(/^[a-z]+[0-9]+$/, expected('an interface name such as "lo1"'))
              .default('lo1'),
            subnet: subnet.default('10.0.0.0/24'),
          },
          expected('a mapping with interface and subnet'),
        )
        .prefault({}),
      accessories: z.strictObject({ postgresql: postgresSchema.optional() }, expected('a mapping of accessories (postgresql)')).prefault({}),
      env: z
        .strictObject(
          {
            clear: z
              .record(
                z.string().regex(ENV_KEY_RE, expected('an environment variable name (letters, digits, "_")')),
                envValue,
                expected('a mapping of NAME: value'),
              )
              .default({}),
            secret: z.array(secretName, expected('a list of secret names')).default([]),
          },
          expected('a mapping with clear and secret'),
        )
        .prefault({}),
      health_check: z
        .strictObject(
          {
            // "/": a stock phx.new app answers it (PageController) and has no /health route
            path: z
              .string(expected('an HTTP path such as "/" or "/health"'))
              .regex(HTTP_PATH_RE, expected('an HTTP path such as "/" or "/health"'))
              .default('/'),
            interval: duration().default(1000),
            timeout: duration().default(30_000),
          },
          expected('a mapping with path, interval and timeout'),
        )
        .prefault({}),
      drain_timeout: duration().default(10_000),
      // compensate: a failed deploy puts the previous slot back at once (unattended, CI);
      // hold: a failure before the switch waits for `alcaide retry` or `alcaide abort`
      on_failure: z.enum(['compensate', 'hold'], expected('"compensate" or "hold"')).default('compensate'),
      hold_timeout: duration().default(3_600_000),
      // after the switch, keep checking health through Caddy this long (0: off); a failed check rolls back
      bake: duration().default(0),
      proxy: z
        .strictObject(
          {
            ports: z
              .array(port(0), expected('two loopback ports [blue, green] for the slot servers in Caddy'))
              .length(2, expected('two loopback ports [blue, green] for the slot servers in Caddy'))
              .optional(),
          },
          expected('a mapping with ports'),
        )
        .prefault({}),
      release: z
        .strictObject(
          {
            name: z.string(expected('a release name')).regex(APP_NAME_RE, expected('a release name (lowercase letters, digits, "_")')).optional(),
            migrate: z
              .union(
                [z.string().min(1, expected('an Elixir expression to eval, or false to skip migrations')), z.literal(false)],
                expected('an Elixir expression to eval, or false to skip migrations'),
              )
              .optional(),
            // true: migrations run in the new slot before its app starts (an app that reads a
            // new table at boot); false: after it starts, before traffic moves
            migrate_before_start: z.boolean(expected('true or false')).default(false),
          },
          expected('a mapping with name, migrate and migrate_before_start'),
        )
        .prefault({}),
      ssh: z
        .strictObject(
          {
            keys: z
              .array(z.string(expected('a path to a private key')).min(1, expected('a path to a private key')), expected('a list of private key paths'))
              .default([]),
            known_hosts: z.string(expected('a path to a known_hosts file')).min(1, expected('a path to a known_hosts file')).optional(),
            proxy_jump: z
              .string(expected('"[user@]host[:port]"'))
              .regex(/^(?:[a-z_][a-z0-9_-]*@)?[A-Za-z0-9.-]+(?::\d{1,5})?$/, expected('"[user@]host[:port]"'))
              .optional(),
          },
          expected('a mapping with keys, known_hosts and proxy_jump'),
        )
        .prefault({}),
      temporal: z
        .strictObject(
          {
            address: z
              .string(expected('"host:port"'))
              .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, expected('"host:port" such as "localhost:7233"'))
              .optional(),
            namespace: z
              .string(expected('a namespace name'))
              .regex(/^[A-Za-z0-9._-]+$/, expected('a namespace name'))
              .optional(),
            task_queue: z
              .string(expected('a task queue name'))
              .regex(/^[A-Za-z0-9._-]+$/, expected('a task queue name'))
              .optional(),
            tls: z
              .strictObject(
                {
                  client_cert: z.string(expected('a path to a PEM certificate')).min(1, expected('a path to a PEM certificate')).optional(),
                  client_key: z.string(expected('a path to a PEM private key')).min(1, expected('a path to a PEM private key')).optional(),
                  ca: z.string(expected('a path to a PEM CA certificate')).min(1, expected('a path to a PEM CA certificate')).optional(),
                  server_name: z.string(expected('a TLS server name')).min(1, expected('a TLS server name')).optional(),
                },
                expected('a mapping with client_cert, client_key, ca and server_name'),
              )
              .optional(),
          },
          expected('a mapping with address, namespace, task_queue and tls'),
        )
        .prefault({}),
    },
    expected('a mapping of settings (app, server, ...)'),
  )
  .superRefine((c, ctx) => {
    if (c.temporal.tls && Boolean(c.temporal.tls.client_cert) !== Boolean(c.temporal.tls.client_key)) {
      ctx.addIssue({ code: 'custom', path: ['temporal', 'tls'], message: 'client_cert and client_key to be given together' });
    }
    const clash = c.env.secret.filter((k) => k in c.env.clear);
    for (const k of clash) {
      ctx.addIssue({ code: 'custom', path: ['env', 'secret'], message: `each name in env.clear or env.secret, not both ("${k}" is in both)` });
    }
  });

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
