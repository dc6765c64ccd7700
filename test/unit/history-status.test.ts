// What `alcaide history` and `alcaide status` show, from the statuses deploys end with: a failed
// deploy's slot is not shown as live, an aborted one says aborted and by whom, the step list is
// in the order the deploy printed it, and the migration note names every migration run.
import assert from 'node:assert/strict';
import '../helpers/plainOutput';
import { describe, test } from 'node:test';
import { migrationNote } from '../../activities/deploy';
import { historyEntry, historyLine, type ListedRun } from '../../src/cli/commands/history';
import { inOrder, ProgressView, renderStatus } from '../../src/cli/progress';
import { deploySteps } from '../../workflows/deploySteps';
import type { FleetHostStatus, StepStatus, WorkflowStatus } from '../../workflows/status';

const T0 = Date.parse('2026-11-29T10:00:00Z');
const VERSION = '0123456789abcdef0123456789abcdef01234567';

/** A deploy's steps as the workflow records them: each ends 1 s after the one before, up to `until`. */
function steps(until: string, last: Partial<StepStatus> = {}): StepStatus[] {
  const end = deploySteps().findIndex((s) => s.name === until);
  return deploySteps()
    .map(({ name, title }) => ({ name, title }))
    .map((s, i) =>
      i < end
        ? { ...s, state: 'done', startedAt: T0 + i * 1000, endedAt: T0 + (i + 1) * 1000, note: 'ok' }
        : i === end
          ? { ...s, state: 'failed', startedAt: T0 + i * 1000, endedAt: T0 + (i + 1) * 1000, ...last }
          : { ...s, state: 'pending' },
    );
}

const base = { kind: 'deploy' as const, app: 'shop', host: '203.0.113.10', version: VERSION, slot: 'green', previousSlot: 'blue', startedAt: T0 };
const run = (status: string): ListedRun => ({
  type: 'deployWorkflow',
  workflowId: 'alcaide-shop',
  runId: 'run-1',
  status: { name: status },
  startTime: new Date(T0),
  closeTime: new Date(T0 + 20_000),
  memo: { startedBy: 'dev@laptop' },
  searchAttributes: { slot: ['green'], version: [VERSION] },
});
const undone = { compensations: [{ name: 'destroySlot', title: 'remove the green slot', state: 'done' as const }], restored: 'remove the green slot' };

describe('alcaide history', () => {
  test('a completed deploy shows the slot it left live', () => {
    const e = historyEntry(run('COMPLETED'), { ...base, state: 'completed', steps: steps('recordDeploy', { state: 'done' }) });
    assert.equal(e.slot, 'green');
    assert.equal(historyLine(e), '2026-11-29T10:00:00.000Z  deploy   0123456789ab green completed 20.0s  dev@laptop');
  });

  test('a failed deploy: its slot was removed, so none shows as live', () => {
    const status: WorkflowStatus = {
      ...base,
      state: 'failed',
      steps: steps('checkHealth', { error: 'GET / answered 500' }),
      ...undone,
      error: 'deploy of shop failed',
    };
    const e = historyEntry(run('FAILED'), status);
    assert.deepEqual([e.slot, e.triedSlot, e.outcome, e.failedStep], [undefined, 'green', 'failed, restored', 'checkHealth']);
    assert.equal(historyLine(e), '2026-11-29T10:00:00.000Z  deploy   0123456789ab -     failed at checkHealth, restored 20.0s  dev@laptop');
  });

  test('an aborted deploy says aborted, by whom and where, not "failed"', () => {
    const status: WorkflowStatus = {
      ...base,
      state: 'failed',
      steps: steps('checkHealth', { state: 'cancelled', error: 'stopped' }),
      ...undone,
      stopped: { how: 'aborted', by: 'ops@laptop' },
    };
    const e = historyEntry(run('FAILED'), status);
    assert.deepEqual([e.outcome, e.stoppedBy, e.slot], ['aborted, restored', 'ops@laptop', undefined]);
    assert.equal(historyLine(e), '2026-11-29T10:00:00.000Z  deploy   0123456789ab -     aborted by ops@laptop at checkHealth, restored 20.0s  dev@laptop');
    // rolled back during the bake; and a cancel from the Web UI, which names no one
    const rolledBack = historyEntry(run('FAILED'), {
      ...status,
      steps: steps('bake', { state: 'cancelled' }),
      stopped: { how: 'rolled back', by: 'ops@laptop' },
    });
    assert.match(historyLine(rolledBack), / - {5}rolled back by ops@laptop at bake, restored /);
    const cancelled = historyEntry(run('FAILED'), { ...status, stopped: undefined });
    assert.match(historyLine(cancelled), / - {5}stopped at checkHealth, restored /);
  });
});

describe('a fleet host that cannot be taken back', () => {
  const host = (h: string, more: Partial<FleetHostStatus> = {}): FleetHostStatus => ({
    host: h,
    roles: ['web'],
    workflowId: `alcaide-shop@${h}`,
    state: 'undone',
    slot: 'green',
    ...more,
  });
  const fleet = (hosts: FleetHostStatus[]): WorkflowStatus => ({
    ...base,
    kind: 'fleet-deploy',
    host: hosts.map((h) => h.host).join(', '),
    state: 'failed',
    steps: [],
    hosts,
  });

  test('while held, its line in `alcaide status` says which undo step failed and how to retry it', () => {
    const held = {
      step: 'restoreTraffic',
      undoOf: 'switch traffic',
      title: 'traffic back to blue',
      error: 'ssh: timed out',
      since: T0,
      until: T0 + 3_600_000,
      retries: 0,
    };
    const out = renderStatus({ ...fleet([host('192.0.2.1', { state: 'held', held }), host('192.0.2.2')]), state: 'compensating' });
    assert.match(
      out,
      /⏸ 192\.0\.2\.1 held: undo of switch traffic \(traffic back to blue\) failed: ssh: timed out — fix it, then `alcaide retry -H 192\.0\.2\.1`\n {4}without a retry by 11:00:00Z it is reported not taken back/,
    );
  });

  test('`alcaide history` names it "not taken back", the others by how they ended', () => {
    const e = historyEntry(
      { ...run('FAILED'), type: 'fleetDeployWorkflow' },
      fleet([host('192.0.2.1', { state: 'failed', notTakenBack: true, error: 'x' }), host('192.0.2.2')]),
    );
    assert.deepEqual(
      e.hosts?.map((h) => `${h.host}: ${h.outcome}`),
      ['192.0.2.1: not taken back', '192.0.2.2: undone'],
    );
  });
});

