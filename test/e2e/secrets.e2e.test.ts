// Secrets never leak: a deploy of hostile secret values (quotes, $(…), backticks, newlines,
// spaces, non-ASCII) on a simulated FreeBSD host. The app sees every value byte for byte;
// none of them appears in the Temporal history (raw, as `temporal workflow show` prints it,
// nor decrypted with the codec key), search attributes or memo, the CLI's or a verbose
// worker's output, a failed deploy's error, the host's command log, or any process's command
// line sampled throughout the deploys.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { readCommandLog, sshRun, type SimHost } from '../simhost/index';
import { E2eProject, MAKE_APP, ok } from '../helpers/e2eProject';
import { CLI } from '../helpers/paths';
import { temporalBinary } from '../helpers/temporal';
import { codecKey, EncryptionCodec, ENCODING } from '../../src/temporal/codec';

const MASTER = Buffer.alloc(32, 11);
const CODEC = new EncryptionCodec(codecKey(MASTER, 'secrets e2e'));
const CANARY = '/tmp/alcaide-secret-canary';

// Each value carries a distinctive token, so a leak of any part around it is found.
const SECRETS: Record<string, string> = {
  S_QUOTES: `it's "double" 'single' tokQA7x`,
  S_SUBST: `$(touch ${CANARY}) \${HOME} $HOME tokSB8y`,
  S_BACKTICK: `\`touch ${CANARY}\` tokBC9z`,
  S_NEWLINES: `line one tokNL1q\nline two\n\nline four\\n not a newline`,
  S_SPACES: `   spaced   out tokSP2w   `,
  S_UNICODE: `ünïcødé 🔑 ñ 中文 tokUN3e`,
  S_SHELL: `'; touch ${CANARY}; echo " | & > /etc/x # tokSH4r`,
};
const TOKENS = Object.values(SECRETS).map((v) => /tok[A-Z]{2}\d[a-z]/.exec(v)![0]);

let worker: ChildProcess | undefined;
let workerOut = '';
let p: E2eProject;
let host: SimHost;
let env: TestWorkflowEnvironment;
let app = '';
const cliEnv = () => p.cliEnv();
const cli = (args: string[], input?: string) => p.cli(args, { input });

/** Names the secret tokens found in a text (none expected). */
function leaks(text: string): string[] {
  return TOKENS.filter((t) => text.includes(t));
}

