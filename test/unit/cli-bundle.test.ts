// The CLI runs from one bundle (dist/alcaide.js) with a per-command V8 code cache; the worker
// side stays outside it, loaded from dist/ and node_modules/ only when a worker runs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { CLI, REPO_ROOT } from '../helpers/paths';

const version = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const run = (args: string[], cacheHome: string) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: cacheHome } });

test('the first run of a command saves its code cache; the next run uses it and leaves it as it is', () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'alcaide-cache-'));
  try {
    const first = run(['version'], home);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.stdout.trim(), version);
    const files = readdirSync(path.join(home, 'alcaide'));
    assert.equal(files.length, 1);
    assert.match(files[0]!, /^cli-[0-9a-f]{12}-\d+-\d+-v[\d.]+-version\.v8$/);
    const file = path.join(home, 'alcaide', files[0]!);
    assert.ok(statSync(file).size > 10_000, 'V8 wrote compiled code');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const before = statSync(file);
    const second = run(['version'], home);
    assert.equal(second.stdout, first.stdout);
    const after = statSync(file);
    assert.deepEqual([after.ino, after.mtimeMs], [before.ino, before.mtimeMs], 'an accepted cache is not written again');
    // a cache V8 rejects (another bundle of the same length, a damaged file) is replaced
    writeFileSync(file, Buffer.alloc(before.size, 1));
    const third = run(['version'], home);
    assert.equal(third.stdout, first.stdout);
    assert.notDeepEqual(readFileSync(file), Buffer.alloc(before.size, 1));
    // each command has its own
    assert.equal(run(['--help'], home).status, 0);
    assert.equal(readdirSync(path.join(home, 'alcaide')).length, 2);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('a save removes this checkout’s caches of earlier builds and other checkouts’ caches not written for a month', () => {
  const home = mkdtempSync(path.join(os.tmpdir(), 'alcaide-cache-'));
  try {
    const dir = path.join(home, 'alcaide');
    mkdirSync(dir);
    const here = createHash('sha256')
      .update(path.join(REPO_ROOT, 'dist', 'alcaide.js'))
      .digest('hex')
      .slice(0, 12);
    const old = (Date.now() - 40 * 24 * 3600 * 1000) / 1000;
    const files = {
      earlierBuild: `cli-${here}-1-2-v20.0.0-status.v8`,
      goneCheckout: 'cli-0123456789ab-1-2-v20.0.0-deploy.v8',
      liveCheckout: 'cli-ba9876543210-1-2-v20.0.0-deploy.v8',
      notOurs: 'notes.txt',
    };
    for (const f of Object.values(files)) writeFileSync(path.join(dir, f), 'x');
    for (const f of [files.goneCheckout, files.notOurs]) utimesSync(path.join(dir, f), old, old);
    assert.equal(run(['version'], home).status, 0);
    const left = readdirSync(dir).sort();
    assert.equal(left.length, 3, left.join(' '));
    assert.ok(left.includes(files.liveCheckout) && left.includes(files.notOurs), left.join(' '));
    assert.match(left.find((f) => f.startsWith(`cli-${here}-`)) ?? '', /-version\.v8$/, 'only this build’s own cache of this checkout');
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('a cache directory that cannot be written costs only start-up time', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'alcaide-cache-'));
  try {
    const notADir = path.join(dir, 'file');
    writeFileSync(notADir, '');
    const r = run(['version'], notADir);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), version);
    assert.equal(r.stderr, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the bundle holds the CLI and the Temporal client, not the worker side', () => {
  const bundle = readFileSync(path.join(REPO_ROOT, 'dist', 'alcaide.js'), 'utf8');
  // the files it holds, from esbuild's "// path" comments; a node_modules reached through a
  // symlink is named by its real path (../../x/node_modules/…): read from node_modules/ on
  const sources = [...bundle.matchAll(/^\/\/ (\S+\.js)$/gm)].map((m) => m[1]!.replace(/^.*?(?=node_modules\/)/, ''));
  assert.ok(
    sources.includes('node_modules/@temporalio/client/lib/workflow-client.js'),
    `the Temporal client is bundled; bundled: ${sources.slice(0, 5).join(', ')}, …`,
  );
  assert.ok(sources.includes('dist/src/cli/main.js'), 'the CLI is bundled');
  for (const inside of [
    'node_modules/@temporalio/worker/',
    'node_modules/@temporalio/activity/',
    'node_modules/ssh2/',
    'dist/activities/',
    'dist/src/ssh/',
    'dist/src/host/',
  ]) {
    assert.deepEqual(
      sources.filter((s) => s.startsWith(inside)),
      [],
      `${inside} is not bundled`,
    );
  }
  // one byte per character for V8 (a single character beyond ASCII, even in a comment, doubles it)
  const wide = bundle.search(/[^\x00-\x7f]/); // eslint-disable-line no-control-regex
  assert.equal(wide, -1, `the bundle is ASCII; at ${wide}: ${bundle.slice(wide - 40, wide + 40)}`);
  assert.ok(bundle.includes('require("./src/temporal/worker")'), 'the worker is required from dist/ at run time');
  assert.ok(bundle.includes('require("./src/host/hostState")'), "the CLI's SSH side (logs, run) is required from dist/ at run time");
});
