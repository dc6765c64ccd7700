// Loads deploy.yml (+ deploy.DEST.yml deep-merged on top), validates it and reports every
// problem at once with the file and line where it is written.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors';
import { formatIssues, type Located } from './errors';
import { configSchema, slotAddresses, WEB_ROLE, type ParsedConfig, type SlotAddresses } from './schema';
import type { FleetHost } from '../model/fleet';

export const DEFAULT_CONFIG_FILE = 'deploy.yml';
const DESTINATION_RE = /^[a-z][a-z0-9_-]{0,30}$/;

export interface Config extends Omit<ParsedConfig, 'server'> {
  /** the host a one-host command acts on: `server:`, or the primary role's first of `servers:` */
  server: { host: string; user: string; port: number };
  /** every host of the app, in the order deploy.yml lists them, with their roles */
  hosts: FleetHost[];
  /** the destination given with -d, if any */
  destination?: string;
  /** the directory holding deploy.yml: project root, home of .alcaide/ */
  root: string;
  /** files merged, base first */
  files: string[];
  release: ParsedConfig['release'] & { name: string; migrate: string | false };
  addresses: SlotAddresses;
}

interface LoadedFile {
  file: string;
  doc: Document.Parsed;
  lines: LineCounter;
  data: unknown;
}

export interface LoadOptions {
  /** path given with -c; defaults to ./deploy.yml */
  configPath?: string;
  destination?: string;
  cwd?: string;
}

export function loadConfig(opts: LoadOptions = {}): Config {
  const cwd = opts.cwd ?? process.cwd();
  const base = path.resolve(cwd, opts.configPath ?? DEFAULT_CONFIG_FILE);
  if (opts.destination !== undefined && !DESTINATION_RE.test(opts.destination)) {
    throw new ConfigError([
      `destination: expected a name of lowercase letters, digits, "_" and "-" (such as "production"), got ${JSON.stringify(opts.destination)}`,
    ]);
  }
  if (!existsSync(base)) {
    throw new ConfigError([`${relative(cwd, base)}: file not found${opts.configPath ? '' : ' (run `alcaide init` to create one, or pass -c PATH)'}`]);
  }
  const files = [readYaml(base, cwd)];
  if (opts.destination) {
    const destFile = destinationFile(base, opts.destination);
    if (!existsSync(destFile)) {
      throw new ConfigError([`${relative(cwd, destFile)}: file not found (destination "${opts.destination}" needs it)`]);
    }
    files.push(readYaml(destFile, cwd));
  }
  const raw = dropNulls(files.map((f) => f.data).reduce((acc, d) => deepMerge(acc, d)));
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(formatIssues(result.error.issues, locator(files, raw, cwd), knownKeysAt), relative(cwd, base));
  }
  const c = result.data;
  const hosts = fleetHosts(c);
  const primary = hosts.find((h) => h.roles.includes(c.primary_role))!;
  return {
    ...c,
    server: { host: primary.host, user: primary.user, port: primary.port },
    hosts,
    destination: opts.destination,
    root: path.dirname(base),
    files: files.map((f) => f.file),
    release: {
      ...c.release,
      name: c.release.name ?? c.app,
      // the mix project's module: a destination that renames the app keeps its release
      migrate: c.release.migrate ?? `${camelize(c.release.name ?? c.app)}.Release.migrate()`,
    },
    addresses: slotAddresses(c.network.subnet),
  };
}

/** The servers with their roles (every server is a web host when no `roles:` is given). */
function fleetHosts(c: ParsedConfig): FleetHost[] {
  const servers = c.servers ?? [{ ...c.server!, labels: [] }];
  const roles = c.roles ?? { [WEB_ROLE]: { hosts: servers.map((s) => s.host) } };
  return servers.map((s) => {
    const names = Object.keys(roles).filter((r) => roles[r]!.hosts.includes(s.host));
    // the schema lets one of them at most set cmd or env
    const own = names.map((r) => roles[r]!).find((r) => r.cmd !== undefined || r.env !== undefined);
    return {
      host: s.host,
      user: s.user,
      port: s.port,
      labels: s.labels,
      roles: names,
      ...(own?.cmd !== undefined && { cmd: own.cmd }),
      ...(own?.env !== undefined && { env: own.env }),
    };
  });
}

