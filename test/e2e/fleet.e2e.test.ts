// End to end on two simulated FreeBSD hosts: `alcaide setup` of a fleet through the real CLI,
// the real dev server and real OpenSSH. Every host is checked before any host changes; then
// each is set up by its own child workflow; a second setup changes nothing on either host.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { stringify } from 'yaml';
import { isMutating, readInvocations, sshRun, startSimHosts, type SimHost, type SimHosts } from '../simhost/index';
import { runCliAsync, tempProject } from '../helpers/cli';
import { ok } from '../helpers/e2eProject';
import { startTestEnv } from '../helpers/temporal';
import { CLAIMS_DIR } from '../../src/freebsd/layout';
import { renderClaim } from '../../src/freebsd/claims';
import type { WorkflowStatus } from '../../workflows/status';

let sim: SimHosts;
let env: TestWorkflowEnvironment;
let a: SimHost;
let b: SimHost;
const project = tempProject('fleet-e2e-');
const dir = path.join(project.dir, 'app');

before(async () => {
  [sim, env] = await Promise.all([startSimHosts({ hosts: 2 }), startTestEnv()]);
  [a, b] = sim.hosts as [SimHost, SimHost];
  mkdirSync(dir, { recursive: true });
  // one known_hosts for the fleet, as an operator keeps one
  const knownHosts = path.join(dir, 'known_hosts');
  writeFileSync(knownHosts, [a, b].map((h) => readFileSync(h.knownHostsFile, 'utf8').trim()).join('\n') + '\n');
  writeFileSync(
    path.join(dir, 'deploy.yml'),
    stringify({
      app: 'hello',
      servers: [{ host: a.host }, { host: b.host, labels: ['second'] }],
      ssh: { keys: [a.privateKey, b.privateKey], known_hosts: knownHosts },
    }),
  );
});
after(async () => {
  await env?.teardown();
  await sim?.down();
  project.cleanup();
});

const cli = (args: string[]) =>
  runCliAsync(args, {
    cwd: dir,
    env: { TEMPORAL_ADDRESS: env.address, ALCAIDE_TASK_QUEUE: 'fleet-e2e', SSH_AUTH_SOCK: '', NO_COLOR: '1' },
    timeoutMs: 600_000,
  });
const claimed = (h: SimHost) => existsSync(path.join(h.root, CLAIMS_DIR, 'hello.claim'));
const mutations = (h: SimHost, from: number) =>
  readInvocations(h)
    .slice(from)
    .filter((e) => isMutating(e.argv))
    .map((e) => e.argv.join(' '));

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
    assert.match(r.stderr, new RegExp(`${b.host.replace(/\./g, '\\.')}: the jail subnet 10\\.0\\.0\\.0/24 overlaps other's 10\\.0\\.0\\.0/24`));
    assert.doesNotMatch(r.stderr, new RegExp(`${a.host.replace(/\./g, '\\.')}:`), 'the fit host is not blamed');
    assert.deepEqual(mutations(a, from[0]!), [], 'no mutating command on the fit host');
    assert.deepEqual(mutations(b, from[1]!), []);
    assert.ok(!claimed(a) && !claimed(b), 'no claim recorded anywhere');
    assert.equal((await sshRun(b, `rm ${CLAIMS_DIR}/other.claim`)).code, 0);
  });

  test('setup: both hosts at once, each in its own child workflow; again: nothing changes', async () => {
    const r = await cli(['setup']);
    ok(r);
    assert.match(r.stdout, new RegExp(`✓ ${a.host.replace(/\./g, '\\.')}, ${b.host.replace(/\./g, '\\.')} ready for hello`));
    assert.ok(claimed(a) && claimed(b));
    for (const h of [a, b]) assert.match((await sshRun(h, 'jls name')).stdout, /hello_build/, `the build jail on ${h.name}`);
    const parent = env.client.workflow.getHandle('alcaide-setup-hello');
    const status = (await parent.result()) as WorkflowStatus;
    assert.deepEqual(
      status.hosts?.map((h) => [h.host, h.state]),
      [
        [a.host, 'completed'],
        [b.host, 'completed'],
      ],
    );
    // the children ran side by side: each started before the other ended
    const [ca, cb] = await Promise.all([a, b].map((h) => env.client.workflow.getHandle(`alcaide-setup-hello@${h.host}`).describe()));
    assert.ok(ca!.startTime < cb!.closeTime! && cb!.startTime < ca!.closeTime!, 'the hosts were set up at the same time');
    assert.equal(ca!.raw.workflowExecutionInfo?.parentExecution?.workflowId, 'alcaide-setup-hello');

    const from = [readInvocations(a).length, readInvocations(b).length];
    const again = await cli(['setup']);
    ok(again);
    assert.match(again.stdout, /nothing needed changing.*\n?.*nothing needed changing/s);
    assert.deepEqual(mutations(a, from[0]!), [], 'the second setup ran no mutating command');
    assert.deepEqual(mutations(b, from[1]!), []);
  });

  test('-H picks one host by a label', async () => {
    const from = readInvocations(a).length;
    const r = await cli(['-H', 'second', 'setup']);
    ok(r);
    assert.match(r.stdout, new RegExp(`✓ ${b.host.replace(/\./g, '\\.')} ready for hello`));
    assert.equal(readInvocations(a).length, from, 'nothing ran on the other host');
  });
});
