// A reader that stops early (`alcaide --help | head -1`) closes the CLI's stdout: the output
// ends there quietly, as for a Unix tool killed by SIGPIPE, never in a stack trace.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { CLI } from '../helpers/paths';

/** Runs the CLI with its stdout's reading end closed before it writes anything. */
async function withClosedStdout(args: string[]): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const [code, signal] = (await once(child, 'close')) as [number | null, string | null];
  return { code, signal, stderr };
}

test('output into a closed pipe ends quietly with exit 141 (128 + SIGPIPE), for help and for a command', async () => {
  for (const args of [['--help'], ['deploy', '--help'], ['version']]) {
    const r = await withClosedStdout(args);
    assert.equal(r.stderr, '', `${args.join(' ')}: nothing on stderr`);
    assert.deepEqual([r.code, r.signal], [141, null], args.join(' '));
  }
});
