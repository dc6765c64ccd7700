// One attempt of a step at a time on the host (src/freebsd/flight.ts), on a simulated FreeBSD
// host over real OpenSSH: an attempt whose SSH session ends (its worker was killed) ends with
// it; a new attempt ends the one still running and waits until it is gone before it acts; the
// wrapped command keeps its stdin, stdout, stderr and exit status. And lockf(1) as FreeBSD's.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, test } from 'node:test';
import { FLIGHT_DIR } from '../../src/freebsd/layout';
import { singleFlight } from '../../src/freebsd/flight';
import { canRunSimHosts, sshArgs, sshRun, startSimHosts, type SimHost, type SimHosts } from './index';

const skip = canRunSimHosts() ? false : 'needs root on Linux (network + mount namespaces)';
let sim: SimHosts;
let h: SimHost;

before(async () => {
  if (skip) return;
  sim = await startSimHosts({ hosts: 1 });
  h = sim.hosts[0]!;
});
after(async () => sim?.down());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An SSH command whose client this test can kill, as a worker's death would. */
function sshSpawn(command: string): { p: ChildProcess; done: Promise<number | null> } {
  const p = spawn('ssh', sshArgs(h, command), { stdio: ['pipe', 'ignore', 'ignore'] });
  const done = new Promise<number | null>((r) => p.on('close', (code) => r(code)));
  return { p, done };
}

async function read(file: string): Promise<string[]> {
  return (await sshRun(h, `cat ${file} 2>/dev/null || true`)).stdout.split('\n').filter(Boolean);
}

async function waitFor(what: string, ok: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await ok()) return;
    await sleep(100);
  }
  assert.fail(`not within ${ms} ms: ${what}`);
}

const alive = async (cmdline: string) => (await sshRun(h, `pgrep -fx '${cmdline}' || true`)).stdout.trim() !== '';

test('an attempt whose SSH session ends is ended with it (no orphan runs on)', { skip }, async () => {
  const log = '/tmp/flight-orphan.log';
  const a = sshSpawn(singleFlight('t.orphan', `echo start >> ${log}; sleep 3001; echo end >> ${log}`));
  await waitFor('the attempt started', async () => (await read(log)).includes('start'));
  assert.ok(await alive('sleep 3001'), 'the attempt runs on the host');
  a.p.kill('SIGKILL'); // the worker dies: its TCP connection closes
  await a.done;
  await waitFor('the orphaned command is gone from the host', async () => !(await alive('sleep 3001')), 10_000);
  assert.deepEqual(await read(log), ['start'], 'the orphan never finished its work');
});

test('a new attempt ends the one still running and waits until it has exited', { skip }, async () => {
  const log = '/tmp/flight-retry.log';
  // the first attempt takes 2 s to stop on SIGTERM: the second must not start before it has
  const first = sshSpawn(
    singleFlight(
      't.retry',
      `trap 'sleep 2; echo first stopped >> ${log}; exit 1' TERM; echo first start >> ${log}; sleep 3002 & wait $!; echo first end >> ${log}`,
    ),
  );
  await waitFor('the first attempt started', async () => (await read(log)).includes('first start'));
  // its SSH session is still open (a worker cut off from Temporal but not from the host)
  const second = await sshRun(h, singleFlight('t.retry', `echo second start >> ${log}; echo second end >> ${log}`));
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /ending the earlier attempt \(session \d+\)/);
  assert.deepEqual(await read(log), ['first start', 'first stopped', 'second start', 'second end']);
  assert.equal(await alive('sleep 3002'), false);
  assert.notEqual(await first.done, 0, 'the first attempt was ended, not completed');
});

test('an attempt that finished leaves nothing for the next to end, and no session file', { skip }, async () => {
  const one = await sshRun(h, singleFlight('t.seq', 'echo one'));
  const two = await sshRun(h, singleFlight('t.seq', 'echo two'));
  assert.deepEqual([one.code, one.stdout, two.code, two.stdout, two.stderr], [0, 'one\n', 0, 'two\n', '']);
  // a session file left behind could name a session id the kernel gives to someone else later
  await waitFor(
    'the session file is removed',
    async () =>
      (await sshRun(h, `ls ${FLIGHT_DIR}`)).stdout
        .split('\n')
        .filter((f) => f.startsWith('t.seq.'))
        .join() === 't.seq.lock',
    5_000,
  );
});

test('the wrapped command keeps its stdin, stdout, stderr and exit status', { skip }, async () => {
  const r = await sshRun(h, singleFlight('t.io', `cat; printf 'to stderr' >&2; exit 3`), { input: "it's $(not) run\n" });
  assert.deepEqual([r.code, r.stdout, r.stderr], [3, "it's $(not) run\n", 'to stderr']);
});

test('lockf(1): exit statuses and messages of FreeBSD 14', { skip }, async () => {
  const held = sshSpawn('lockf -k /tmp/held.lock sleep 3003');
  await waitFor('the lock is held', () => alive('sleep 3003'));
  const busy = await sshRun(h, 'lockf -t 0 /tmp/held.lock true');
  assert.deepEqual([busy.code, busy.stderr], [75, 'lockf: /tmp/held.lock: already locked\n']);
  const quiet = await sshRun(h, 'lockf -s -t 1 /tmp/held.lock true');
  assert.deepEqual([quiet.code, quiet.stderr], [75, '']);
  held.p.kill('SIGKILL');
  await sshRun(h, `pkill -fx 'sleep 3003'`);
  await held.done;
  // the command's status is lockf's; without -k the file goes, with -k it stays
  const status = await sshRun(h, 'lockf /tmp/gone.lock sh -c "exit 7"; echo "$?"; ls /tmp/gone.lock 2>&1; lockf -k /tmp/kept.lock true && ls /tmp/kept.lock');
  assert.match(status.stdout, /^7\n/);
  assert.match(status.stdout, /\/tmp\/kept\.lock\n$/);
  assert.doesNotMatch(status.stdout, /^\/tmp\/gone\.lock$/m);
  const usage = await sshRun(h, 'lockf /tmp/x.lock');
  assert.deepEqual([usage.code, usage.stderr], [64, 'usage: lockf [-knsw] [-t seconds] file command [arguments]\n']);
  const missing = await sshRun(h, 'lockf -n /tmp/none.lock true');
  assert.equal(missing.code, 69);
});
