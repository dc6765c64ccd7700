// The pid report a stoppable command sends first, taken off its stdout (the SSH tests run
// it against a real sshd; here every way the bytes can be split).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { killSessionCommand, reportingPid, PidLine, withoutPidReport } from '../../src/ssh/stop';

async function through(chunks: string[], close = true): Promise<{ out: string; pid: number | undefined; ended: boolean }> {
  const line = new PidLine();
  let out = chunks.map((c) => line.take(Buffer.from(c)).toString()).join('');
  if (close) out += line.end().toString();
  return { out, pid: await line.pid, ended: line.ended };
}

test('the report line comes off whole, however the output is split, and nothing after it changes', async () => {
  const text = '4242\n17\nmore output\n';
  for (let i = 0; i <= text.length; i++) {
    for (const chunks of [[text.slice(0, i), text.slice(i)], [...text.slice(0, i)].concat(text.slice(i))]) {
      assert.deepEqual(await through(chunks), { out: '17\nmore output\n', pid: 4242, ended: true }, JSON.stringify(chunks));
    }
  }
  assert.deepEqual(await through(['4242\n']), { out: '', pid: 4242, ended: true });
});

test('output that does not start with the report passes through whole, and no pid is claimed', async () => {
  assert.deepEqual(await through(['hello\n', 'x']), { out: 'hello\nx', pid: undefined, ended: true });
  assert.deepEqual(await through(['-1\n']), { out: '-1\n', pid: undefined, ended: true });
  const long = '1'.repeat(40);
  assert.deepEqual(await through([long, '\n']), { out: `${long}\n`, pid: undefined, ended: true }, 'longer than any pid: output');
  assert.deepEqual(await through(['12']), { out: '12', pid: undefined, ended: true }, 'held back until the end, then given back');
  const open = new PidLine();
  open.take(Buffer.from('oops\n'));
  assert.equal(await open.pid, undefined);
  assert.equal(open.ended, false, 'not a report, yet the command still runs');
});

test('the command reports its own shell pid under /bin/sh, the rest of the output unchanged; the sent text gives back the command', () => {
  const command = 'echo "$$" >&2; printf "a\\nb"';
  const r = spawnSync('/bin/sh', ['-c', reportingPid(command)], { encoding: 'utf8' });
  assert.equal(r.stdout, `${r.stderr.trim()}\na\nb`);
  assert.equal(withoutPidReport(reportingPid(command)), command);
  assert.equal(withoutPidReport(command), command);
});

test("pkill is given the session of the reporting shell, never 0 (pkill's own) or 1", () => {
  assert.equal(killSessionCommand(4242), 's=$(ps -o sid= -p 4242); pkill -KILL -s ${s:-4242}');
  for (const bad of [0, 1, -5, 1.5, Number.NaN, 2 ** 60]) assert.throws(() => killSessionCommand(bad), /not a shell's pid/);
});
