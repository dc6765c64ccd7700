// The layers keep one direction (docs/architecture.md, Layers), types included, and every host
// path is spelled in src/freebsd/layout.ts alone: read from the source's import lines and text.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { REPO_ROOT } from '../helpers/paths';

const PRODUCT_DIRS = ['src', 'activities', 'workflows'];

function tsFiles(dir: string): string[] {
  return readdirSync(path.join(REPO_ROOT, dir)).flatMap((name) => {
    const rel = `${dir}/${name}`;
    if (statSync(path.join(REPO_ROOT, rel)).isDirectory()) return tsFiles(rel);
    return name.endsWith('.ts') ? [rel] : [];
  });
}

interface Import {
  from: string;
  /** the imported module, repository-relative without extension */
  to: string;
  typeOnly: boolean;
}

/** Relative imports, re-exports and dynamic imports of a file (packages are not the layers' concern). */
function importsOf(file: string, text = readFileSync(path.join(REPO_ROOT, file), 'utf8')): Import[] {
  const found: Import[] = [];
  const add = (spec: string, typeOnly: boolean) => {
    if (!spec.startsWith('.')) return;
    let to = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
    if (statSafe(`${to}/index.ts`)) to = `${to}/index`;
    found.push({ from: file, to, typeOnly });
  };
  for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?([^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm)) {
    // `import { type A, type B } from` loads nothing either
    const names = /^\{([^}]*)\}/
      .exec(m[2]?.trim() ?? '')?.[1]
      ?.split(',')
      .map((n) => n.trim())
      .filter(Boolean);
    add(m[3]!, Boolean(m[1]) || Boolean(names?.length && names.every((n) => n.startsWith('type '))));
  }
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g))
    add(m[1]!, /^\s*(?:\/\/|\*)/.test(lineAt(text, m.index!)) || isTypePosition(text, m.index!));
  return found;
}

const statSafe = (rel: string) => {
  try {
    return statSync(path.join(REPO_ROOT, rel)).isFile();
  } catch {
    return false;
  }
};
const lineAt = (text: string, i: number) => text.slice(text.lastIndexOf('\n', i) + 1, i);
/** `import('x').T` in a type annotation loads nothing at run time. */
const isTypePosition = (text: string, i: number) =>
  /^import\(\s*['"][^'"]+['"]\s*\)\.[A-Z]/.test(text.slice(i)) && !/await\s*$/.test(text.slice(Math.max(0, i - 10), i));

const ALL = PRODUCT_DIRS.flatMap(tsFiles);
const IMPORTS = ALL.flatMap((f) => importsOf(f));

const under = (dir: string) => (p: string) => p === dir || p.startsWith(`${dir}/`);

/** Each rule: which files, what they must not import, and whether type-only imports are allowed. */
const RULES: Array<{ name: string; files: (f: string) => boolean; forbidden: (to: string) => boolean; typesAllowed?: boolean }> = [
  {
    name: 'command builders (src/freebsd, src/caddy) import nothing from the SSH layer, the host services, the config loading or anything above',
    files: (f) => under('src/freebsd')(f) || under('src/caddy')(f),
    forbidden: (to) => ['src/ssh', 'src/host', 'src/config', 'activities', 'workflows', 'src/temporal', 'src/cli'].some((d) => under(d)(to)),
  },
  {
    name: 'the host layout imports nothing',
    files: (f) => f === 'src/freebsd/layout.ts',
    forbidden: () => true,
  },
  {
    name: 'workflows import nothing from the client/worker side, the SSH layer, the host services or the activities at run time',
    files: under('workflows'),
    forbidden: (to) => ['src/temporal', 'src/cli', 'src/ssh', 'src/host', 'activities'].some((d) => under(d)(to)),
    typesAllowed: true,
  },
  {
    name: 'workflows import nothing from config loading, not even types',
    files: under('workflows'),
    forbidden: under('src/config'),
  },
  {
    name: 'the pure model (the target, durations, search attributes, step results) imports nothing outside itself',
    files: under('src/model'),
    forbidden: (to) => !under('src/model')(to),
  },
  {
    name: 'the CLI imports no activity, not even a type',
    files: under('src/cli'),
    forbidden: under('activities'),
  },
  {
    name: 'activities import nothing from the CLI, the worker side or the workflows',
    files: under('activities'),
    forbidden: (to) => ['src/cli', 'src/temporal', 'workflows'].some((d) => under(d)(to)),
  },
  {
    name: 'the host services import nothing from the activities, workflows, worker side or CLI',
    files: under('src/host'),
    forbidden: (to) => ['activities', 'workflows', 'src/temporal', 'src/cli'].some((d) => under(d)(to)),
  },
  {
    name: 'the SSH layer imports nothing from the layers that use it',
    files: under('src/ssh'),
    forbidden: (to) => ['src/freebsd', 'src/caddy', 'src/host', 'src/config', 'activities', 'workflows', 'src/temporal', 'src/cli'].some((d) => under(d)(to)),
  },
];