// ---- process list sampler: every process's command line, from the root namespace (the sim
// has mount/net/uts namespaces but shares the PID namespace, so jails' processes are seen too)
const sampled = new Map<string, number>();
let samples = 0;
let sampling = false;
async function sampleLoop(): Promise<void> {
  const { readFile } = await import('node:fs/promises');
  while (sampling) {
    const pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
    await Promise.all(
      pids.map(async (p) => {
        const cmd = await readFile(`/proc/${p}/cmdline`).catch(() => undefined);
        if (cmd?.length) {
          const line = cmd.toString('utf8').replace(/\0/g, ' ');
          sampled.set(line, (sampled.get(line) ?? 0) + 1);
        }
      }),
    );
    samples++;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Every payload in a history decrypted with the codec key, plus the raw text, for searching. */
async function historyText(workflowId: string, runId?: string): Promise<{ raw: string; decrypted: string; encrypted: number }> {
  const history = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
  const raw: string[] = [];
  const decrypted: string[] = [];
  let encrypted = 0;
  const walk = async (x: unknown): Promise<void> => {
    if (x instanceof Uint8Array) raw.push(Buffer.from(x).toString('utf8'));
    else if (typeof x === 'string') raw.push(x);
    else if (Array.isArray(x)) for (const v of x) await walk(v);
    else if (x && typeof x === 'object') {
      const p = x as { metadata?: Record<string, Uint8Array>; data?: Uint8Array };
      if (p.metadata?.encoding && Buffer.from(p.metadata.encoding).toString() === ENCODING) {
        encrypted++;
        const [clear] = await CODEC.decode([p]);
        decrypted.push(Buffer.from(clear!.data ?? new Uint8Array()).toString('utf8'));
      }
      for (const v of Object.values(x)) await walk(v);
    }
  };
  await walk(history);
  return { raw: raw.join('\n'), decrypted: decrypted.join('\n'), encrypted };
}

/** `temporal workflow show` as an operator runs it against the server (no codec), base64 data expanded. */
function temporalShow(workflowId: string): string {
  const r = spawnSync(temporalBinary(), ['workflow', 'show', '--address', env.address, '-w', workflowId, '--output', 'json'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(r.status, 0, r.stderr);
  const table = spawnSync(temporalBinary(), ['workflow', 'show', '--address', env.address, '-w', workflowId, '--detailed'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  const expanded = [...r.stdout.matchAll(/"([A-Za-z0-9+/]{8,}={0,2})"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8'));
  return [r.stdout, table.stdout, ...expanded].join('\n');
}

async function through(pathname: string): Promise<{ status: number; body: Buffer }> {
  const res = await fetch(`http://${host.host}${pathname}`, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}

before(async () => {
  p = await E2eProject.start({
    prefix: 'alcaide-secrets-e2e-',
    queue: 'secrets-e2e',
    masterKey: MASTER,
    codecKeys: [CODEC.keys[0]!],
    config: {
      env: { clear: { DATA_DIR: '/var/db/hello' }, secret: ['SECRET_KEY_BASE', ...Object.keys(SECRETS)] },
      drain_timeout: '1s',
      release: { migrate: 'Hello.Release.migrate()' },
    },
  });
  ({ host, env, app } = p);
  // through stdin, as an operator would: one trailing newline is dropped by `secrets set`
  await p.secrets({ SECRET_KEY_BASE: 'k'.repeat(64), ...Object.fromEntries(Object.entries(SECRETS).map(([k, v]) => [k, `${v}\n`])) });
  const shown = await cli(['config']);
  ok(shown);
  assert.deepEqual(leaks(shown.stdout + shown.stderr), [], '`alcaide config` redacts secret values');
});

after(async () => {
  sampling = false;
  worker?.kill('SIGKILL');
  await p?.stop();
});

describe('secrets never leak (simulated FreeBSD host)', () => {
  const outputs: string[] = [];
  const workflowRuns: Array<{ id: string; runId?: string }> = [];

  test("setup and a deploy on the CLI's embedded worker, both --verbose: the app sees every value exactly", async () => {
    sampling = true;
    void sampleLoop();
    const setup = await cli(['-v', 'setup']);
    ok(setup);
    outputs.push(setup.stdout, setup.stderr);
    const deploy = await cli(['-v', 'deploy']);
    ok(deploy);
    outputs.push(deploy.stdout, deploy.stderr);
    assert.match(deploy.stdout, /live on blue/);
    const d = await env.client.workflow.getHandle('alcaide-hello').describe();
    workflowRuns.push({ id: 'alcaide-hello', runId: d.runId });

    for (const [k, v] of Object.entries(SECRETS)) {
      const res = await through(`/env/${k}`);
      assert.equal(res.status, 200, k);
      assert.deepEqual(res.body, Buffer.from(v), `${k} reaches the app byte for byte`);
    }
    const mode = await sshRun(host, 'stat -f %Lp /usr/local/jails/hello_blue/usr/local/etc/hello.env');
    assert.equal(mode.stdout.trim(), '640', 'the env file is 0640: root writes it, the app user reads it');
  });

  test('`alcaide run` in the live slot prints the exact value (the app environment, not a command line)', async () => {
    const run = await cli(['run', 'bin/hello', 'eval', 'IO.write(System.get_env("S_SHELL"))']);
    ok(run);
    assert.equal(run.stdout, SECRETS.S_SHELL);
  });

  test('a failing deploy (its migration fails after the env file is written) on a verbose long-lived worker: the error names the step, not a value', async () => {
    const tmp = path.join(p.project.dir, 'v2');
    assert.equal(spawnSync('sh', [MAKE_APP, tmp, '2.0.0', '--migration-fail']).status, 0);
    spawnSync('sh', [
      '-c',
      `rm -rf "${app}/lib" "${app}/priv" && cp -R "${tmp}/lib" "${tmp}/priv" "${tmp}/VERSION" "${app}/" && cd "${app}" && git add -A && git -c user.name=t -c user.email=t@t commit -qm v2`,
    ]);
    worker = spawn(process.execPath, [CLI, '-v', 'worker'], { cwd: app, env: { ...process.env, ...cliEnv() }, stdio: ['ignore', 'pipe', 'pipe'] });
    worker.stdout!.on('data', (d) => (workerOut += d));
    worker.stderr!.on('data', (d) => (workerOut += d));
    for (let i = 0; i < 100 && !/worker polling/.test(workerOut); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(workerOut, /worker polling task queue secrets-e2e/);
    const failed = await cli(['deploy']);
    assert.equal(failed.code, 1, failed.stdout + failed.stderr);
    assert.match(failed.stderr, /run migrations failed/);
    outputs.push(failed.stdout, failed.stderr);
    const d = await env.client.workflow.getHandle('alcaide-hello').describe();
    workflowRuns.push({ id: 'alcaide-hello', runId: d.runId });
    const history = await cli(['history', '--json']);
    ok(history);
    outputs.push(history.stdout, history.stderr);
    const status = await cli(['status']);
    outputs.push(status.stdout, status.stderr);
    sampling = false;
    worker.kill('SIGTERM');
    await once(worker, 'exit');
  });

  test('no value in CLI output (normal and --verbose), the worker output or error messages', () => {
    assert.ok(outputs.join('').length > 500, 'there is output to check');
    assert.deepEqual(leaks(outputs.join('\n')), [], 'CLI output');
    assert.ok(workerOut.length > 0);
    assert.deepEqual(leaks(workerOut), [], 'verbose worker output');
  });

  test('no value in Temporal: history raw or decrypted, `temporal workflow show`, search attributes, memo', async () => {
    assert.equal(workflowRuns.length, 2);
    for (const { id, runId } of workflowRuns) {
      const h = await historyText(id, runId);
      assert.ok(h.encrypted > 5, 'the history holds encrypted payloads');
      assert.deepEqual(leaks(h.raw), [], `raw history of ${runId}`);
      assert.deepEqual(leaks(h.decrypted), [], `decrypted payloads of ${runId}: secrets never enter history at all`);
      assert.ok(h.decrypted.includes('SECRET_KEY_BASE') || h.decrypted.includes('S_QUOTES'), 'only secret names travel');
      const d = await env.client.workflow.getHandle(id, runId).describe();
      assert.deepEqual(leaks(JSON.stringify({ sa: d.searchAttributes, memo: d.memo, raw: d.raw })), [], 'search attributes and memo');
    }
    assert.deepEqual(leaks(temporalShow('alcaide-hello')), [], '`temporal workflow show`');
    assert.deepEqual(leaks(temporalShow('alcaide-setup-hello')), [], '`temporal workflow show` of the setup');
  });

  test('no value in the host command log or in any process command line sampled during the deploys; the canary was never created', () => {
    const log = readFileSync(host.commandLog, 'utf8');
    assert.ok(readCommandLog(host).length > 50);
    assert.deepEqual(leaks(log), [], 'command log');
    assert.ok(samples > 50, `process list sampled ${samples} times`);
    const lines = [...sampled.keys()];
    assert.ok(
      lines.some((l) => /beam\.smp|erl_child_setup|\/hello\/bin\/|daemon /.test(l)),
      'the sampler saw the app and the host side of the deploy',
    );
    assert.deepEqual(leaks(lines.join('\n')), [], 'process command lines');
    assert.ok(!existsSync(path.join(host.root, 'tmp', 'alcaide-secret-canary')), 'no injected command ran on the host');
    assert.ok(!existsSync(CANARY), 'nor here');
    console.log(`# process list: ${samples} samples, ${sampled.size} distinct command lines, none with a secret`);
  });
});
