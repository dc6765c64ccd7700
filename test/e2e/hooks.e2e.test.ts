// End to end: hooks (docs/hooks.md) with the real CLI and its embedded worker, the Temporal dev
// server, OpenSSH, Caddy and the fixture release on a simulated FreeBSD host. Real executables
// in .alcaide/hooks/ write what they got to files; a remote post-switch hook runs in the new
// slot as the app user; a failing pre-deploy hook leaves the host as it was; --skip-hooks.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readCommandLog, sshRun, type SimHost } from '../simhost/index';
import { E2eProject, ok } from '../helpers/e2eProject';

const MASTER = Buffer.alloc(32, 23);
// a value no quoting or line splitting may change on its way
const WEBHOOK = `https://hooks.example/T0/B1?x='1'&y="2"\n$HOME \\ ü`;
const SECRET_KEY_BASE = 'k'.repeat(64);
const DEPLOY_HOOKS = ['pre-connect', 'pre-build', 'pre-deploy', 'pre-switch', 'post-switch', 'post-deploy'];

let p: E2eProject;
let host: SimHost;
let out: string;

/** An executable hook that records its ALCAIDE_* variables, its secret and its turn under `out`. */
const recorder = () => `#!/bin/sh
env | grep '^ALCAIDE_' | sort > "${out}/$ALCAIDE_HOOK.env"
printf '%s' "$SLACK_WEBHOOK_URL" > "${out}/$ALCAIDE_HOOK.secret"
echo "$ALCAIDE_HOOK" >> "${out}/order"
echo "recorded $ALCAIDE_HOOK"
`;

function writeHook(name: string, script: string): void {
  const dir = path.join(p.app, '.alcaide', 'hooks');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, name), script);
  chmodSync(path.join(dir, name), 0o755);
}

