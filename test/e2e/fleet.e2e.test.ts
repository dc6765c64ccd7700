// End to end on two simulated FreeBSD hosts: `alcaide setup` and `alcaide deploy` of a fleet
// through the real CLI, the real dev server, real OpenSSH, each host's own Caddy and a real
// Elixir release. Every host is checked before any host changes; setup runs a child workflow
// per host; a deploy builds once and copies the release; a host lost after the other switched
// takes the whole fleet back to the version it had.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isMutating, readInvocations, sshRun, type SimHost } from '../simhost/index';
import { E2eProject, ok } from '../helpers/e2eProject';
import { CLAIMS_DIR, releaseArtifact, sourceTarball } from '../../src/freebsd/layout';
import { renderClaim } from '../../src/freebsd/claims';
import { queryStatus } from '../../src/temporal/statusQuery';
import type { WorkflowStatus } from '../../workflows/status';
import { fileSha256 } from '../../src/ssh/upload';

let p: E2eProject;
let a: SimHost;
let b: SimHost;

before(async () => {
  // boot.wait: a moment between the two hosts' switches, where the test cuts the second host off
  p = await E2eProject.start({ prefix: 'fleet-e2e-', queue: 'fleet-e2e', hosts: 2, config: { boot: { limit: 1, wait: '3s' } } });
  [a, b] = p.hosts as [SimHost, SimHost];
});
after(async () => {
  await p?.sim.sshRestore().catch(() => undefined);
  await p?.stop();
});

const cli = (args: string[]) => p.cli(args, { timeoutMs: 600_000 });
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const claimed = (h: SimHost) => existsSync(path.join(h.root, CLAIMS_DIR, 'hello.claim'));
const mutations = (h: SimHost, from: number) =>
  readInvocations(h)
    .slice(from)
    .filter((e) => isMutating(e.argv))
    .map((e) => e.argv.join(' '));
/** What a host's Caddy serves on :80. */
async function served(h: SimHost): Promise<string> {
  const res = await fetch(`http://${h.host}/`, { signal: AbortSignal.timeout(10_000) });
  return `${res.status} ${await res.text()}`;
}
const inBuildJail = (h: SimHost, file: string) => path.join(h.root, 'usr/local/jails/hello_build', file);