export function destinationFile(baseFile: string, destination: string): string {
  const ext = path.extname(baseFile);
  return path.join(path.dirname(baseFile), `${path.basename(baseFile, ext)}.${destination}${ext || '.yml'}`);
}

/** Mix's Macro.camelize for app names: my_app → MyApp. */
export function camelize(app: string): string {
  return app
    .split('_')
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
}

function relative(cwd: string, file: string): string {
  const r = path.relative(cwd, file);
  return r.startsWith('..') ? file : r;
}

function readYaml(file: string, cwd: string): LoadedFile {
  const text = readFileSync(file, 'utf8');
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const name = relative(cwd, file);
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const pos = lines.linePos(e.pos[0]);
        return `${name}:${pos.line}:${pos.col}: YAML syntax error: ${e.message.split('\n')[0]}`;
      }),
    );
  }
  const data: unknown = doc.toJS() ?? {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError([
      `${name}: expected a mapping of settings (app, server, ...) at the top level, got ${Array.isArray(data) ? 'a list' : JSON.stringify(data)}`,
    ]);
  }
  return { file, doc, lines, data };
}

/** Mappings merge key by key; lists and scalars from `over` replace those in `base`. */
export function deepMerge(base: unknown, over: unknown): unknown {
  if (isPlainObject(base) && isPlainObject(over)) {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = k in base ? deepMerge(base[k], v) : v;
    return out;
  }
  return over;
}

/** `key:` with nothing after it (often everything below commented out) means "not set". */
function dropNulls(v: unknown): unknown {
  if (!isPlainObject(v)) return v;
  return Object.fromEntries(
    Object.entries(v)
      .filter(([, x]) => x !== null)
      .map(([k, x]) => [k, dropNulls(x)]),
  );
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function locator(files: LoadedFile[], raw: unknown, cwd: string): Located {
  return {
    valueAt(p) {
      let v: unknown = raw;
      for (const k of p) v = isPlainObject(v) || Array.isArray(v) ? (v as Record<PropertyKey, unknown>)[k as string] : undefined;
      return v;
    },
    locate(p) {
      // The last file that writes the path wins, as in the merge; a missing key points at its parent.
      for (let depth = p.length; depth >= 0; depth--) {
        for (const f of [...files].reverse()) {
          const node = f.doc.getIn(p.slice(0, depth) as unknown[], true) as { range?: [number, number, number] } | undefined;
          if (node && (isScalar(node) || isMap(node) || isSeq(node)) && node.range) {
            return `${relative(cwd, f.file)}:${f.lines.linePos(node.range[0]).line}`;
          }
        }
      }
      return undefined;
    },
  };
}

type AnySchema = z.ZodType & { _zod: { def: Record<string, unknown> } };

/** Walks the schema to the strict object at `p` and lists its keys. */
function knownKeysAt(p: PropertyKey[]): string[] {
  let s = unwrap(configSchema as unknown as AnySchema);
  for (const k of p) {
    const shape = (s._zod.def.shape as Record<string, AnySchema> | undefined) ?? undefined;
    if (!shape || !(String(k) in shape)) return [];
    s = unwrap(shape[String(k)]!);
  }
  const shape = s._zod.def.shape as Record<string, unknown> | undefined;
  return shape ? Object.keys(shape) : [];
}

function unwrap(s: AnySchema): AnySchema {
  let cur = s;
  for (let i = 0; i < 10; i++) {
    const def = cur._zod.def;
    const inner = (def.innerType ?? def.in) as AnySchema | undefined;
    if (!inner || def.shape) break;
    cur = inner;
  }
  return cur;
}