const envOf = (hook: string) =>
  Object.fromEntries(
    readFileSync(path.join(out, `${hook}.env`), 'utf8')
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
const order = () => readFileSync(path.join(out, 'order'), 'utf8').trim().split('\n');
const served = async () => (await fetch(`http://${host.host}/`, { signal: AbortSignal.timeout(10_000) })).text();

before(async () => {
  p = await E2eProject.start({
    prefix: 'alcaide-hooks-e2e-',
    queue: 'hooks-e2e',
    masterKey: MASTER,
    config: {
      env: { secret: ['SLACK_WEBHOOK_URL', 'SECRET_KEY_BASE'] },
      hooks: {
        'post-deploy': { secrets: ['SLACK_WEBHOOK_URL'] },
        // it prints an app secret of its environment: what is kept of its output names it instead
        'post-switch': { remote: 'echo "$ALCAIDE_SLOT $(id -un)" > /tmp/warmed && echo "warmed with $SECRET_KEY_BASE"' },
      },
    },
  });
  host = p.host;
  out = path.join(p.project.dir, 'hook-out');
  mkdirSync(out);
  await p.secrets({ SLACK_WEBHOOK_URL: WEBHOOK, SECRET_KEY_BASE });
  for (const h of DEPLOY_HOOKS) writeHook(h, recorder());
  writeHook('post-rollback.sample', '#!/bin/sh\nexit 1\n');
  p.commit('hooks');
});

after(async () => {
  await p?.stop();
});

describe('hooks', () => {
  test('a deploy runs every hook as its step, in order, with the run in its environment; the named secret alone, byte-exact', async () => {
    ok(await p.cli(['setup']));
    const r = await p.cli(['deploy']);
    ok(r);
    assert.deepEqual(order(), DEPLOY_HOOKS);
    for (const h of DEPLOY_HOOKS) assert.match(r.stdout, new RegExp(`✓ ${h} hook .*recorded ${h}`), r.stdout);
    assert.match(r.stdout, /✓ post-switch hook .*ran in hello_blue: warmed with \[secret SECRET_KEY_BASE\]/);
    assert.ok(!r.stdout.includes(SECRET_KEY_BASE), 'the secret a remote hook printed is not shown');
    const env = envOf('post-deploy');
    assert.equal(env.ALCAIDE_APP, 'hello');
    assert.equal(env.ALCAIDE_COMMAND, 'deploy');
    assert.equal(env.ALCAIDE_VERSION, p.head());
    assert.equal(env.ALCAIDE_HOSTS, host.host);
    assert.equal(env.ALCAIDE_SLOT, 'blue');
    assert.match(env.ALCAIDE_PERFORMER ?? '', /@/);
    assert.match(env.ALCAIDE_RUNTIME ?? '', /^\d+$/);
    assert.match(env.ALCAIDE_RECORDED_AT ?? '', /^\d{4}-\d\d-\d\dT/);
    assert.match(env.ALCAIDE_WEB_UI ?? '', /\/workflows\/alcaide-hello\/history$/);
    assert.equal(envOf('pre-connect').ALCAIDE_SLOT, undefined, 'no slot chosen before the connection');
    assert.equal(readFileSync(path.join(out, 'post-deploy.secret'), 'utf8'), WEBHOOK);
    for (const h of DEPLOY_HOOKS.filter((x) => x !== 'post-deploy'))
      assert.equal(readFileSync(path.join(out, `${h}.secret`), 'utf8'), '', `${h} got the secret`);
    // the remote post-switch hook ran in the new live slot as the app user
    const warmed = await sshRun(host, 'cat /usr/local/jails/hello_blue/tmp/warmed');
    assert.equal(warmed.stdout, 'blue hello\n', warmed.stderr);
    const status = await p.cli(['status']);
    assert.match(status.stdout, /✓ pre-deploy hook/);
    assert.ok(!status.stdout.includes(SECRET_KEY_BASE), 'nor in the status');
  });

  test('a failing pre-deploy hook stops the deploy with its exit code and output; the host is unchanged', async () => {
    writeHook('pre-deploy', '#!/bin/sh\necho "checking CI"\necho "no deploys on Fridays" >&2\nexit 4\n');
    p.commitVersion('2.0.0');
    const logBefore = readCommandLog(host).length;
    const r = await p.cli(['deploy']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /pre-deploy hook failed: \.alcaide\/hooks\/pre-deploy exited 4:\n/);
    assert.match(r.stderr, /no deploys on Fridays/, 'the tail of its output');
    assert.match(r.stderr, /--skip-hooks/, 'the hint');
    assert.deepEqual(order().slice(-2), ['pre-connect', 'pre-build']);
    // the slot jail was never made (and so never removed again): no command wrote its marker
    const made = readCommandLog(host)
      .slice(logBefore)
      .filter((e) => e.cmd?.includes('/usr/local/jails/hello_green/usr/local/etc/alcaide-slot'));
    assert.deepEqual(made, [], 'no command touched the green slot jail');
    assert.equal((await sshRun(host, 'test -e /etc/jail.conf.d/hello_green.conf')).code, 1, 'no green slot jail');
    assert.equal(await served(), 'hello v1.0.0 slot=blue');
  });

  test('--skip-hooks deploys without any hook', async () => {
    const before = order().length;
    ok(await p.cli(['deploy', '--skip-hooks']));
    assert.equal(order().length, before, 'no hook ran');
    assert.equal(await served(), 'hello v2.0.0 slot=green');
    assert.ok(!existsSync(path.join(out, 'post-rollback.env')), 'a .sample is no hook');
  });

  test('a rollback runs its hooks; a failing post-rollback hook is reported and the rollback stands', async () => {
    writeHook('post-rollback', '#!/bin/sh\necho "chat is down" >&2\nexit 1\n');
    p.commit('post-rollback hook');
    const before = order().length;
    const r = await p.cli(['rollback']);
    ok(r);
    assert.deepEqual(order().slice(before), ['pre-connect', 'pre-switch', 'post-switch']);
    assert.equal(envOf('post-switch').ALCAIDE_COMMAND, 'rollback');
    assert.equal(envOf('post-switch').ALCAIDE_SLOT, 'blue');
    assert.match(r.stdout, /! post-rollback hook .*failed; the run went on\n\s+\.alcaide\/hooks\/post-rollback exited 1:\nchat is down/);
    assert.match(
      r.stdout,
      /✓ hello [0-9a-f]{12} rolled back to blue.*\n! post-rollback hook failed \(the rollback stands\): \.alcaide\/hooks\/post-rollback exited 1/,
    );
    assert.equal(await served(), 'hello v1.0.0 slot=blue');
    assert.match((await p.cli(['status'])).stdout, /! post-rollback hook/);
  });
});
