// Every deploy.yml key, its default and its description, read from the schema itself: what
// `alcaide docs` prints and what docs/configuration.md's key table is generated from.
import { z } from 'zod';
import { configSchema } from './schema';
import { suggest } from './errors';

export interface ConfigKey {
  /** `boot.limit`, `roles.NAME.cmd`, `servers[].host` */
  path: string;
  /** the top-level key it is under (itself for a top-level key) */
  topic: string;
  /** as written in deploy.yml; `required`, or `none` for a key that is not set by default */
  default: string;
  /** undefined only for a key whose schema lacks one (a test keeps there being none) */
  description: string | undefined;
}

type Schema = z.core.$ZodType;

function def(s: Schema): { type: string } & Record<string, unknown> {
  return s._zod.def as unknown as { type: string } & Record<string, unknown>;
}

/** The schema under optional/default/prefault wrappers, with what they say about the key. */
function unwrap(s: Schema): { inner: Schema; optional: boolean; defaultValue?: { v: unknown }; meta: z.core.GlobalMeta } {
  let meta: z.core.GlobalMeta = {};
  let optional = false;
  let defaultValue: { v: unknown } | undefined;
  for (;;) {
    // the outer wrapper's word wins over the inner schema's
    meta = { ...(z.globalRegistry.get(s) ?? {}), ...meta };
    const d = def(s);
    if (d.type === 'optional') optional = true;
    else if (d.type === 'default' || d.type === 'prefault') defaultValue ??= { v: d.defaultValue };
    else return { inner: s, optional, defaultValue, meta };
    s = d.innerType as Schema;
  }
}

function formatValue(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(formatValue).join(', ')}]`;
  if (v !== null && typeof v === 'object') return Object.keys(v).length ? JSON.stringify(v) : '{}';
  return String(v);
}

/** The mapping a key holds, if it is one whose keys are documented: an object, a record or list of objects. */
function children(inner: Schema): { shape: Record<string, Schema>; join: string } | undefined {
  const d = def(inner);
  const objectShape = (s: Schema) => (def(s).type === 'object' ? (def(s).shape as Record<string, Schema>) : undefined);
  if (d.type === 'object') return { shape: d.shape as Record<string, Schema>, join: '.' };
  if (d.type === 'record') {
    const shape = objectShape(unwrap(d.valueType as Schema).inner);
    return shape && { shape, join: '.NAME.' };
  }
  if (d.type === 'array') {
    const shape = objectShape(unwrap(d.element as Schema).inner);
    return shape && { shape, join: '[].' };
  }
  return undefined;
}

function walk(shape: Record<string, Schema>, prefix: string, topic: string | undefined, out: ConfigKey[]): void {
  for (const [name, schema] of Object.entries(shape)) {
    const path = prefix + name;
    const { inner, optional, defaultValue, meta } = unwrap(schema);
    const kids = children(inner);
    const isMapping = def(inner).type === 'object';
    const shown =
      meta.computedDefault ??
      (defaultValue
        ? isMapping
          ? '' // a mapping's defaults are its keys'
          : formatValue(defaultValue.v)
        : optional
          ? 'none'
          : 'required');
    out.push({ path, topic: topic ?? name, default: shown, description: meta.description });
    if (kids) walk(kids.shape, path + kids.join, topic ?? name, out);
  }
}

/** Every key of deploy.yml, in the schema's order, each mapping before the keys it holds. */
export function configKeys(schema: Schema = configSchema): ConfigKey[] {
  const out: ConfigKey[] = [];
  walk(def(schema).shape as Record<string, Schema>, '', undefined, out);
  return out;
}

/** The keys a topic names: a top-level key with all it holds, or one key; else what there is. */
export function keysFor(topic: string, keys = configKeys()): { keys: ConfigKey[] } | { error: string } {
  const under = keys.filter((k) => k.topic === topic || k.path === topic || k.path.startsWith(`${topic}.`) || k.path.startsWith(`${topic}[]`));
  if (under.length) return { keys: under };
  const topics = [...new Set(keys.map((k) => k.topic))];
  const guess = suggest(
    topic,
    keys.map((k) => k.path),
  );
  return { error: `no key ${JSON.stringify(topic)}${guess ? ` (did you mean "${guess}"?)` : ''}; the topics are: ${topics.join(', ')}` };
}

function wrap(text: string, width: number, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines;
}

/** Markdown code and doc links read as plain text in a terminal. */
const plain = (s: string) => s.replace(/`([^`]*)`/g, '$1');

/** A key's description as plain text (for deploy.yml's template). */
export function keyNote(path: string): string {
  const d = configKeys().find((k) => k.path === path)?.description;
  if (!d) throw new Error(`no description for ${path}`);
  return plain(d);
}

/** A key's description as a YAML comment above it: a sentence wrapped to `width`. */
export function keyComment(path: string, indent = '', width = 100): string {
  const text = keyNote(path);
  return wrap(`${text[0]!.toUpperCase()}${text.slice(1)}.`, width, `${indent}# `).join('\n');
}

/** Each key on a line with its default, its description wrapped under it to `width` columns. */
export function renderKeys(keys: ConfigKey[], width = 80): string {
  return keys
    .map((k) => {
      const head = !k.default ? k.path : k.default.startsWith('required') ? `${k.path}  (${plain(k.default)})` : `${k.path}  (default: ${plain(k.default)})`;
      return [head, ...wrap(plain(k.description ?? ''), Math.max(width, 40), '    ')].join('\n');
    })
    .join('\n\n');
}

/** docs/configuration.md's key table; `docs/X.md` mentions become links next to it. */
export function renderMarkdownTable(keys: ConfigKey[] = configKeys()): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\bdocs\/([a-z0-9-]+\.md)/g, '[$1]($1)');
  const code = (s: string) => (s === '' || s === 'required' || s === 'none' || s.includes('`') || s.includes(' ') ? s : `\`${s}\``);
  return [
    '| key | default | meaning |',
    '| --- | --- | --- |',
    ...keys.map((k) => `| \`${k.path}\` | ${cell(code(k.default))} | ${cell(k.description ?? '')} |`),
  ].join('\n');
}

export const TABLE_BEGIN = '<!-- the key table is generated: node scripts/config-table.js (after npm run build) -->';
export const TABLE_END = '<!-- end of the generated key table -->';

/** The page with its key table replaced by the schema's (the markers stay). */
export function withGeneratedTable(page: string, table = renderMarkdownTable()): string {
  const begin = page.indexOf(TABLE_BEGIN);
  const end = page.indexOf(TABLE_END);
  if (begin < 0 || end < begin) throw new Error(`the page has no ${TABLE_BEGIN} ... ${TABLE_END} markers`);
  return `${page.slice(0, begin + TABLE_BEGIN.length)}\n\n${table}\n\n${page.slice(end)}`;
}
