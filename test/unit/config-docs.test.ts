// `alcaide docs` and docs/configuration.md's key table: every deploy.yml key, its default and
// its description, read from the schema itself.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { configKeys, keyNote, keysFor, renderKeys, renderMarkdownTable, withGeneratedTable } from '../../src/config/docs';
import { deployYmlTemplate } from '../../src/config/template';
import { configSchema } from '../../src/config/schema';
import { runCli, tempProject } from '../helpers/cli';
import { REPO_ROOT } from '../helpers/paths';

const project = tempProject();
after(project.cleanup);

describe('the deploy.yml keys', () => {
  test('are all there, nested keys under their mapping, each with a description', () => {
    const keys = configKeys();
    const paths = keys.map((k) => k.path);
    for (const p of [
      'app',
      'server.host',
      'servers[].labels',
      'roles.NAME.cmd',
      'boot.limit',
      'accessories.postgresql.password_secret',
      'temporal.tls.server_name',
      'aliases',
    ])
      assert.ok(paths.includes(p), `${p} is not among ${paths.join(', ')}`);
    const undocumented = keys.filter((k) => !k.description?.trim()).map((k) => k.path);
    assert.deepEqual(undocumented, [], `keys without .meta({ description }) in src/config/schema.ts: ${undocumented.join(', ')}`);
  });

  test('show their defaults as deploy.yml would have them, which parse to what the config gets', () => {
    const byPath = Object.fromEntries(configKeys().map((k) => [k.path, k.default]));
    assert.equal(byPath['app'], 'required');
    assert.equal(byPath['server.user'], 'root');
    assert.equal(byPath['domain'], 'none');
    assert.equal(byPath['boot.limit'], '1');
    assert.equal(byPath['health_check.interval'], '1s');
    assert.equal(byPath['hold_timeout'], '1h');
    assert.equal(byPath['env.secret'], '[]');
    assert.equal(byPath['build.host'], "the primary role's first host");
    assert.equal(byPath['temporal.address'], 'localhost:7233');
    const c = configSchema.parse({ app: 'my_app', server: { host: 'example.com' } });
    assert.deepEqual([c.boot.limit, c.boot.wait, c.health_check.interval, c.health_check.timeout], [{ count: 1 }, 0, 1000, 30_000]);
    assert.deepEqual([c.drain_timeout, c.hold_timeout, c.bake], [10_000, 3_600_000, 0]);
  });
});

describe('alcaide docs', () => {
  test('prints each key with its default and its description wrapped to the terminal', () => {
    const out = renderKeys(configKeys(), 60);
    assert.match(out, /^boot\.limit {2}\(default: 1\)\n {4}how many web hosts switch at once: a count, or a share\n {4}such as "25%"$/m);
    assert.match(out, /^app {2}\(required\)$/m);
    assert.match(out, /^server {2}\(required unless servers\)$/m);
    assert.ok(!out.includes('`'), 'markdown code quotes are dropped');
    const long = out.split('\n').filter((l) => l.length > 60 && l.startsWith('    ') && l.trim().includes(' '));
    assert.deepEqual(long, []);
  });

  test('prints the keys under a top-level key, or one key', () => {
    const paths = (t: string) => {
      const r = keysFor(t);
      return 'keys' in r ? r.keys.map((k) => k.path) : r.error;
    };
    assert.deepEqual(paths('boot'), ['boot', 'boot.limit', 'boot.wait', 'boot.prepare']);
    assert.deepEqual(paths('servers'), ['servers', 'servers[].host', 'servers[].user', 'servers[].port', 'servers[].labels']);
    assert.deepEqual(paths('roles.NAME.cmd'), ['roles.NAME.cmd']);
    assert.deepEqual(paths('health_check.timeout'), ['health_check.timeout']);
  });

  test('refuses an unknown topic with exit 2, the topics there are and a guess, without a deploy.yml', () => {
    const r = runCli(['docs', 'health_chek'], { cwd: project.dir });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /no key "health_chek" \(did you mean "health_check"\?\); the topics are: app, server, servers, roles, .*, aliases/);
    const ok = runCli(['docs', 'health_check'], { cwd: project.dir });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^health_check\.interval {2}\(default: 1s\)$/m);
  });

  test('works next to a deploy.yml that does not load', () => {
    writeFileSync(path.join(project.dir, 'deploy.yml'), 'app: [not, a, name]\n');
    const r = runCli(['docs', 'boot.limit'], { cwd: project.dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^boot\.limit {2}\(default: 1\)/);
  });
});

test("docs/configuration.md's key table is the schema's", () => {
  const page = readFileSync(path.join(REPO_ROOT, 'docs', 'configuration.md'), 'utf8');
  assert.ok(page.includes(renderMarkdownTable()), 'the table is there');
  assert.equal(page, withGeneratedTable(page), 'docs/configuration.md differs from the schema: run `npm run build && node scripts/config-table.js`');
});

test("init's deploy.yml says what a key does in the schema's words", () => {
  // comment markers and line breaks aside
  const text = deployYmlTemplate('my_app', 'example.com')
    .split('\n')
    .map((l) => l.replace(/^.*?# ?/, ''))
    .join(' ')
    .toLowerCase();
  for (const key of ['domain', 'app_jail.port', 'env.secret', 'health_check.path', 'drain_timeout', 'on_failure', 'hold_timeout', 'bake'])
    assert.ok(text.includes(keyNote(key).toLowerCase()), `the template describes ${key} as the schema does`);
});
