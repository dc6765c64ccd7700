// A deploy's wait for approval (docs/approvals.md) on the simulated host, under a keep-alive load
// through Caddy: `deploy --approve` builds, starts and checks the new slot, then waits with the
// new slot healthy and the old one serving; `alcaide approve --note` lets it switch and finish;
// no request fails; the approver and the note are in `alcaide history`. `alcaide approve` with
// nothing waiting is an error.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Rig, sleep } from '../helpers/faultRig';
import { startLoad } from '../helpers/load';
import type { WorkflowStatus } from '../../workflows/status';

const rig = new Rig('approval', 'drain_timeout: 2s\n');
const APP = /^hello v[\d.]+ slot=(blue|green)$/;

before(async () => {
  await rig.startDeployed();
});

after(async () => {
  await rig.stop();
});

test('deploy --approve waits with the new slot healthy and the old one serving; approve --note lets it finish, with no failed request', async () => {
  const load = startLoad({ host: rig.host.host, concurrency: 3, maxMs: 10 * 60_000, accept: (status, body) => status === 200 && APP.test(body) });
  let approvedAt = Infinity;
  try {
    const before = await rig.through();
    const old = /slot=(blue|green)/.exec(before)![1]!;
    rig.commitVersion('2.0.0');
    const deploy = rig.cli(['deploy', '--approve']);
    let waiting: WorkflowStatus | undefined;
    for (let i = 0; i < 1200 && !waiting; i++) {
      const s = await rig.status(rig.handle());
      if (s?.kind === 'deploy' && s.gate?.step === 'awaitApproval') waiting = s;
      else await sleep(100);
    }
    assert.ok(waiting, `the deploy never waited for approval: ${JSON.stringify(await Promise.race([deploy, sleep(10).then(() => 'still running')]))}`);
    assert.notEqual(waiting.slot, old);

    // a while of waiting: the new slot runs and answers, the old one serves every request
    await sleep(3_000);
    const state = await rig.hostState();
    assert.ok(state.appRunning[waiting.slot!] && state.appRunning[old], `both slots run: ${JSON.stringify(state)}`);
    assert.match(await rig.through(), new RegExp(`^200 hello v1\\.0\\.0 slot=${old}$`));
    const status = await rig.cli(['status']);
    assert.equal(status.code, 0, status.stdout + status.stderr);
    assert.match(status.stdout, /waiting for approval since \d{4}-\d\d-\d\d [\d:]+Z, until [\d-]+ [\d:]+Z: (blue|green) is healthy, (blue|green) serves/);
    assert.match(status.stdout, /`alcaide approve \[--note TEXT\]` switches traffic/);

    approvedAt = load.now();
    const approve = await rig.cli(['approve', '--note', 'checked green by hand']);
    assert.equal(approve.code, 0, approve.stdout + approve.stderr);
    assert.match(approve.stdout, /approved: the deploy of hello goes on/);
    assert.match(approve.stdout, /hello [0-9a-f]{12} live on (blue|green)/);
    const d = await deploy;
    assert.equal(d.code, 0, d.stdout + d.stderr);
    assert.match(d.stdout, /wait for approval .*approved by \S+@\S+: checked green by hand/);
    assert.match(await rig.through(), new RegExp(`^200 hello v2\\.0\\.0 slot=${waiting.slot}$`));
    await sleep(1_000);
  } finally {
    const end = await load.stop();
    assert.ok(end.ranToEnd, 'the load ran until it was stopped');
  }
  const failed = load.samples.filter((s) => !s.ok);
  assert.deepEqual(
    failed.slice(0, 5).map((s) => s.error ?? s.body.slice(0, 80)),
    [],
    `${failed.length} of ${load.samples.length} requests failed`,
  );
  const beforeApproval = load.samples.filter((s) => s.start < approvedAt);
  assert.ok(beforeApproval.length > 20, 'requests while the deploy waited');
  assert.deepEqual(
    beforeApproval.filter((s) => !s.body.includes('hello v1.0.0')).map((s) => s.body.slice(0, 40)),
    [],
    'until the approval every request reached the old version',
  );

  const history = await rig.cli(['history', '-n', '1', '--json']);
  assert.equal(history.code, 0, history.stdout + history.stderr);
  const [last] = JSON.parse(history.stdout) as Array<{ outcome: string; approvedBy?: string; approvalNote?: string }>;
  assert.equal(last?.outcome, 'completed');
  assert.match(last?.approvedBy ?? '', /\S+@\S+/);
  assert.equal(last?.approvalNote, 'checked green by hand');
  const text = await rig.cli(['history', '-n', '1']);
  assert.match(text.stdout, /approved by \S+@\S+: "checked green by hand"/);
});

test('approve with no deploy waiting: a clear error, exit 1, nothing changes', async () => {
  const r = await rig.cli(['approve']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /no deploy of hello is running: nothing to approve/);
});
