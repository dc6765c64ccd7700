// A role's own command and environment on its hosts: the runner daemon(8) starts, the app
// environment a host gets, and what setup plans for a host in no web role.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { createDeployActivities } from '../../activities/deploy';
import { Remote } from '../../activities/remote';
import { renderRunner } from '../../src/freebsd/app';
import { q } from '../../src/freebsd/sh';
import { hostRunOf, onHost, type FleetHost } from '../../src/model/fleet';
import type { AppTarget } from '../../src/model/target';
import type { SshConnection } from '../../src/ssh/connection';
import { readActiveSlot } from '../../src/host/liveSlot';
import { testDeps } from '../helpers/activityDeps';
import { HOSTILE } from '../helpers/hostile';
import { TEST_TARGET } from '../helpers/target';

const dir = mkdtempSync(path.join(os.tmpdir(), 'alcaide-roles-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The runner as daemon(8) runs it, with the env file and the app directory of a temp dir. */
function runRunner(cmd: string | undefined, env = "PORT='4000'\n") {
  const app = path.join(dir, 'my_app');
  mkdirSync(path.join(app, 'bin'), { recursive: true });
  writeFileSync(path.join(dir, 'my_app.env'), env);
  const runner = renderRunner({ app: 'my_app', releaseName: 'shop', cmd })
    .replace('. /usr/local/etc/my_app.env ', `. ${dir}/my_app.env `)
    .replace('cd /usr/local/my_app ', `cd ${app} `);
  const file = path.join(dir, 'my_app-run');
  writeFileSync(file, runner, { mode: 0o755 });
  return { runner, ...spawnSync(file, [], { encoding: 'utf8', env: {} }) };
}

describe("a role's command in the runner", () => {
  test('without cmd the release starts as before; with it, the runner execs that command line', () => {
    assert.ok(renderRunner({ app: 'my_app', releaseName: 'shop' }).endsWith('cd /usr/local/my_app && exec /usr/local/my_app/bin/shop start\n'));
    const r = renderRunner({ app: 'my_app', releaseName: 'shop', cmd: 'bin/shop eval "Shop.Worker.run()"' });
    assert.ok(r.endsWith(`cd /usr/local/my_app && exec /bin/sh -c 'exec bin/shop eval "Shop.Worker.run()"'\n`), r);
  });

  test('the command runs in the release directory with the app environment, as the process daemon(8) started', () => {
    const r = runRunner('sh -c \'printf "%s %s %s" "$PORT" "$(pwd -P)" "$$"\'');
    assert.equal(r.status, 0, r.stderr);
    const [port, cwd, pid] = r.stdout.split(' ');
    assert.equal(port, '4000');
    assert.equal(cwd, path.join(dir, 'my_app'));
    // the runner's shell became the command (exec twice): one process, the one daemon(8) started
    assert.equal(Number(pid), r.pid);
  });

  test('hostile words reach the command as written; the runner around it stays as rendered', () => {
    for (const v of HOSTILE.filter((h) => !/[\r\n]/.test(h))) {
      const r = runRunner(`printf %s ${q(v)}`);
      assert.equal(r.stdout, v, JSON.stringify(v));
      assert.equal(spawnSync('/bin/sh', ['-n', '-c', r.runner]).status, 0, `the runner parses with cmd ${JSON.stringify(v)}`);
    }
    // a command line that is not valid sh fails in its own shell, never in the runner's lines
    for (const bad of ["'; touch /tmp/alcaide-pwned #", '"unterminated', 'a && touch /tmp/alcaide-pwned', '$(touch /tmp/alcaide-pwned']) {
      const r = runRunner(bad);
      assert.notEqual(r.status, 0, bad);
      assert.equal(spawnSync('/bin/sh', ['-n', '-c', r.runner]).status, 0, `the runner parses with cmd ${JSON.stringify(bad)}`);
    }
    assert.notEqual(spawnSync('ls', ['/tmp/alcaide-pwned']).status, 0, 'no injected command ran');
  });
});

/** A connection that answers every command with success and keeps what each got on stdin. */
function recordingConn(stdins: string[]): SshConnection {
  const answer = async (_cmd: string, o: { stdin?: string } = {}) => {
    if (o.stdin !== undefined) stdins.push(o.stdin);
    return { code: 0, stdout: '', stderr: '' };
  };
  return new Proxy({} as SshConnection, { get: (_t, p) => (p === 'exec' || p === 'run' ? answer : undefined) });
}

/** The env file writeAppEnv sends for `t`, as NAME → quoted value. */
async function envFileOf(t: AppTarget): Promise<Record<string, string>> {
  const stdins: string[] = [];
  await createDeployActivities(testDeps({ remote: () => new Remote(recordingConn(stdins)) })).writeAppEnv(t, 'blue', 'a'.repeat(40));
  const file = stdins.find((s) => s.includes('ALCAIDE_VERSION='))!;
  return Object.fromEntries(
    file
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

const host = (o: Partial<FleetHost>): FleetHost => ({ host: '192.0.2.9', port: 22, user: 'root', labels: [], roles: ['web'], ...o });

describe("a role's environment", () => {
  test('a web host serves HTTP (PHX_SERVER=true) as before; a worker host does not unless its env says so', async () => {
    const t = { ...TEST_TARGET, envClear: { QUEUES: 'default' } };
    const web = await envFileOf(onHost(t, host({})));
    assert.equal(web.PHX_SERVER, 'true');
    const worker = await envFileOf(onHost(t, host({ roles: ['worker'], env: { QUEUES: "mail,'reports'" } })));
    assert.equal(worker.PHX_SERVER, undefined);
    assert.equal(worker.QUEUES, q("mail,'reports'"), "the role's value over env.clear");
    assert.equal(worker.PORT, web.PORT);
    const serving = await envFileOf(onHost(t, host({ roles: ['worker'], env: { PHX_SERVER: 'yes' } })));
    assert.equal(serving.PHX_SERVER, 'yes');
  });

  test('a target says only what differs from a web host running the release', () => {
    assert.equal(hostRunOf(host({})), undefined);
    assert.deepEqual(hostRunOf(host({ roles: ['worker'] })), { web: false });
    assert.deepEqual(hostRunOf(host({ roles: ['web', 'worker'], env: { A: '1' } })), { web: true, env: { A: '1' } });
    assert.equal(onHost({ ...TEST_TARGET, hostRun: { web: false } }, host({})).hostRun, undefined, "a fleet's target does not lend its host's part to another");
  });
});

describe('the live slot of a host in no web role', () => {
  /** A host where both slot jails run, blue is recorded live, and no gate is open. */
  const host2 = {
    run: async (c: string) => ({ stdout: c.includes('/gates/') ? '' : 'blue\ngreen\n' }),
    check: async () => ({ stdout: 'blue\n' }),
  };

  test('is its running slot (no gates there); the recorded one while a deploy runs both', async () => {
    assert.equal(await readActiveSlot(host2, onHost(TEST_TARGET, host({ roles: ['worker'] }))), 'blue');
    assert.equal(await readActiveSlot(host2, onHost(TEST_TARGET, host({}))), undefined, 'a web host: no open gate, no live slot');
  });
});