describe('a fleet of two simulated FreeBSD hosts', () => {
  test('a host another app holds stops the setup before anything changes on either host', async () => {
    // another app holds the subnet hello would take on the second host
    const other = renderClaim({ app: 'other', subnet: '10.0.0.0/24', proxyPorts: [30000, 30001], site: ':8080' });
    const w = await sshRun(b, `mkdir -p ${CLAIMS_DIR} && cat > ${CLAIMS_DIR}/other.claim`, { input: other });
    assert.equal(w.code, 0, w.stderr);
    const from = [readInvocations(a).length, readInvocations(b).length];
    const r = await cli(['setup', '--trust-new-host']);
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /nothing was changed on any host/);
    assert.match(r.stderr, new RegExp(`${esc(b.host)}: the jail subnet 10\\.0\\.0\\.0/24 overlaps other's 10\\.0\\.0\\.0/24`));
    assert.doesNotMatch(r.stderr, new RegExp(`${esc(a.host)}:`), 'the fit host is not blamed');
    assert.deepEqual(mutations(a, from[0]!), [], 'no mutating command on the fit host');
    assert.deepEqual(mutations(b, from[1]!), []);
    assert.ok(!claimed(a) && !claimed(b), 'no claim recorded anywhere');
    assert.equal((await sshRun(b, `rm ${CLAIMS_DIR}/other.claim`)).code, 0);
  });

  test('setup: both hosts at once, each in its own child workflow; again: nothing changes', async () => {
    const r = await cli(['setup']);
    ok(r);
    assert.match(r.stdout, new RegExp(`✓ ${esc(a.host)}, ${esc(b.host)} ready for hello`));
    assert.ok(claimed(a) && claimed(b));
    for (const h of [a, b]) assert.match((await sshRun(h, 'jls name')).stdout, /hello_build/, `the build jail on ${h.name}`);
    const status = (await p.env.client.workflow.getHandle('alcaide-setup-hello').result()) as WorkflowStatus;
    assert.deepEqual(
      status.hosts?.map((h) => [h.host, h.state]),
      [
        [a.host, 'completed'],
        [b.host, 'completed'],
      ],
    );
    // the children ran side by side: each started before the other ended
    const [ca, cb] = await Promise.all([a, b].map((h) => p.env.client.workflow.getHandle(`alcaide-setup-hello@${h.host}`).describe()));
    assert.ok(ca!.startTime < cb!.closeTime! && cb!.startTime < ca!.closeTime!, 'the hosts were set up at the same time');
    assert.equal(ca!.raw.workflowExecutionInfo?.parentExecution?.workflowId, 'alcaide-setup-hello');

    const from = [readInvocations(a).length, readInvocations(b).length];
    ok(await cli(['setup']));
    assert.deepEqual(mutations(a, from[0]!), [], 'the second setup ran no mutating command');
    assert.deepEqual(mutations(b, from[1]!), []);
  });

  test('-H picks one host; deploy refuses -H (a fleet ends on one version)', async () => {
    const from = readInvocations(a).length;
    const r = await cli(['-H', b.host, 'setup']);
    ok(r);
    assert.match(r.stdout, new RegExp(`✓ ${esc(b.host)} ready for hello`));
    assert.equal(readInvocations(a).length, from, 'nothing ran on the other host');
    const d = await cli(['-H', b.host, 'deploy']);
    assert.equal(d.code, 2, d.stderr);
    assert.match(d.stderr, /deploy acts on every host of the fleet .*: -H\/-R do not apply/);
  });

  test('deploy v1: built once on the first host, the release copied to the other, both serve it through their own Caddy', async () => {
    const sha = p.head();
    const r = await cli(['deploy']);
    ok(r);
    assert.match(r.stdout, new RegExp(`✓ hello ${sha.slice(0, 12)} live on 2 hosts \\(${esc(a.host)} blue, ${esc(b.host)} blue`));
    for (const h of [a, b]) assert.equal(await served(h), '200 hello v1.0.0 slot=blue', h.name);
    assert.ok(existsSync(inBuildJail(a, sourceTarball(sha))), 'the source went to the build host');
    assert.ok(!existsSync(inBuildJail(b, sourceTarball(sha))), 'and nowhere else');
    const [artA, artB] = [a, b].map((h) => inBuildJail(h, releaseArtifact('hello', sha)));
    assert.equal(await fileSha256(artB!), await fileSha256(artA!), 'the other host runs the very bytes built');
  });

  test('deploy v2 with the second host lost after the first switched: both hosts end on v1', async () => {
    const v2 = p.commitVersion('2.0.0');
    const parent = p.env.client.workflow.getHandle('alcaide-hello');
    const run = cli(['deploy']);
    // the first host has switched: cut the second off before its batch
    let s: WorkflowStatus | undefined;
    for (const end = Date.now() + 300_000; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
      s = await queryStatus(parent).catch(() => undefined);
      if (s?.version === v2 && s.hosts?.[0]?.state === 'switched') break;
    }
    assert.equal(s?.hosts?.[0]?.state, 'switched', `the first host switched: ${JSON.stringify(s?.hosts)}`);
    assert.equal(await served(a), '200 hello v2.0.0 slot=green', 'the first host served v2');
    await p.sim.sshCut(b.name, 0);
    // lost for good as far as the deploy can tell: its switch gives up and its own undo begins;
    // then the link returns, and that undo goes through
    const child = p.env.client.workflow.getHandle(`alcaide-hello@${b.host}`);
    let c: WorkflowStatus | undefined;
    for (const end = Date.now() + 300_000; Date.now() < end; await new Promise((r) => setTimeout(r, 200))) {
      c = await queryStatus(child).catch(() => c);
      if (c?.version === v2 && c.state === 'compensating') break;
    }
    assert.equal(c?.state, 'compensating', `the second host gave up: ${JSON.stringify(c?.steps.filter((x) => x.state !== 'pending'))}`);
    await p.sim.sshRestore();
    const r = await run;
    if (r.code !== 1)
      console.log(
        JSON.stringify(await queryStatus(parent).catch((e: Error) => e.message)),
        JSON.stringify(await queryStatus(child).catch((e: Error) => e.message)),
      );
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, new RegExp(`${esc(b.host)}: `), 'the lost host is named');
    for (const h of [a, b]) assert.equal(await served(h), '200 hello v1.0.0 slot=blue', `${h.name} back on v1`);
    const end = (await parent.result().catch((e: { cause?: { details?: unknown[] } }) => e.cause?.details?.[0])) as WorkflowStatus;
    assert.deepEqual(
      end.hosts?.map((h) => h.state),
      ['undone', 'failed'],
    );
  });

  test('deploy v2 again: both hosts serve it; status and history show each host', async () => {
    const r = await cli(['deploy']);
    ok(r);
    for (const h of [a, b]) assert.equal(await served(h), '200 hello v2.0.0 slot=green', h.name);
    const status = await cli(['status']);
    ok(status);
    assert.match(status.stdout, new RegExp(`hosts ${esc(a.host)}, ${esc(b.host)}`));
    assert.match(status.stdout, new RegExp(`✓ ${esc(a.host)} — live on green[\\s\\S]*✓ ${esc(b.host)} — live on green`));
    const history = JSON.parse((await cli(['history', '--json', '-n', '3'])).stdout) as Array<{
      outcome: string;
      hosts?: Array<{ host: string; outcome: string }>;
    }>;
    assert.deepEqual(
      history.map((e) => [e.outcome, e.hosts?.map((h) => `${h.host}:${h.outcome}`).join(' ')]),
      [
        ['completed', `${a.host}:completed ${b.host}:completed`],
        ['failed, restored', `${a.host}:undone ${b.host}:failed`],
        ['completed', `${a.host}:completed ${b.host}:completed`],
      ],
    );
  });

  test('status --all: every app each host holds, from the host itself', async () => {
    const v2 = p.head();
    const other = renderClaim({ app: 'other', subnet: '10.9.0.0/24', proxyPorts: [30100, 30101], site: ':8081' });
    assert.equal((await sshRun(b, `cat > ${CLAIMS_DIR}/other.claim`, { input: other })).code, 0);
    try {
      const r = await cli(['status', '--all', '--json']);
      ok(r);
      const views = JSON.parse(r.stdout) as Array<{ host: string; apps: Array<Record<string, unknown>> }>;
      const hello = { app: 'hello', live: 'green', slots: { blue: 'no jail', green: 'up' }, site: ':80', subnet: '10.0.0.0/24' };
      assert.deepEqual(
        views.map((v) => [v.host, v.apps.map(({ last, ...x }) => ({ ...x, last: (last as { version?: string } | undefined)?.version }))]),
        [
          [a.host, [{ ...hello, last: v2 }]],
          [
            b.host,
            [
              { ...hello, last: v2 },
              { app: 'other', slots: { blue: 'no jail', green: 'no jail' }, site: ':8081', subnet: '10.9.0.0/24', last: undefined },
            ],
          ],
        ],
      );
      const text = await cli(['-H', b.host, 'status', '--all']);
      ok(text);
      assert.match(text.stdout, new RegExp(`^${esc(b.host)}\n`));
      assert.match(
        text.stdout,
        new RegExp(`^  hello +green +${v2.slice(0, 12)} +blue no jail, green up +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC \\(green\\) +:80$`, 'm'),
      );
      assert.match(text.stdout, /^ {2}other +— +— +blue no jail, green no jail +never +:8081$/m);
      assert.doesNotMatch(text.stdout, new RegExp(esc(a.host)), 'only the host picked');
    } finally {
      await sshRun(b, `rm -f ${CLAIMS_DIR}/other.claim`);
    }
  });

  test("logs: every host's at once, each line led by its host; -H one host's, as on one server", async () => {
    const r = await cli(['logs', '-n', '20']);
    ok(r);
    const lines = r.stdout.split('\n').filter(Boolean);
    for (const h of [a, b])
      assert.ok(
        lines.some((l) => l.startsWith(`${h.host} | `) && l.includes('Running Hello v2.0.0 slot=green')),
        `${h.host}'s log: ${r.stdout}`,
      );
    assert.deepEqual(
      lines.filter((l) => !/^\S+ \| /.test(l)),
      [],
      'every line is led by its host',
    );
    const g = await cli(['logs', '--grep', 'Running Hello', '-n', '1']);
    ok(g);
    assert.deepEqual(
      g.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' | ')[0])
        .sort(),
      [a.host, b.host].sort(),
      'the filter applies on each host',
    );
    const one = await cli(['-H', b.host, 'logs', '-n', '20']);
    ok(one);
    assert.match(one.stdout, /^\S.*Running Hello v2\.0\.0 slot=green/m);
    assert.doesNotMatch(one.stdout, / \| /, 'one host: its lines as they are');
  });

  test('rollback: every host back on the release it kept, v1', async () => {
    const r = await cli(['rollback']);
    ok(r);
    assert.match(r.stdout, new RegExp(`✓ hello rolled back to [0-9a-f]{12} on 2 hosts \\(${esc(a.host)} blue, ${esc(b.host)} blue\\)`));
    for (const h of [a, b]) assert.equal(await served(h), '200 hello v1.0.0 slot=blue', h.name);
    const [last] = JSON.parse((await cli(['history', '--json', '-n', '1'])).stdout) as Array<{ kind: string; outcome: string }>;
    assert.deepEqual([last?.kind, last?.outcome], ['rollback', 'completed']);
  });

  test('remove: the app taken off every host', async () => {
    const r = await cli(['remove', '--yes']);
    ok(r);
    assert.match(r.stdout, new RegExp(`✓ hello removed from ${esc(a.host)}, ${esc(b.host)}`));
    for (const h of [a, b]) {
      assert.ok(!claimed(h), `${h.name}: the claim is gone`);
      assert.doesNotMatch((await sshRun(h, 'jls name')).stdout, /hello_/, `${h.name}: no jail of the app`);
    }
  });
});
