// The gates' CLI side (docs/approvals.md): `deploy --at TIME --tz ZONE` resolved to an instant
// (zones, the days the clocks change, past times, bad input: exit 2 before anything starts), the
// gates a deploy asks for from deploy.yml and its flags, when `alcaide approve` is refused, and
// how the status and the history show a wait and an approval.
import assert from 'node:assert/strict';
import '../helpers/plainOutput';
import { describe, test } from 'node:test';
import { UserError } from '../../src/errors';
import { parseCutover } from '../../src/cli/cutover';
import { gatePlan } from '../../src/cli/gates';
import { approveProblem } from '../../src/cli/commands/approve';
import { historyEntry, historyLine } from '../../src/cli/commands/history';
import { renderStatus, waitingLine } from '../../src/cli/progress';
import type { WorkflowStatus } from '../../workflows/status';

const at = (iso: string) => Date.parse(iso);
/** A usage error, exit 2, whose message matches `re`. */
const usage = (re: RegExp) => (e: unknown) => e instanceof UserError && e.exitCode === 2 && re.test(e.message);

describe('deploy --at TIME --tz ZONE', () => {
  test('HH:MM is its next occurrence in the zone: later today, else tomorrow', () => {
    // 10:00 UTC is 11:00 in Madrid (CET, UTC+1)
    const now = at('2026-12-01T10:00:00Z');
    assert.deepEqual(parseCutover('23:30', 'Europe/Madrid', now), { at: at('2026-12-01T22:30:00Z'), label: '2026-12-01 23:30 Europe/Madrid' });
    assert.deepEqual(parseCutover('02:00', 'Europe/Madrid', now), { at: at('2026-12-02T01:00:00Z'), label: '2026-12-02 02:00 Europe/Madrid' });
    // the current minute is not ahead: tomorrow's
    assert.equal(parseCutover('11:00', 'Europe/Madrid', now).at, at('2026-12-02T10:00:00Z'));
    assert.equal(parseCutover('9:05', 'UTC', now).at, at('2026-12-02T09:05:00Z'));
    // the zone's date, not UTC's: 23:30 UTC on the 1st is already the 2nd in Tokyo
    assert.deepEqual(parseCutover('09:00', 'Asia/Tokyo', at('2026-12-01T23:30:00Z')), { at: at('2026-12-02T00:00:00Z'), label: '2026-12-02 09:00 Asia/Tokyo' });
    assert.equal(parseCutover('18:00', 'America/New_York', now).at, at('2026-12-01T23:00:00Z'));
  });

  test('a date and a time, with a space or a T', () => {
    const now = at('2026-06-01T00:00:00Z');
    // CEST in summer: UTC+2
    assert.equal(parseCutover('2026-07-01 02:00', 'Europe/Madrid', now).at, at('2026-07-01T00:00:00Z'));
    assert.equal(parseCutover('2026-12-01T02:00', 'Europe/Madrid', now).at, at('2026-12-01T01:00:00Z'));
    assert.equal(parseCutover(' 2026-12-01 02:00 ', 'UTC', now).label, '2026-12-01 02:00 UTC');
  });

  test('the days the clocks change: a skipped time is refused, a repeated one is its first occurrence', () => {
    // Europe/Madrid, 2026-03-29: 02:00 CET becomes 03:00 CEST
    const before = at('2026-03-28T12:00:00Z');
    assert.throws(
      () => parseCutover('2026-03-29 02:30', 'Europe/Madrid', before),
      usage(/2026-03-29 02:30 Europe\/Madrid does not exist \(the clocks go forward/),
    );
    assert.equal(parseCutover('2026-03-29 03:30', 'Europe/Madrid', before).at, at('2026-03-29T01:30:00Z'));
    assert.equal(parseCutover('2026-03-29 01:30', 'Europe/Madrid', before).at, at('2026-03-29T00:30:00Z'));
    // HH:MM on that day, before the change: the same refusal; after it: the next day's
    assert.throws(() => parseCutover('02:30', 'Europe/Madrid', at('2026-03-28T23:30:00Z')), usage(/does not exist/));
    assert.equal(parseCutover('02:30', 'Europe/Madrid', at('2026-03-29T02:00:00Z')).at, at('2026-03-30T00:30:00Z'));
    // 2026-10-25: 03:00 CEST becomes 02:00 CET, so 02:30 happens twice: the first (CEST, UTC+2)
    assert.equal(parseCutover('2026-10-25 02:30', 'Europe/Madrid', at('2026-10-24T12:00:00Z')).at, at('2026-10-25T00:30:00Z'));
    // America/New_York, 2026-03-08: 02:00 EST becomes 03:00 EDT
    assert.throws(() => parseCutover('2026-03-08 02:15', 'America/New_York', at('2026-03-01T00:00:00Z')), usage(/does not exist/));
  });

  test('a past time, an unknown zone, bad input: exit 2', () => {
    const now = at('2026-12-01T10:00:00Z');
    assert.throws(
      () => parseCutover('2026-12-01 10:59', 'Europe/Madrid', now),
      usage(/2026-12-01 10:59 Europe\/Madrid is in the past \(it is 2026-12-01 11:00 there\)/),
    );
    assert.throws(() => parseCutover('2025-01-01 00:00', 'UTC', now), usage(/in the past/));
    assert.throws(() => parseCutover('02:00', 'Europe/Madird', now), usage(/--tz: expected an IANA time zone/));
    assert.throws(() => parseCutover('02:00', 'CET+1', now), usage(/--tz/));
    for (const bad of ['', '2am', '24:00', '12:60', '12', '2026-12-01', '2026-13-01 02:00', '2026-02-30 02:00', '2026-12-01 02:00 Europe/Madrid', 'tomorrow'])
      assert.throws(() => parseCutover(bad, 'UTC', now), usage(/--at/), bad);
  });
});

describe('the gates a deploy asks for', () => {
  const never = { approval: 'never' as const, approval_timeout: 4 * 3_600_000 };
  const always = { approval: 'before_switch' as const, approval_timeout: 600_000 };
  const now = at('2026-12-01T10:00:00Z');

  test('deploy.yml and --approve / --no-approve', () => {
    assert.equal(gatePlan(never, {}, now), undefined, 'none: the input carries no gates');
    assert.deepEqual(gatePlan(never, { approve: true }, now), { approval: { timeoutMs: 4 * 3_600_000 } });
    assert.deepEqual(gatePlan(always, {}, now), { approval: { timeoutMs: 600_000 } });
    assert.equal(gatePlan(always, { approve: false }, now), undefined);
  });

  test('--at with --tz, and --tz alone refused', () => {
    assert.deepEqual(gatePlan(always, { at: '02:00', tz: 'UTC' }, now), {
      approval: { timeoutMs: 600_000 },
      cutover: { at: at('2026-12-02T02:00:00Z'), label: '2026-12-02 02:00 UTC' },
    });
    assert.throws(() => gatePlan(never, { tz: 'UTC' }, now), usage(/--tz goes with --at/));
  });
});

const T0 = at('2026-12-01T10:00:00Z');
function waiting(gate: WorkflowStatus['gate'], o: Partial<WorkflowStatus> = {}): WorkflowStatus {
  const steps = [
    { name: 'checkHealth', title: 'health check on the slot address', state: 'done' as const, startedAt: T0 - 1000, endedAt: T0 },
    { name: 'awaitApproval', title: 'wait for approval', state: (gate?.step === 'awaitApproval' ? 'running' : 'done') as 'running' | 'done', startedAt: T0 },
    { name: 'awaitCutover', title: 'wait for the cut-over time', state: (gate?.step === 'awaitCutover' ? 'running' : 'pending') as 'running' | 'pending' },
  ];
  return {
    kind: 'deploy',
    app: 'shop',
    host: '203.0.113.10',
    slot: 'green',
    previousSlot: 'blue',
    state: 'running',
    startedAt: T0 - 60_000,
    currentStep: gate?.step,
    steps,
    gate,
    ...o,
  };
}

describe('alcaide approve', () => {
  test('refused, with why, when nothing waits for it', () => {
    assert.match(
      approveProblem('shop', waiting(undefined, { currentStep: 'checkHealth' }), false)!,
      /the deploy of shop is not waiting for approval \(it is running at "health check on the slot address"\)/,
    );
    assert.match(approveProblem('shop', { ...waiting(undefined), kind: 'pause' }, false)!, /shop runs a pause, not a deploy/);
    const cut = waiting(
      { step: 'awaitCutover', since: T0, until: T0 + 3_600_000, cutover: '2026-12-02 02:00 UTC' },
      { approval: { by: 'ana@laptop', at: T0 } },
    );
    assert.match(
      approveProblem('shop', cut, false)!,
      /approved by ana@laptop, waits for its cut-over time \(2026-12-02 02:00 UTC\): `alcaide approve --now` switches now/,
    );
    assert.equal(approveProblem('shop', cut, true), undefined);
    const appr = waiting({ step: 'awaitApproval', since: T0, until: T0 + 3_600_000 });
    assert.equal(approveProblem('shop', appr, false), undefined);
    assert.match(approveProblem('shop', appr, true)!, /waits for approval first/);
  });
});

describe('status and history', () => {
  test('the wait for approval: since, until, and how to approve', () => {
    const s = waiting({ step: 'awaitApproval', since: T0, until: T0 + 4 * 3_600_000 });
    const line = waitingLine(s)!;
    assert.match(line, /⏸ waiting for approval since 2026-12-01 10:00:00Z, until 2026-12-01 14:00:00Z: green is healthy, blue serves/);
    assert.match(line, /`alcaide approve \[--note TEXT\]` switches traffic, `alcaide abort` undoes the deploy/);
    assert.ok(renderStatus(s).includes(line));
  });

  test('the wait for the cut-over time: until when, and how to switch sooner', () => {
    const line = waitingLine(waiting({ step: 'awaitCutover', since: T0, until: at('2026-12-02T01:00:00Z'), cutover: '2026-12-02 02:00 Europe/Madrid' }))!;
    assert.match(line, /◷ waiting for the cut-over time 2026-12-02 02:00 Europe\/Madrid \(2026-12-02 01:00:00Z\) since 2026-12-01 10:00:00Z/);
    assert.match(line, /`alcaide approve --now` switches now/);
  });

  test('the approver and the note in the history', () => {
    const status = { ...waiting(undefined), state: 'completed' as const, approval: { by: 'ana@laptop', note: 'checked on green', at: T0 } };
    const run = {
      type: 'deployWorkflow',
      workflowId: 'alcaide-shop',
      runId: 'r',
      status: { name: 'COMPLETED' },
      startTime: new Date(T0),
      closeTime: new Date(T0 + 5000),
    };
    const e = historyEntry(run, status);
    assert.equal(e.approvedBy, 'ana@laptop');
    assert.equal(e.approvalNote, 'checked on green');
    assert.match(historyLine(e), /approved by ana@laptop: "checked on green"/);
    assert.equal(historyEntry(run, { ...status, approval: undefined }).approvedBy, undefined);
  });
});
