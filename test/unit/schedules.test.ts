// The nightly schedule's input checks and its exact shape (id, calendar, policies, action).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { UserError } from '../../src/errors';
import { checkTimezone, nightlySchedule, nightlyScheduleId, parseAt, parseDurationOption } from '../../src/temporal/schedules';
import { resolveTemporalSettings } from '../../src/temporal/settings';
import { TEST_TARGET } from '../helpers/target';

const usage = (re: RegExp) => (e: unknown) => e instanceof UserError && e.exitCode === 2 && re.test(e.message);

describe('nightly schedule', () => {
  test('--at: HH:MM on a 24 h clock', () => {
    assert.deepEqual(parseAt('03:00'), { hour: 3, minute: 0 });
    assert.deepEqual(parseAt('3:05'), { hour: 3, minute: 5 });
    assert.deepEqual(parseAt('23:59'), { hour: 23, minute: 59 });
    for (const bad of ['24:00', '12:60', '3', '03:00:00', 'noon', '', '-1:00', '03:00; rm -rf /']) {
      assert.throws(() => parseAt(bad), usage(/^--at: expected a time of day as HH:MM \(00:00 to 23:59\), got /), bad);
    }
  });

  test('--timezone: IANA names the runtime knows', () => {
    assert.equal(checkTimezone('UTC'), 'UTC');
    assert.equal(checkTimezone('Europe/Madrid'), 'Europe/Madrid');
    assert.equal(checkTimezone('America/New_York'), 'America/New_York');
    for (const bad of ['Mars/Olympus_Mons', 'CEST+1', '', "Europe/Madrid'"]) {
      assert.throws(() => checkTimezone(bad), usage(/^--timezone: expected an IANA time zone such as "UTC" or "Europe\/Madrid", got /), bad);
    }
  });

  test('--jitter and --catch-up-window: durations with an upper bound', () => {
    assert.equal(parseDurationOption('--jitter', '10m', 3_600_000), 600_000);
    assert.equal(parseDurationOption('--jitter', '1h', 3_600_000), 3_600_000);
    assert.throws(() => parseDurationOption('--jitter', '2h', 3_600_000), usage(/^--jitter: expected a duration such as 10m or 1h \(at most 1h\), got "2h"$/));
    assert.throws(() => parseDurationOption('--jitter', 'soon', 3_600_000), usage(/got "soon"/));
  });

  test('one schedule per app and destination', () => {
    assert.equal(nightlyScheduleId({ app: 'my_app' }), 'alcaide-nightly-my_app');
    assert.equal(nightlyScheduleId({ app: 'my_app', destination: 'staging' }), 'alcaide-nightly-my_app-staging');
  });

  test('spec, policies and action', () => {
    const s = resolveTemporalSettings({ task_queue: 'q1' }, {});
    const o = nightlySchedule(
      { ...TEST_TARGET, destination: 'prod' },
      s,
      { hour: 3, minute: 15, timezone: 'Europe/Madrid', jitterMs: 600_000, catchupWindowMs: 3_600_000 },
      'ops@laptop',
    );
    assert.equal(o.scheduleId, 'alcaide-nightly-my_app-prod');
    assert.deepEqual(o.spec, {
      calendars: [{ hour: 3, minute: 15, comment: "nightly rebuild of my_app's build jail at 03:15" }],
      timezone: 'Europe/Madrid',
      jitter: 600_000,
    });
    assert.deepEqual(o.policies, { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: 3_600_000, pauseOnFailure: false });
    assert.equal(o.action.type, 'startWorkflow');
    assert.equal(o.action.workflowType, 'nightlyRebuildWorkflow');
    assert.equal(o.action.workflowId, 'alcaide-nightly-my_app-prod');
    assert.equal(o.action.taskQueue, 'q1');
    assert.deepEqual(o.action.args, [{ target: { ...TEST_TARGET, destination: 'prod' } }]);
    assert.deepEqual(o.memo, { app: 'my_app', destination: 'prod', createdBy: 'ops@laptop' });
    assert.deepEqual(
      (o.typedSearchAttributes as Array<{ key: { name: string }; value: string }>).map((p) => `${p.key.name}=${p.value}`),
      ['app=my_app', 'destination=prod'],
    );
  });
});
