// A fleet's pure parts: switch batches, the preflight's verdict, -H/-R; and the CLI refusing an
// unknown host or role, or a one-host command on a fleet, with exit 2 before anything remote.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { batches, batchSize, fleetProblems, type FleetHost } from '../../src/model/fleet';
import { selectHosts } from '../../src/cli/hosts';
import { UserError } from '../../src/errors';
import { runCli, tempProject } from '../helpers/cli';
import { loadConfig } from '../../src/config/load';
import { toAppTarget } from '../../src/config/target';
import { onBuildHost } from '../../src/cli/context';

const host = (name: string, roles: string[], labels: string[] = []): FleetHost => ({ host: name, user: 'root', port: 22, roles, labels });
const HOSTS = [host('a', ['web'], ['eu']), host('b', ['web'], ['us']), host('c', ['web'], ['eu']), host('j', ['worker'], ['eu'])];

describe('switch batches (boot.limit)', () => {
  test('a count, a share rounded up, never empty, never more than the hosts', () => {
    assert.deepEqual(batches(['a', 'b', 'c', 'd', 'e'], { count: 2 }), [['a', 'b'], ['c', 'd'], ['e']]);
    assert.deepEqual(batches(['a', 'b', 'c', 'd', 'e'], { percent: 25 }), [['a', 'b'], ['c', 'd'], ['e']]);
    assert.equal(batchSize({ percent: 1 }, 3), 1);
    assert.equal(batchSize({ percent: 100 }, 3), 3);
    assert.equal(batchSize({ count: 10 }, 3), 3);
    assert.deepEqual(batches(['a'], { count: 1 }), [['a']]);
  });
});

describe('the preflight verdict', () => {
  test('each host with its problems; one FreeBSD major and architecture for all', () => {
    const fine = (h: string, release = '14.3-RELEASE', arch = 'amd64') => ({ host: h, release, major: Number(release.split('.')[0]), arch, problems: [] });
    assert.deepEqual(fleetProblems([fine('a'), fine('b', '14.1-RELEASE')]), [], 'minor versions may differ');
    assert.deepEqual(fleetProblems([fine('a'), { host: 'b', problems: ['unreachable'] }]), ['b: unreachable']);
    assert.deepEqual(fleetProblems([fine('a'), fine('b', '15.0-RELEASE')]), [
      'the hosts must share one FreeBSD major version and architecture (one build runs on all): a 14.3-RELEASE amd64, b 15.0-RELEASE amd64',
    ]);
    assert.equal(fleetProblems([fine('a'), fine('b', '14.3-RELEASE', 'arm64')]).length, 1);
  });
});

describe('-H/--hosts and -R/--roles', () => {
  const pick = (sel: { hosts?: string; roles?: string }) => selectHosts(HOSTS, sel).map((h) => h.host);
  test('hosts and labels, roles, both together', () => {
    assert.deepEqual(pick({ hosts: 'b' }), ['b']);
    assert.deepEqual(pick({ hosts: 'eu' }), ['a', 'c', 'j']);
    assert.deepEqual(pick({ hosts: 'b, j' }), ['b', 'j']);
    assert.deepEqual(pick({ roles: 'worker' }), ['j']);
    assert.deepEqual(pick({ hosts: 'eu', roles: 'web' }), ['a', 'c']);
  });
  test('a name that matches nothing is exit 2 with what there is', () => {
    const refused = (sel: { hosts?: string; roles?: string }, msg: RegExp) =>
      assert.throws(
        () => selectHosts(HOSTS, sel),
        (e: unknown) => e instanceof UserError && e.exitCode === 2 && msg.test(e.message),
      );
    refused({ hosts: 'x' }, /^-H\/--hosts: no server or label "x" in deploy\.yml \(servers: a, b, c, j; labels: eu, us\)$/);
    refused({ roles: 'db' }, /^-R\/--roles: no role "db" in deploy\.yml \(roles: web, worker\)$/);
    refused({ hosts: 'us', roles: 'worker' }, /no host is both/);
    refused({ hosts: ',' }, /expected one or more hosts/);
  });
});

describe('the CLI on a fleet', () => {
  const project = tempProject();
  after(project.cleanup);
  const dir = path.join(project.dir, 'fleet');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'deploy.yml'),
    'app: my_app\nservers:\n  - host: 192.0.2.1\n  - host: 192.0.2.2\n  - host: 192.0.2.3\nroles:\n  web:\n    hosts: [192.0.2.1, 192.0.2.2]\n  worker:\n    hosts: [192.0.2.3]\n',
  );
  test('an unknown host or role is exit 2', () => {
    const r = runCli(['-H', '192.0.2.9', 'logs'], { cwd: dir });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /-H\/--hosts: no server or label "192\.0\.2\.9" in deploy\.yml \(servers: 192\.0\.2\.1, 192\.0\.2\.2, 192\.0\.2\.3\)/);
    const s = runCli(['--roles', 'jobs', 'setup', '--dry-run'], { cwd: dir });
    assert.equal(s.code, 2, s.stderr);
    assert.match(s.stderr, /-R\/--roles: no role "jobs" in deploy\.yml \(roles: web, worker\)/);
  });
  test('a one-host command on several hosts asks for one', () => {
    const r = runCli(['run', 'true'], { cwd: dir });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /run acts on one host at a time: deploy\.yml lists 3 \(192\.0\.2\.1, 192\.0\.2\.2, 192\.0\.2\.3\); pick one with -H HOST/);
    const w = runCli(['-R', 'web', 'run', 'true'], { cwd: dir });
    assert.equal(w.code, 2, w.stderr);
    assert.match(w.stderr, /run acts on one host at a time: -H\/-R picked 2/);
  });
  test("the nightly rebuild of a fleet rebuilds the build host's jail (the only one that builds)", () => {
    const c = loadConfig({ cwd: dir });
    assert.deepEqual(onBuildHost(c).server, { host: '192.0.2.1', user: 'root', port: 22 });
    writeFileSync(path.join(dir, 'deploy.other.yml'), 'build:\n  host: 192.0.2.2\n');
    const other = onBuildHost(loadConfig({ cwd: dir, destination: 'other' }));
    assert.deepEqual([other.server.host, toAppTarget(other).fleet], ['192.0.2.2', undefined]);
  });

  test('setup --dry-run plans each host asked for', () => {
    const r = runCli(['-R', 'web', 'setup', '--dry-run'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      [...r.stdout.matchAll(/^Plan for my_app on (\S+)/gm)].map((m) => m[1]),
      ['192.0.2.1', '192.0.2.2'],
    );
  });
});