describe('alcaide status: steps in the order the deploy printed them', () => {
  // the release builds while the slot jail is made; the jail is ready first
  const at = (i: number) => T0 + i * 1000;
  const running = (): WorkflowStatus => ({
    ...base,
    state: 'running',
    steps: deploySteps().map(({ name, title }): StepStatus => ({ name, title, state: 'pending' })),
  });
  const set = (st: WorkflowStatus, name: string, v: Partial<StepStatus>) =>
    Object.assign(
      st.steps.find((s) => s.name === name)!,
      v,
    );
  const polls: WorkflowStatus[] = [];
  {
    const st = running();
    set(st, 'ensureBuildJail', { state: 'unchanged', startedAt: at(0), endedAt: at(1) });
    set(st, 'uploadSource', { state: 'done', startedAt: at(1), endedAt: at(2) });
    set(st, 'chooseSlot', { state: 'done', startedAt: at(2), endedAt: at(3) });
    set(st, 'buildRelease', { state: 'running', startedAt: at(3) });
    set(st, 'createSlotJail', { state: 'done', startedAt: at(3), endedAt: at(5) });
    polls.push(structuredClone(st));
    set(st, 'buildRelease', { state: 'done', endedAt: at(40) });
    for (const [i, name] of ['installRelease', 'writeAppEnv', 'startApp', 'runMigrations', 'checkHealth', 'switchTraffic', 'verifyThroughCaddy'].entries())
      set(st, name, { state: 'done', startedAt: at(40 + i), endedAt: at(41 + i) });
    set(st, 'bake', { state: 'skipped', note: 'bake is off' });
    for (const [i, name] of ['drainOldSlot', 'stopOldSlot', 'recordDeploy', 'pruneReleases'].entries())
      set(st, name, { state: 'done', startedAt: at(50 + i), endedAt: at(51 + i) });
    polls.push({ ...structuredClone(st), state: 'completed' });
  }

  test('the plain progress of the deploy and `alcaide status` list the same steps in the same order', () => {
    const printed: string[] = [];
    const log = console.log;
    console.log = (line: string) => printed.push(line);
    try {
      const view = new ProgressView('plain');
      for (const st of polls) view.update(st);
    } finally {
      console.log = log;
    }
    const titles = (lines: string[]) =>
      lines.map((l) =>
        l
          .replace(/^\S+ /, '')
          .replace(/ \d.*| \(skipped.*| —.*/, '')
          .trim(),
      );
    const shown = titles(renderStatus(polls[1]!).split('\n'));
    assert.deepEqual(shown, titles(printed));
    assert.deepEqual(shown.slice(3, 5), ['create the slot jail', 'build the release'], 'the step that ended first comes first');
    assert.equal(shown.indexOf('bake: health through Caddy'), shown.indexOf('verify through Caddy') + 1, 'a skipped step keeps its place');
  });

  test('steps not ended yet follow those that did, in their own order', () => {
    assert.deepEqual(
      inOrder(polls[0]!.steps)
        .slice(0, 6)
        .map((s) => s.name),
      ['ensureBuildJail', 'uploadSource', 'chooseSlot', 'createSlotJail', 'buildRelease', 'installRelease'],
    );
  });
});

describe('the migrations step note', () => {
  test("Ecto's output: every migration run is named, not just the last lines", () => {
    const out = [
      '10:00:01.120 [info] == Running 20240101000000 Shop.Repo.Migrations.CreateProducts.change/0 forward',
      '10:00:01.121 [info] create table products',
      '10:00:01.125 [info] == Migrated 20240101000000 in 0.0s',
      '10:00:01.130 [info] == Running 20240102000000 Shop.Repo.Migrations.AddSkuToProducts.change/0 forward',
      '10:00:01.131 [info] alter table products',
      '10:00:01.133 [info] == Migrated 20240102000000 in 0.0s',
      '',
    ].join('\n');
    assert.equal(migrationNote(out), '2 migrations run: 20240101000000 CreateProducts; 20240102000000 AddSkuToProducts');
    assert.equal(migrationNote('10:00:01.120 [info] Migrations already up\n'), 'Migrations already up');
  });

  test('other output line by line; a long list ends with a count', () => {
    assert.equal(migrationNote('applied 001_a\napplied 002_b\napplied 003_c\napplied 004_d\n'), 'applied 001_a; applied 002_b; applied 003_c; applied 004_d');
    const many = Array.from({ length: 14 }, (_, i) => `[info] == Running ${20240101000000 + i} Shop.Repo.Migrations.M${i}.up/0 forward`).join('\n');
    assert.match(migrationNote(many), /^14 migrations run: 20240101000000 M0; .*20240101000009 M9; and 4 more$/);
    assert.equal(migrationNote(''), 'done');
  });
});
