import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { buildScript, chooseRelease } from '../../src/freebsd/build';
import { REPO_ROOT } from '../helpers/paths';
import { renderEnvFile, renderRcScript, renderRunner } from '../../src/freebsd/app';
import { runCli, tempProject } from '../helpers/cli';
import { HOSTILE } from '../helpers/hostile';

describe('app files in the slot jail', () => {
  test('the env file gives the app every value byte for byte when sourced with set -a', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'alcaide-env-'));
    try {
      const vars = Object.fromEntries(HOSTILE.map((v, i) => [`V${i}`, v]));
      writeFileSync(path.join(dir, 'app.env'), renderEnvFile(vars));
      for (const [k, v] of Object.entries(vars)) {
        const printed = spawnSync('/bin/sh', ['-c', `set -a; . ./app.env; set +a; printf %s "$${k}"`], { cwd: dir, encoding: 'utf8', env: {} }).stdout;
        assert.equal(printed, v, `${k}=${JSON.stringify(v)}`);
      }
      assert.notEqual(spawnSync('ls', ['/tmp/alcaide-pwned']).status, 0, 'no injected command ran');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('rc.d script: rc.subr service under daemon(8) supervision, stopped through the supervisor', () => {
    const rc = renderRcScript({ app: 'my_app', releaseName: 'my_app' });
    assert.match(rc, /^#!\/bin\/sh\n#\n# PROVIDE: my_app\n# REQUIRE: LOGIN NETWORKING\n# KEYWORD: shutdown\n/);
    assert.ok(rc.includes('rcvar="my_app_enable"'));
    assert.ok(rc.includes('pidfile="/var/run/my_app_supervisor.pid"'));
    assert.ok(
      rc.includes('command_args="-f -r -H -u my_app -P ${pidfile} -p ${child_pidfile} -o /var/log/my_app.log -t my_app /usr/local/libexec/my_app-run"'),
    );
    assert.equal(spawnSync('sh', ['-n', '-c', rc]).status, 0, 'valid sh');
    const runner = renderRunner({ app: 'my_app', releaseName: 'shop' });
    assert.ok(runner.includes('. /usr/local/etc/my_app.env') && runner.endsWith('exec /usr/local/my_app/bin/shop start\n'));
  });

  test('the release mix builds: the named one when mix.exs declares releases, else the default', () => {
    for (const [fixture, want] of [
      ['app', 'hello'],
      ['phx-app', ''],
    ]) {
      const r = spawnSync('sh', ['-c', `${chooseRelease(fixture === 'app' ? 'hello' : 'shop')}; printf '%s' "$release"`], {
        cwd: path.join(REPO_ROOT, 'test', 'fixtures', fixture!),
        encoding: 'utf8',
      });
      assert.equal(r.stdout, want, fixture);
    }
  });

  test('build script: warm cache kept, assets when present, ERTS required', () => {
    const s = buildScript('my_app', 'my_app', 'f'.repeat(40));
    assert.equal(spawnSync('sh', ['-n', '-c', s]).status, 0, 'valid sh');
    assert.ok(s.includes('find . -mindepth 1 -maxdepth 1 ! -name deps ! -name _build -exec rm -rf {} +'));
    assert.ok(s.includes(`if grep -Eq '"assets\\.deploy"[[:space:]]*:' mix.exs; then assets='+ assets.deploy'; else assets=''; fi`));
    assert.ok(s.includes('exit 65'));
    assert.ok(
      s.includes(`mix do deps.get --only prod + compile $assets + release $release --overwrite --path /usr/local/alcaide/releases/${'f'.repeat(40)}`),
      'one mix VM',
    );
    // the alias check on a Phoenix-style mix.exs and on one without assets
    const check = s.split('\n').find((l) => l.includes('assets.deploy'))!;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'alcaide-mix-'));
    writeFileSync(path.join(dir, 'mix.exs'), 'defp aliases do\n  ["assets.deploy": ["esbuild default --minify", "phx.digest"]]\nend\n');
    assert.equal(spawnSync('sh', ['-c', `${check}; printf %s "$assets"`], { cwd: dir, encoding: 'utf8' }).stdout, '+ assets.deploy');
    writeFileSync(path.join(dir, 'mix.exs'), '# run mix assets.deploy by hand\ndefp aliases, do: []\n');
    assert.equal(spawnSync('sh', ['-c', `${check}; printf %s "$assets"`], { cwd: dir, encoding: 'utf8' }).stdout, '');
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('alcaide deploy refuses bad input before contacting anything', () => {
  const VALID = 'app: my_app\nserver:\n  host: 203.0.113.10\n';
  const git = (dir: string, ...args: string[]) => spawnSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { encoding: 'utf8' });
  const env = { TEMPORAL_ADDRESS: '127.0.0.1:1' }; // would fail loudly if contacted

  test('not a git repository', () => {
    const p = tempProject();
    writeFileSync(path.join(p.dir, 'deploy.yml'), VALID);
    const r = runCli(['deploy'], { cwd: p.dir, env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /is not a git repository: alcaide deploys a commit/);
    p.cleanup();
  });

  test('uncommitted changes, unknown ref', () => {
    const p = tempProject();
    writeFileSync(path.join(p.dir, 'deploy.yml'), VALID);
    git(p.dir, 'init', '-q');
    git(p.dir, 'add', '.');
    git(p.dir, 'commit', '-qm', 'one');
    writeFileSync(path.join(p.dir, 'deploy.yml'), `${VALID}# edited\n`);
    const dirty = runCli(['deploy'], { cwd: p.dir, env });
    assert.equal(dirty.code, 2);
    assert.match(dirty.stderr, /the working tree has uncommitted changes; a deploy ships a commit/);
    assert.match(dirty.stderr, /M deploy\.yml/);
    assert.match(dirty.stderr, /hint: commit them, or pass --allow-dirty/);
    const ref = runCli(['deploy', '--ref', 'v9.9.9'], { cwd: p.dir, env });
    assert.equal(ref.code, 2);
    assert.match(ref.stderr, /--ref v9\.9\.9: no such commit/);
    const allowed = runCli(['deploy', '--allow-dirty'], { cwd: p.dir, env });
    assert.equal(allowed.code, 1, 'gets as far as Temporal');
    assert.match(allowed.stderr, /cannot reach Temporal at 127\.0\.0\.1:1/);
    p.cleanup();
  });

  test('a malformed --bake, clashing modes, and bad on_failure / bake in deploy.yml', () => {
    const p = tempProject();
    writeFileSync(path.join(p.dir, 'deploy.yml'), VALID);
    git(p.dir, 'init', '-q');
    git(p.dir, 'add', '.');
    git(p.dir, 'commit', '-qm', 'one');
    const bake = runCli(['deploy', '--bake', '5 minutes'], { cwd: p.dir, env });
    assert.equal(bake.code, 2);
    assert.match(bake.stderr, /--bake 5 minutes: expected a duration such as "90s", "5m" or "1h"/);
    const modes = runCli(['deploy', '--attach', '--resume-from-failure'], { cwd: p.dir, env });
    assert.equal(modes.code, 2);
    assert.match(modes.stderr, /--attach, --detach and --resume-from-failure do not go together/);
    writeFileSync(path.join(p.dir, 'deploy.yml'), `${VALID}on_failure: wait\nbake: soon\n`);
    const conf = runCli(['deploy', '--allow-dirty'], { cwd: p.dir, env });
    assert.equal(conf.code, 2);
    assert.match(conf.stderr, /on_failure: expected "compensate" or "hold"/);
    assert.match(conf.stderr, /bake: expected a duration/);
    p.cleanup();
  });
});

describe('health check pacing', () => {
  test('polls after 50 ms, then twice as long each time, never longer than the interval', async () => {
    const { healthPause } = await import('../../activities/deploy');
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 50].map((n) => healthPause(1000, n)),
      [50, 100, 200, 400, 800, 1000, 1000, 1000],
    );
    assert.deepEqual(
      [1, 2, 3].map((n) => healthPause(200, n)),
      [50, 100, 200],
    );
    assert.equal(healthPause(20, 1), 20, 'an interval below 50 ms is kept');
  });
});
