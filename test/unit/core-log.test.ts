// While Temporal restarts, the worker's SDK core logs its retried polls. Those lines reach the
// CLI's output through its logger (stderr, plain when not a terminal), never as the core's raw
// lines with colour codes on stdout. A real `alcaide worker` against a dev server that stops.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { PersistentDevServer } from '../helpers/devServer';
import { CLI } from '../helpers/paths';
import { TEST_CODEC_KEY } from '../helpers/temporal';
import { within } from '../helpers/within';

const dir = mkdtempSync(path.join(os.tmpdir(), 'alcaide-corelog-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('alcaide worker during a Temporal outage: the core retry lines on stderr, plain; stdout keeps only its own lines', async () => {
  const server = await PersistentDevServer.start(path.join(dir, 'temporal.db'), [TEST_CODEC_KEY]);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: server.address,
    ALCAIDE_TASK_QUEUE: 'core-log',
    ALCAIDE_MASTER_KEY: '',
    ALCAIDE_CODEC_KEY: '',
  };
  // plain output is the default off a terminal; CI (set on CI machines) turns picocolors' colours on
  delete env.FORCE_COLOR;
  delete env.CI;
  const worker = spawn(process.execPath, [CLI, 'worker'], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const seen = (re: RegExp, stream: () => string) =>
    new Promise<void>((resolve) => {
      const check = () => re.test(stream()) && resolve();
      worker.stdout.on('data', check);
      worker.stderr.on('data', check);
      check();
    });
  worker.stdout.on('data', (d) => (stdout += d));
  worker.stderr.on('data', (d) => (stderr += d));
  try {
    await within(
      60_000,
      `the worker polls (stdout: ${JSON.stringify(stdout)})`,
      seen(/worker polling task queue core-log/, () => stdout),
    );
    await server.down();
    // the core retries each poll a few times before it logs: wait for that line, on either stream
    await within(
      90_000,
      'the core logs its retried polls',
      seen(/retried \d+ times/, () => stdout + stderr),
    );
  } finally {
    worker.kill('SIGKILL');
    await once(worker, 'close');
    await server.close();
  }
  // eslint-disable-next-line no-control-regex -- ESC is what a colour code starts with
  assert.doesNotMatch(stdout + stderr, /\x1b\[/, 'no colour codes: neither stream is a terminal');
  assert.doesNotMatch(stdout, /retried|WARN|ERROR/, `stdout holds only the CLI's own lines:\n${stdout}`);
  assert.match(stderr, /\[WARN\] gRPC call poll_(workflow|activity)_task_queue retried \d+ times/);
});
