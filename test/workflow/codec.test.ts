// The payload codec on the real dev server: history holds ciphertext only (input, result,
// activity results, failure messages), a client with the key reads everything, a client
// without it is told so, and history written before the codec still reads.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { Client, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { AppTarget } from '../../src/model/target';
import { codecKey, dataConverterFor, ENCODING } from '../../src/temporal/codec';
import { createWorker, WORKFLOW_BUNDLE } from '../../src/temporal/worker';
import { SETUP_STEPS } from '../../workflows/setupSteps';
import type { WorkflowStatus } from '../../workflows/status';
import { TEST_TARGET } from '../helpers/target';
import { tempProject } from '../helpers/cli';
import { CLI } from '../helpers/paths';
import { startTestEnv, TEST_CODEC_KEY, temporalBinary, testSettings } from '../helpers/temporal';

// Markers that must never be readable in the server's history (the host may be: failure summaries name it).
const IN_INPUT = 'marker-input-value';
const IN_RESULT = 'MARKER_RESULT_NOTE';
const IN_FAILURE = 'MARKER_FAILURE_MESSAGE';
const TARGET: AppTarget = { ...TEST_TARGET, envClear: { ...TEST_TARGET.envClear, MARKER: IN_INPUT } };

let env: TestWorkflowEnvironment;
let n = 0;
before(async () => {
  env = await startTestEnv();
});
after(async () => {
  await env?.teardown();
});

function fakes(failAt?: string) {
  const acts: Record<string, (t: AppTarget) => Promise<unknown>> = {};
  for (const s of SETUP_STEPS) {
    acts[s.name] = async (t: AppTarget) => {
      assert.equal(t.envClear.MARKER, IN_INPUT, 'the activity sees the clear input');
      if (s.name === failAt) throw ApplicationFailure.create({ message: `${IN_FAILURE} in ${s.name}`, type: 'PreconditionFailed', nonRetryable: true });
      return { changed: true, note: `${IN_RESULT} ${s.name}` };
    };
  }
  return acts;
}

async function runSetup(client: Client, failAt?: string): Promise<{ workflowId: string; outcome: WorkflowStatus | Error }> {
  const taskQueue = `codec-test-${n++}`;
  const workflowId = `codec-${taskQueue}`;
  const worker = await createWorker(env.nativeConnection, testSettings(env.address, taskQueue), 'worker', fakes(failAt));
  const outcome = await worker.runUntil(async () => {
    const handle = await client.workflow.start('setupWorkflow', { taskQueue, workflowId, args: [{ target: TARGET }] });
    return (handle.result() as Promise<WorkflowStatus>).catch((e: Error) => e);
  });
  return { workflowId, outcome };
}

/** Every string and byte sequence in a history, as text, for plaintext searches. */
function textOf(x: unknown, out: string[] = []): string[] {
  if (x instanceof Uint8Array) out.push(Buffer.from(x).toString('utf8'), Buffer.from(x).toString('latin1'));
  else if (typeof x === 'string') out.push(x);
  else if (Array.isArray(x)) for (const v of x) textOf(v, out);
  else if (x && typeof x === 'object') for (const v of Object.values(x)) textOf(v, out);
  return out;
}

/** The raw history, through a client with no data converter at all. */
async function rawHistory(workflowId: string) {
  const bare = new Client({ connection: env.connection });
  return bare.workflow.getHandle(workflowId).fetchHistory();
}