/** The import lines a rule forbids, "from → to". */
export function violations(imports: Import[] = IMPORTS): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of RULES) {
    const bad = imports
      .filter((i) => r.files(i.from) && r.forbidden(i.to) && !(r.typesAllowed && i.typeOnly))
      .map((i) => `${i.from} → ${i.to}${i.typeOnly ? ' (type)' : ''}`);
    out.set(r.name, bad);
  }
  return out;
}

/** Modules that define an activity factory (createXActivities). */
const ACTIVITY_MODULES = tsFiles('activities').filter(
  (f) => /^export function create\w+Activities\(/m.test(readFileSync(path.join(REPO_ROOT, f), 'utf8')) && f !== 'activities/index.ts',
);

/** Paths on the host, as literals: each belongs to src/freebsd/layout.ts. */
const HOST_PATHS = [
  '/var/db/alcaide',
  '/var/run/alcaide',
  '/usr/local/jails',
  '/etc/jail.conf.d',
  '/usr/local/etc/caddy',
  '/etc/pf.conf',
  '/etc/hosts',
  '/etc/sysctl.conf',
  '/usr/local/alcaide',
  '/usr/local/etc/rc.d',
  '/etc/rc.conf.d',
  '/usr/local/etc/newsyslog.conf.d',
  '/usr/local/libexec',
  '/var/log/jail_console',
];

/** The code without its comments: a comment may name a path, code takes it from the layout. */
const withoutComments = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\w])\/\/.*$/gm, '$1');

describe('layers', () => {
  test('the source tree is read: every layer has files and imports', () => {
    for (const d of ['src/cli', 'src/temporal', 'workflows', 'activities', 'src/host', 'src/freebsd', 'src/caddy', 'src/ssh', 'src/config', 'src/model']) {
      assert.ok(ALL.some(under(d)), `${d} has TypeScript files`);
      assert.ok(IMPORTS.some((i) => under(d)(i.from)) || d === 'src/model', `${d} imports something`);
    }
    assert.ok(ACTIVITY_MODULES.length >= 6, `activity modules found: ${ACTIVITY_MODULES.join(', ')}`);
  });

  test('the rules catch what they forbid (a builder importing the SSH layer, a workflow importing the worker at run time)', () => {
    const v = violations([
      { from: 'src/freebsd/files.ts', to: 'src/ssh/upload', typeOnly: true },
      { from: 'workflows/nightly.ts', to: 'src/temporal/searchAttributes', typeOnly: false },
      { from: 'workflows/saga.ts', to: 'activities/index', typeOnly: true },
    ]);
    const all = [...v.values()].flat();
    assert.ok(all.includes('src/freebsd/files.ts → src/ssh/upload (type)'));
    assert.ok(all.includes('workflows/nightly.ts → src/temporal/searchAttributes'));
    assert.ok(!all.some((x) => x.startsWith('workflows/saga.ts')), 'a type import of the activities is allowed in workflows');
  });

  for (const [rule, bad] of violations()) {
    test(rule, () => assert.deepEqual(bad, []));
  }

  test('activity modules do not import one another: what they share lives in modules without a factory', () => {
    const bad = IMPORTS.filter((i) => ACTIVITY_MODULES.includes(i.from) && ACTIVITY_MODULES.includes(`${i.to}.ts`)).map((i) => `${i.from} → ${i.to}`);
    assert.deepEqual(bad, []);
  });

  test('every host path is spelled in src/freebsd/layout.ts only', () => {
    const bad: string[] = [];
    for (const f of ALL.filter((f) => f !== 'src/freebsd/layout.ts')) {
      const code = withoutComments(readFileSync(path.join(REPO_ROOT, f), 'utf8'));
      for (const p of HOST_PATHS) if (code.includes(p)) bad.push(`${f}: ${p}`);
    }
    assert.deepEqual(bad, []);
    const layout = readFileSync(path.join(REPO_ROOT, 'src/freebsd/layout.ts'), 'utf8');
    for (const p of HOST_PATHS) assert.ok(layout.includes(p), `the layout spells ${p}`);
  });
});
