// Hooks (docs/hooks.md) on this machine: the runHook activity runs real executables — what
// reaches their environment (no secret unless the config names it for that hook; a named one
// byte-exact), their failures (exit code and output tail, a timeout, a missing hook: final);
// which hooks the CLI finds in .alcaide/hooks/; what deploy.yml may say of them.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import '../helpers/plainOutput';
import { ApplicationFailure } from '@temporalio/common';
import { createActivities } from '../../activities';
import { findHooks } from '../../src/cli/hooks';
import { renderStatus } from '../../src/cli/progress';
import { loadConfig } from '../../src/config/load';
import { ConfigError, UserError } from '../../src/errors';
import type { HookName, HookRun } from '../../src/model/hooks';
import { testDeps } from '../helpers/activityDeps';
import { TEST_TARGET } from '../helpers/target';

const root = mkdtempSync(path.join(os.tmpdir(), 'alcaide-hooks-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A project whose hook `name` is `script`; returns its root. */
function project(name: string, hooks: Record<string, { script: string; mode?: number }>): string {
  const dir = path.join(root, name);
  mkdirSync(path.join(dir, '.alcaide', 'hooks'), { recursive: true });
  for (const [hook, { script, mode = 0o755 }] of Object.entries(hooks)) {
    const file = path.join(dir, '.alcaide', 'hooks', hook);
    writeFileSync(file, script);
    chmodSync(file, mode);
  }
  return dir;
}

// a value no shell quoting or line splitting may change on its way
const WEBHOOK = `https://hooks.example/T0/B1?a=1&b='two'\n "three" $HOME \\ ü\ttab`;
const SECRETS = { SLACK_WEBHOOK_URL: WEBHOOK, DATABASE_PASSWORD: 'never-in-a-hook' };

const run = (hook: HookName, o: Partial<HookRun> = {}): HookRun => ({
  hook,
  local: true,
  timeoutMs: 10_000,
  vars: { ALCAIDE_HOOK: hook, ALCAIDE_APP: 'my_app' },
  ...o,
});

function runHook(dir: string, r: HookRun) {
  const { runHook } = createActivities(testDeps({ secrets: () => SECRETS }));
  return runHook({ ...TEST_TARGET, projectRoot: dir }, r);
}

const DUMP_ENV = `#!/bin/sh
printf '%s' "$SLACK_WEBHOOK_URL" > secret.out
env | sed -n 's/^\\([A-Za-z_][A-Za-z0-9_]*\\)=.*/\\1/p' | sort > names.out
pwd > cwd.out
`;

describe('runHook', () => {
  test('the environment: PATH, HOME, the ALCAIDE_* variables; a secret only when named for the hook, byte-exact', async () => {
    process.env.ALCAIDE_TEST_CANARY = 'from the worker';
    const dir = project('env', { 'post-deploy': { script: DUMP_ENV } });
    const named = await runHook(dir, run('post-deploy', { secrets: ['SLACK_WEBHOOK_URL'] }));
    assert.equal(named.changed, true);
    assert.equal(readFileSync(path.join(dir, 'secret.out'), 'utf8'), WEBHOOK);
    const names = readFileSync(path.join(dir, 'names.out'), 'utf8').trim().split('\n');
    for (const n of ['PATH', 'HOME', 'ALCAIDE_HOOK', 'ALCAIDE_APP', 'ALCAIDE_RECORDED_AT', 'SLACK_WEBHOOK_URL'])
      assert.ok(names.includes(n), `${n} in ${names}`);
    for (const n of ['DATABASE_PASSWORD', 'ALCAIDE_TEST_CANARY']) assert.ok(!names.includes(n), `${n} reached the hook`);
    assert.equal(readFileSync(path.join(dir, 'cwd.out'), 'utf8').trim(), dir, 'cwd: the project root');

    await runHook(dir, run('post-deploy'));
    assert.equal(readFileSync(path.join(dir, 'secret.out'), 'utf8'), '', 'not named: no secret');
    assert.ok(!readFileSync(path.join(dir, 'names.out'), 'utf8').includes('SLACK_WEBHOOK_URL'));
    delete process.env.ALCAIDE_TEST_CANARY;
  });

  test('a secret named but not in the secrets file is a precondition, before the hook runs', async () => {
    const dir = project('missing-secret', { 'pre-deploy': { script: '#!/bin/sh\ntouch ran\n' } });
    await assert.rejects(runHook(dir, run('pre-deploy', { secrets: ['NOT_THERE'] })), (e: ApplicationFailure) => {
      assert.equal(e.type, 'PreconditionFailed');
      assert.match(e.message, /NOT_THERE/);
      return true;
    });
  });

  test('a non-zero exit: final, with the exit code and the tail of the output', async () => {
    const script = '#!/bin/sh\nfor i in $(seq 1 40); do echo "line $i"; done\necho "CI is red" >&2\nexit 3\n';
    const dir = project('fails', { 'pre-deploy': { script } });
    await assert.rejects(runHook(dir, run('pre-deploy')), (e: ApplicationFailure) => {
      assert.equal(e.type, 'HookFailed');
      assert.equal(e.nonRetryable, true);
      assert.match(e.message, /^\.alcaide\/hooks\/pre-deploy exited 3:\n/);
      assert.match(e.message, /line 40\nCI is red$/);
      assert.doesNotMatch(e.message, /line 1\n/, 'only the tail');
      return true;
    });
  });

  test('a secret the hook was given and printed is not in its error, its note or the log: [secret NAME] instead', async () => {
    const logged: unknown[] = [];
    const { runHook: hook } = createActivities(
      testDeps({ secrets: () => SECRETS, log: { debug: (_m: string, meta?: unknown) => logged.push(meta) } as never }),
    );
    const leak = '#!/bin/sh\nprintf "url=%s\\n" "$SLACK_WEBHOOK_URL"\nexit ${CODE:-0}\n';
    const dir = project('leak', { 'pre-deploy': { script: leak.replace('${CODE:-0}', '4') }, 'post-deploy': { script: leak } });
    await assert.rejects(hook({ ...TEST_TARGET, projectRoot: dir }, run('pre-deploy', { secrets: ['SLACK_WEBHOOK_URL'] })), (e: ApplicationFailure) => {
      assert.match(e.message, /exited 4:\n/);
      assert.match(e.message, /\[secret SLACK_WEBHOOK_URL\]/);
      for (const line of WEBHOOK.split('\n')) assert.ok(!e.message.includes(line.trim()), `${line} in ${e.message}`);
      return true;
    });
    const ok = await hook({ ...TEST_TARGET, projectRoot: dir }, run('post-deploy', { secrets: ['SLACK_WEBHOOK_URL'] }));
    assert.ok(!ok.note.includes('hooks.example'), ok.note);
    assert.ok(!JSON.stringify(logged).includes('hooks.example'), JSON.stringify(logged));
    assert.ok(JSON.stringify(logged).includes('[secret SLACK_WEBHOOK_URL]'));
  });

  test('a hook that outlives its timeout is stopped, with everything it started', async () => {
    const dir = project('slow', { 'pre-switch': { script: '#!/bin/sh\n(sleep 30; touch late) &\necho waiting\nsleep 30\n' } });
    const started = Date.now();
    await assert.rejects(runHook(dir, run('pre-switch', { timeoutMs: 500 })), (e: ApplicationFailure) => {
      assert.equal(e.type, 'HookFailed');
      assert.match(e.message, /did not finish within 500ms: stopped:\nwaiting/);
      return true;
    });
    assert.ok(Date.now() - started < 10_000, 'ended at the timeout');
  });

  test('a hook missing on the worker fails, saying where it looked', async () => {
    const dir = project('absent', {});
    await assert.rejects(runHook(dir, run('post-switch')), (e: ApplicationFailure) => {
      assert.equal(e.type, 'HookFailed');
      assert.match(e.message, /\.alcaide\/hooks\/post-switch is not there on the worker .*its own checkout/);
      return true;
    });
  });

  test('the note: the last line the hook printed', async () => {
    const dir = project('note', { 'post-deploy': { script: '#!/bin/sh\necho posting\necho "posted to #deploys"\n' } });
    assert.equal((await runHook(dir, run('post-deploy'))).note, '.alcaide/hooks/post-deploy ok: posted to #deploys');
  });
});

describe('findHooks', () => {
  const config = (dir: string, hooks: object = {}) => ({ root: dir, hooks: { timeout: 300_000, ...hooks } }) as Parameters<typeof findHooks>[0];

  test('the executables named for a hook, and the configured remote commands; a .sample is no hook, another name is said', () => {
    const dir = project('found', {
      'pre-deploy': { script: '#!/bin/sh\n' },
      'post-deploy.sample': { script: '#!/bin/sh\n', mode: 0o644 },
      pre_deploy: { script: '#!/bin/sh\n' },
    });
    const found = findHooks(config(dir, { 'post-switch': { secrets: [], remote: 'bin/my_app eval "MyApp.warm()"' }, 'pre-deploy': { secrets: ['SLACK'] } }));
    assert.deepEqual(found.hooks, [
      { hook: 'pre-deploy', local: true, secrets: ['SLACK'], timeoutMs: 300_000 },
      { hook: 'post-switch', local: false, remote: 'bin/my_app eval "MyApp.warm()"', timeoutMs: 300_000 },
    ]);
    assert.deepEqual(found.ignored, ['pre_deploy']);
  });

  test('a file named like a hook that is not executable: exit 2 before anything starts', () => {
    const dir = project('not-executable', { 'pre-build': { script: '#!/bin/sh\n', mode: 0o644 } });
    assert.throws(
      () => findHooks(config(dir)),
      (e: UserError) => e instanceof UserError && e.exitCode === 2 && /pre-build is not executable: `chmod \+x/.test(e.message),
    );
  });

  test('a remote hook on a fleet: exit 2', () => {
    const dir = project('fleet', {});
    assert.throws(
      () => findHooks(config(dir, { 'post-switch': { secrets: [], remote: 'true' } }), { fleet: true }),
      (e: UserError) => e.exitCode === 2 && /several servers/.test(e.message),
    );
  });
});

describe('hooks in deploy.yml', () => {
  const load = (yml: string) => {
    const dir = path.join(root, `cfg-${Math.random().toString(36).slice(2)}`);
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'deploy.yml'), `app: my_app\nserver:\n  host: 203.0.113.10\nenv:\n  secret: [SLACK_WEBHOOK_URL]\n${yml}`);
    return loadConfig({ cwd: dir });
  };

  test('defaults: a 5 minute timeout, no secret, no remote command', () => {
    const c = load('');
    assert.equal(c.hooks.timeout, 300_000);
    assert.equal(c.hooks['post-deploy'], undefined);
  });

  test('a secret a hook names must be in env.secret; remote only where a slot is live; a timeout up to 1h', () => {
    assert.deepEqual(load('hooks:\n  post-deploy:\n    secrets: [SLACK_WEBHOOK_URL]\n').hooks['post-deploy'], { secrets: ['SLACK_WEBHOOK_URL'] });
    const wrong: Array<[string, RegExp]> = [
      [
        'hooks:\n  post-deploy:\n    secrets: [DATABASE_PASSWORD]\n',
        /hooks\.post-deploy\.secrets: expected names in env\.secret \("DATABASE_PASSWORD" is not\)/,
      ],
      ['hooks:\n  pre-build:\n    remote: "true"\n', /hooks\.pre-build/],
      ['hooks:\n  timeout: 2h\n', /hooks\.timeout: expected a duration from 1s to 1h/],
      ['hooks:\n  post-deploi: {}\n', /hooks/],
    ];
    for (const [yml, message] of wrong) {
      assert.throws(
        () => load(yml),
        (e: ConfigError) => e instanceof ConfigError && message.test(e.message),
        yml,
      );
    }
  });
});

test('`alcaide status`: a failed post-* hook is a warning on its step, the run completed', () => {
  const out = renderStatus({
    kind: 'deploy',
    app: 'my_app',
    host: 'h',
    state: 'completed',
    startedAt: 0,
    steps: [
      { name: 'recordDeploy', title: 'record the deploy', state: 'done', startedAt: 0, endedAt: 10 },
      {
        name: 'postDeployHook',
        title: 'post-deploy hook',
        state: 'warned',
        startedAt: 10,
        endedAt: 20,
        error: '.alcaide/hooks/post-deploy exited 1:\nchat is down',
        errorType: 'HookFailed',
      },
    ],
  });
  assert.match(out, /\n! post-deploy hook 10ms failed; the run went on\n {4}\.alcaide\/hooks\/post-deploy exited 1:\nchat is down$/);
});