describe('payload codec on the real Temporal dev server', () => {
  test('a completed workflow: no input, result or activity result in clear in history; the keyed client reads them', async () => {
    const { workflowId, outcome } = await runSetup(env.client);
    const status = outcome as WorkflowStatus;
    assert.equal(status.state, 'completed');
    assert.ok(
      status.steps.filter((s) => s.state !== 'skipped').every((s) => s.note?.startsWith(IN_RESULT)),
      'the client with the key reads the result',
    );
    const history = await rawHistory(workflowId);
    const text = textOf(history).join('\n');
    for (const m of [IN_INPUT, IN_RESULT, 'json/plain']) assert.ok(!text.includes(m), `${m} is not readable in history`);
    assert.ok(text.includes(ENCODING), 'payloads are marked binary/encrypted');
    assert.ok(text.includes(TEST_CODEC_KEY.id), 'payloads name their key id');
    const started = history.events![0]!.workflowExecutionStartedEventAttributes!;
    assert.equal(Buffer.from(started.input!.payloads![0]!.metadata!.encoding!).toString(), ENCODING);
  });

  test('a failed workflow: the failure message is encrypted too (encoded common attributes); the keyed client reads it', async () => {
    const { workflowId, outcome } = await runSetup(env.client, 'setupCaddy');
    assert.ok(outcome instanceof WorkflowFailedError);
    const status = (outcome.cause as ApplicationFailure).details?.[0] as WorkflowStatus;
    const failed = status.steps.find((s) => s.state === 'failed')!;
    assert.equal(failed.name, 'setupCaddy');
    assert.match(failed.error ?? '', new RegExp(IN_FAILURE));
    const text = textOf(await rawHistory(workflowId)).join('\n');
    assert.ok(!text.includes(IN_FAILURE), 'the failure message is not readable in history');
    assert.ok(!text.includes(IN_INPUT));
    assert.ok(text.includes('PreconditionFailed: details encrypted'), 'failures carry a summary of known values only');
  });

  test('a client without the key is told which key it lacks; a client with another key too', async () => {
    const { workflowId } = await runSetup(env.client);
    const keyless = new Client({ connection: env.connection, dataConverter: dataConverterFor(undefined) });
    await assert.rejects(
      keyless.workflow.getHandle(workflowId).result(),
      new RegExp(`encrypted \\(key ${TEST_CODEC_KEY.id}\\) but this process has no codec key`),
    );
    const other = new Client({ connection: env.connection, dataConverter: dataConverterFor(codecKey(Buffer.alloc(32, 1), 'other')) });
    await assert.rejects(other.workflow.getHandle(workflowId).result(), /encrypted with key [0-9a-f]{16}, which this process does not have/);
  });

  test('history written before the codec (clear input) still runs and reads; replay with the codec is deterministic', async () => {
    const clear = new Client({ connection: env.connection, namespace: 'default', dataConverter: dataConverterFor(undefined) });
    const taskQueue = `codec-test-${n++}`;
    const workflowId = `codec-${taskQueue}`;
    const worker = await createWorker(env.nativeConnection, testSettings(env.address, taskQueue), 'worker', fakes());
    await worker.runUntil(async () => {
      await clear.workflow.start('setupWorkflow', { taskQueue, workflowId, args: [{ target: TARGET }] });
      const status = (await env.client.workflow.getHandle(workflowId).result()) as WorkflowStatus;
      assert.equal(status.state, 'completed');
    });
    const history = await rawHistory(workflowId);
    const started = history.events![0]!.workflowExecutionStartedEventAttributes!;
    assert.equal(Buffer.from(started.input!.payloads![0]!.metadata!.encoding!).toString(), 'json/plain', 'the input was written in clear');
    await Worker.runReplayHistory({ workflowBundle: { codePath: WORKFLOW_BUNDLE }, dataConverter: dataConverterFor(TEST_CODEC_KEY) }, history, workflowId);
  });

  test('`alcaide codec-server` decodes history for `temporal workflow show --codec-endpoint` with its token, and only with it', async () => {
    const { workflowId } = await runSetup(env.client, 'setupCaddy');
    // JSON output carries payload data in base64: search the decoded text too
    const show = (extra: string[]) => {
      const r = spawnSync(temporalBinary(), ['workflow', 'show', '--address', env.address, '-w', workflowId, '--output', 'json', ...extra], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      const expanded = [...r.stdout.matchAll(/"([A-Za-z0-9+/]{8,}={0,2})"/g)].map((m) => Buffer.from(m[1]!, 'base64').toString('utf8'));
      return { status: r.status, stderr: r.stderr, stdout: `${r.stdout}\n${expanded.join('\n')}` };
    };
    const plain = show([]);
    assert.equal(plain.status, 0, plain.stderr);
    for (const m of [IN_INPUT, IN_RESULT, IN_FAILURE]) assert.ok(!plain.stdout.includes(m), `${m} not in temporal workflow show`);

    const project = tempProject('alcaide-codec-srv-');
    // the key as a CLI process finds it: the same material as the test key, from the environment
    const child = spawn(process.execPath, [CLI, 'codec-server', '--port', '0'], {
      cwd: project.dir,
      env: { ...process.env, ALCAIDE_CODEC_KEY: Buffer.alloc(32, 7).toString('base64'), ALCAIDE_MASTER_KEY: '', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      for (let i = 0; i < 100 && !/bearer token: \S+/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
      const url = /codec server on (http:\/\/\S+) \(key ([0-9a-f]{16})/.exec(out);
      const token = /bearer token: (\S+)/.exec(out)?.[1];
      assert.ok(url && token, out);
      assert.equal(url[2], TEST_CODEC_KEY.id, 'the same key id as the workers');
      const decoded = show(['--codec-endpoint', url[1]!, '--codec-auth', `Bearer ${token}`]);
      assert.equal(decoded.status, 0, decoded.stderr);
      for (const m of [IN_INPUT, IN_RESULT, IN_FAILURE]) assert.ok(decoded.stdout.includes(m), `${m} readable through the codec server`);
      const refused = show(['--codec-endpoint', url[1]!, '--codec-auth', 'Bearer wrong']);
      assert.ok(refused.status !== 0 || !refused.stdout.includes(IN_INPUT), 'a wrong token decodes nothing');
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
      project.cleanup();
    }
  });
});
