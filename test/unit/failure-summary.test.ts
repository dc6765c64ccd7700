// A failure keeps a secret-free summary in clear (the Web UI's event rows, `temporal workflow
// show`) while its message — with the stderr tail, which may hold a secret — travels encrypted.
// The real data converter: the failure converter the workers load by path, then the codec.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { decodeOptionalFailureToOptionalError, encodeErrorToFailure, loadDataConverter } from '@temporalio/common/lib/internal-non-workflow';
import { temporal } from '@temporalio/proto';
import { Remote } from '../../activities/remote';
import type { SshConnection } from '../../src/ssh/connection';
import { RemoteCommandError } from '../../src/ssh/errors';
import { codecKey, dataConverterFor } from '../../src/temporal/codec';
import { clientDataConverter } from '../../src/temporal/connection';
import type { WorkflowStatus } from '../../workflows/status';

const SECRET = 'pg-Pa55-w0rd-7f3a9c';
const KEY = codecKey(Buffer.alloc(32, 9), 'test');
const converter = loadDataConverter(dataConverterFor(KEY));

/** The failure as the server stores it, and every byte of it. */
async function stored(err: unknown) {
  const failure = await encodeErrorToFailure(converter, err);
  return { failure, bytes: Buffer.from(temporal.api.failure.v1.Failure.encode(failure).finish()) };
}

/** What an activity's Remote.run throws when the command exits non-zero with `stderr`. */
async function remoteFailure(stderr: string): Promise<unknown> {
  const conn = { run: async () => Promise.reject(new RemoteCommandError('run migrations', 'root@db1.example.com', 3, stderr)) } as unknown as SshConnection;
  return new Remote(conn).run('irrelevant', 'run migrations').then(
    () => assert.fail('the command should have failed'),
    (e: unknown) => e,
  );
}

describe('failures: a summary in clear, the details encrypted', () => {
  test('a RemoteCommandError whose stderr holds a secret: step, host and exit status in clear, the secret nowhere', async () => {
    const err = await remoteFailure(`ERROR 28P01 password authentication failed for "${SECRET}"`);
    const { failure, bytes } = await stored(err);
    assert.equal(failure.message, 'RemoteCommandError: run migrations failed on root@db1.example.com: exit 3');
    assert.equal(failure.stackTrace, '');
    assert.equal(failure.applicationFailureInfo?.type, 'RemoteCommandError');
    assert.ok(!bytes.includes(SECRET), 'the secret is in no byte the server stores');
    assert.ok(!bytes.includes('28P01'), 'nor any of the stderr tail');
    // whoever has the key (the CLI, the codec server) reads the whole message
    const decoded = await decodeOptionalFailureToOptionalError(converter, failure);
    assert.match(decoded?.message ?? '', new RegExp(`run migrations failed on root@db1\\.example\\.com: exit 3: ERROR 28P01 .*${SECRET}`));
  });

  test("a workflow's failure: kind, app, host and the failed step in clear", async () => {
    const status: WorkflowStatus = {
      kind: 'deploy',
      app: 'shop',
      host: '203.0.113.10',
      state: 'failed',
      startedAt: 0,
      steps: [
        { name: 'startApp', title: 'start the app', state: 'done' },
        { name: 'runMigrations', title: 'run migrations', state: 'failed', error: `migrations failed: ${SECRET}` },
      ],
      error: `deploy of shop 0123456789ab failed on 203.0.113.10: run migrations failed: ${SECRET}`,
    };
    const err = ApplicationFailure.create({ type: 'StepFailed', message: status.error!, nonRetryable: true, details: [status] });
    const { failure, bytes } = await stored(err);
    assert.equal(failure.message, 'StepFailed: deploy of shop on 203.0.113.10: run migrations failed');
    assert.ok(!bytes.includes(SECRET));
    const aborted = { ...status, steps: [{ name: 'checkHealth', title: 'health check on the slot address', state: 'cancelled' as const }] };
    assert.equal(
      (await stored(ApplicationFailure.create({ type: 'StepFailed', message: 'x', details: [aborted] }))).failure.message,
      'StepFailed: deploy of shop on 203.0.113.10: health check on the slot address stopped',
    );
  });

  test('other failures: the type only; a value of an unknown shape never reaches the summary', async () => {
    const migration = ApplicationFailure.create({ type: 'MigrationFailed', message: `migrations failed in shop_blue (exit 1):\n${SECRET}` });
    assert.equal((await stored(migration)).failure.message, 'MigrationFailed: details encrypted');
    const odd = ApplicationFailure.create({
      type: 'RemoteCommandError',
      message: SECRET,
      details: [{ label: `step ${SECRET}\nnext`, host: `h ${SECRET}`, exitCode: 1 }],
    });
    const { failure, bytes } = await stored(odd);
    assert.equal(failure.message, 'RemoteCommandError: details encrypted');
    assert.ok(!bytes.includes(SECRET));
    const plain = await stored(new Error(SECRET));
    assert.equal(plain.failure.message, 'Encoded failure', 'a plain error keeps the placeholder');
    assert.ok(!plain.bytes.includes(SECRET));
  });

  test("the CLI's client (its converters loaded in the bundle, not by path) stores failures as the workers do", async () => {
    const client = clientDataConverter(KEY);
    assert.equal(client.payloadConverter, converter.payloadConverter);
    const err = await remoteFailure(`ERROR 28P01 password authentication failed for "${SECRET}"`);
    const [ours, theirs] = [await encodeErrorToFailure(client, err), (await stored(err)).failure];
    assert.equal(ours.message, theirs.message);
    assert.equal(ours.stackTrace, '');
    assert.ok(ours.encodedAttributes, 'message and stack travel encoded');
    assert.ok(!Buffer.from(temporal.api.failure.v1.Failure.encode(ours).finish()).includes(SECRET));
    // each side reads what the other wrote
    for (const [reader, failure] of [
      [client, theirs],
      [converter, ours],
    ] as const) {
      assert.match((await decodeOptionalFailureToOptionalError(reader, failure))?.message ?? '', new RegExp(SECRET));
    }
  });
});
