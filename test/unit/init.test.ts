// `alcaide init` reads the mix project: the file it writes for each fixture app loads as a
// configuration that deploys it (the end-to-end phx.new test deploys what it writes).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { findHooks } from '../../src/cli/hooks';
import { loadConfig } from '../../src/config/load';
import { readMixProject, releaseNames } from '../../src/config/mixProject';
import { runCli } from '../helpers/cli';
import { REPO_ROOT } from '../helpers/paths';

const dir = mkdtempSync(path.join(os.tmpdir(), 'alcaide-init-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function initIn(fixture: string, as = fixture): { stdout: string; config: ReturnType<typeof loadConfig> } {
  const project = path.join(dir, as);
  cpSync(path.join(REPO_ROOT, 'test', 'fixtures', fixture), project, { recursive: true });
  const r = runCli(['init', '--host', '203.0.113.10'], { cwd: project, env: { NO_COLOR: '1' } });
  assert.equal(r.code, 0, r.stderr);
  return { stdout: r.stdout, config: loadConfig({ cwd: project }) };
}

describe('alcaide init reads the mix project', () => {
  test('a phx.new + phx.gen.release app: the default release, its Release module, the database, SECRET_KEY_BASE', () => {
    assert.deepEqual(readMixProject(path.join(REPO_ROOT, 'test', 'fixtures', 'phx-app')), {
      app: 'shop',
      releases: [],
      releaseModule: 'Shop.Release',
      database: true,
      secretKeyBase: true,
      phoenix: true,
    });
    const { stdout, config } = initIn('phx-app');
    assert.match(stdout, /for a Phoenix app/);
    assert.match(stdout, /mix phx\.gen\.secret \| alcaide secrets set SECRET_KEY_BASE/);
    assert.equal(config.release.name, 'shop');
    assert.equal(config.release.migrate, 'Shop.Release.migrate()');
    assert.equal(config.release.migrate_before_start, false);
    assert.equal(config.health_check.path, '/');
    assert.deepEqual(config.env.secret, ['SECRET_KEY_BASE']);
    assert.deepEqual(config.env.clear, {}, 'PHX_HOST comes from the domain or the server');
    assert.equal(config.accessories.postgresql?.database, 'shop_prod');
    assert.equal(config.server.host, '203.0.113.10');
  });

  test('our own fixture: the release it declares, no database', () => {
    assert.deepEqual(readMixProject(path.join(REPO_ROOT, 'test', 'fixtures', 'app'))?.releases, ['hello']);
    const { config } = initIn('app');
    assert.equal(config.release.name, 'hello');
    assert.equal(config.accessories.postgresql, undefined);
    assert.match(readFileSync(path.join(dir, 'app', 'deploy.yml'), 'utf8'), /^# accessories:/m, 'the accessory stays a comment');
  });

  test('sample hooks: valid sh, never a hook until renamed', () => {
    const { stdout, config } = initIn('phx-app', 'samples');
    assert.match(stdout, /wrote \.alcaide\/hooks\/pre-deploy\.sample, \.alcaide\/hooks\/post-deploy\.sample/);
    for (const f of ['pre-deploy.sample', 'post-deploy.sample']) {
      const file = path.join(dir, 'samples', '.alcaide', 'hooks', f);
      assert.equal(spawnSync('sh', ['-n', file]).status, 0, `${f} parses`);
    }
    assert.deepEqual(findHooks(config).hooks, [], 'a .sample is no hook');
  });
});

test('release names: the top-level keys of releases:, not their options', () => {
  const mix = `def project do
    [app: :shop, releases: [
      # the web node
      web: [include_erts: true, applications: [shop: :permanent], steps: [:assemble]],
      worker: [
        include_executables_for: [:unix]
      ]
    ], deps: deps()]
  end`;
  assert.deepEqual(releaseNames(mix), ['web', 'worker']);
  assert.deepEqual(releaseNames('def project, do: [app: :shop, deps: []]'), []);
});
