// A canary's plan and verdict (src/model/canary.ts), deploy.yml's `rollout:`, `deploy --canary`
// and `alcaide promote` as far as they go without Temporal.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { canaryPlanFor } from '../../src/cli/canary';
import { loadConfig } from '../../src/config/load';
import { canaryBreach, DEFAULT_ROLLOUT, parsePercent, stepsProblem, type CanaryPlan } from '../../src/model/canary';
import { runCli, tempProject } from '../helpers/cli';

const PLAN: CanaryPlan = { steps: [10], intervalMs: 1000, checkIntervalMs: 1000, maxErrorPoints: 5, minRequests: 20 };
const fig = (cr: number, ce: number, sr: number, se: number) => ({ canary: { requests: cr, errors: ce }, stable: { requests: sr, errors: se } });

describe('canary verdict', () => {
  test('a 5xx share more than the limit above the old slot breaches; at the limit or below it does not', () => {
    assert.equal(canaryBreach(PLAN, fig(100, 6, 1000, 10), 'green', 'blue'), undefined, '6% vs 1%: 5 points');
    assert.match(canaryBreach(PLAN, fig(100, 7, 1000, 10), 'green', 'blue') ?? '', /^green answered 5xx to 7% of its requests, 6 points above blue's 1%/);
    // the old slot failing as much: the new version is not the cause
    assert.equal(canaryBreach(PLAN, fig(100, 30, 1000, 300), 'green', 'blue'), undefined);
    assert.equal(canaryBreach({ ...PLAN, maxErrorPoints: 0 }, fig(100, 1, 1000, 0), 'green', 'blue')?.startsWith('green answered'), true);
  });

  test('no verdict before min_requests on the new slot', () => {
    assert.equal(canaryBreach(PLAN, fig(19, 19, 1000, 0), 'green', 'blue'), undefined);
    assert.ok(canaryBreach(PLAN, fig(20, 20, 1000, 0), 'green', 'blue'));
  });

  test('shares: "10%", "12.5" are shares; 0, 100 and words are not; steps ascend below 100', () => {
    assert.equal(parsePercent('10%'), 10);
    assert.equal(parsePercent(' 12.5 '), 12.5);
    for (const bad of ['0', '100%', '150', 'ten', '-5%', '']) assert.equal(parsePercent(bad), undefined, bad);
    assert.equal(stepsProblem([5, 25, 50]), undefined);
    assert.match(stepsProblem([25, 5]) ?? '', /ascending/);
    assert.match(stepsProblem([5, 100]) ?? '', /below 100/);
    assert.match(stepsProblem([]) ?? '', /at least one/);
  });
});

describe('rollout in deploy.yml and deploy --canary', () => {
  const project = tempProject();
  const VALID = 'app: my_app\nserver:\n  host: 203.0.113.10\n';
  const load = (extra: string) => {
    writeFileSync(path.join(project.dir, 'deploy.yml'), VALID + extra);
    return loadConfig({ cwd: project.dir });
  };

  test('no rollout: no canary unless --canary asks; --canary alone takes the default steps', () => {
    const c = load('');
    assert.equal(canaryPlanFor(c, undefined), undefined);
    assert.deepEqual(canaryPlanFor(c, true), { ...DEFAULT_ROLLOUT });
    assert.deepEqual(canaryPlanFor(c, '10%')?.steps, [10]);
    assert.equal(canaryPlanFor(c, false), undefined);
  });

  test('a rollout makes every deploy a canary with its own figures; --no-canary skips it; --canary P one share', () => {
    const c = load('rollout:\n  steps: [1, 10]\n  interval: 2m\n  check_interval: 5s\n  max_error_rate: 2.5\n  min_requests: 50\n');
    assert.deepEqual(canaryPlanFor(c, undefined), { steps: [1, 10], intervalMs: 120_000, checkIntervalMs: 5000, maxErrorPoints: 2.5, minRequests: 50 });
    assert.equal(canaryPlanFor(c, false), undefined);
    assert.deepEqual(canaryPlanFor(c, '33%'), { steps: [33], intervalMs: 120_000, checkIntervalMs: 5000, maxErrorPoints: 2.5, minRequests: 50 });
    assert.deepEqual(canaryPlanFor(load('rollout: {}\n'), undefined), { ...DEFAULT_ROLLOUT });
  });

  test('bad rollout values are clear config errors', () => {
    assert.throws(() => load('rollout:\n  steps: [50, 25]\n'), /rollout\.steps: expected shares in ascending order/);
    assert.throws(() => load('rollout:\n  steps: [50, 100]\n'), /rollout\.steps: expected shares above 0 and below 100/);
    assert.throws(() => load('rollout:\n  check_interval: 100ms\n'), /rollout\.check_interval: expected a duration of 1s or more/);
    assert.throws(() => load('rollout:\n  max_error_rate: 200\n'), /rollout\.max_error_rate: expected percentage points/);
    assert.throws(() => load('rollout:\n  steps: [5]\n  bogus: 1\n'), /rollout/);
  });

  test('deploy --canary with a bad share, or on several servers, is exit 2 before Temporal is contacted', () => {
    const env = { TEMPORAL_ADDRESS: '127.0.0.1:1' };
    const git = (...a: string[]) => spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...a], { cwd: project.dir });
    writeFileSync(path.join(project.dir, 'deploy.yml'), VALID);
    git('init', '-q');
    git('add', '.');
    git('commit', '-qm', 'one');
    const bad = runCli(['deploy', '--canary', '150%'], { cwd: project.dir, env });
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /--canary 150%: expected a share of clients above 0 and below 100, such as "10%"/);
    const ok = runCli(['deploy', '--canary', '10%'], { cwd: project.dir, env });
    assert.equal(ok.code, 1, 'a good share gets as far as Temporal');
    assert.match(ok.stderr, /cannot reach Temporal at 127\.0\.0\.1:1/);
    writeFileSync(path.join(project.dir, 'deploy.yml'), 'app: my_app\nservers:\n  - host: 203.0.113.10\n  - host: 203.0.113.11\nrollout:\n  steps: [10]\n');
    git('commit', '-qam', 'two');
    const fleet = runCli(['deploy'], { cwd: project.dir, env });
    assert.equal(fleet.code, 2, fleet.stderr);
    assert.match(fleet.stderr, /rollout: a canary is not available for a deploy to several servers/);
    // attaching to a running fleet deploy is not refused for the rollout in deploy.yml
    const attach = runCli(['deploy', '--attach'], { cwd: project.dir, env });
    assert.equal(attach.code, 1, attach.stderr);
    assert.match(attach.stderr, /cannot reach Temporal at 127\.0\.0\.1:1/);
    const attachCanary = runCli(['deploy', '--attach', '--canary', '5%'], { cwd: project.dir, env });
    assert.equal(attachCanary.code, 2);
    assert.match(attachCanary.stderr, /--canary and --no-canary start a deploy: the running one keeps its own canary/);
    const flag = runCli(['deploy', '--no-canary', '--canary', '5%'], { cwd: project.dir, env });
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /--canary: not available for a deploy to several servers/);
  });

  test('alcaide promote --help says what it does, with examples', () => {
    const r = runCli(['promote', '--help'], { cwd: project.dir, env: {} });
    assert.equal(r.code, 0);
    assert.match(r.stdout, /every client now/);
    assert.match(r.stdout, /\$ alcaide promote/);
    project.cleanup();
  });
});
