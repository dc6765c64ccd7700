// `alcaide maintenance on`: its request is read and checked on the operator's machine, before
// anything remote (bad input: exit 2); the host's state line parses back.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { APP_MAINTENANCE_PAGE, maintenanceOnRequest } from '../../src/cli/commands/maintenance';
import { UserError } from '../../src/errors';
import { maintenanceOn, parseMaintenanceState } from '../../src/freebsd/maintenance';
import { maintenancePage } from '../../src/freebsd/layout';

const root = mkdtempSync(path.join(os.tmpdir(), 'alcaide-maint-'));
after(() => rmSync(root, { recursive: true, force: true }));
const NOW = new Date('2026-11-30T04:00:00Z');
const exit2 = (re: RegExp) => (e: unknown) => e instanceof UserError && e.exitCode === 2 && re.test(e.message);

describe('maintenance on: the request', () => {
  test('without a page of its own: the built-in page with the message escaped, Retry-After in seconds', () => {
    const r = maintenanceOnRequest(root, { message: 'Back at <b>14:00</b>', retryAfter: '30m' }, 'ops@laptop', NOW);
    assert.equal(r.on, true);
    assert.match(r.page!, /Back at &#60;b&#62;14:00&#60;\/b&#62;/);
    assert.doesNotMatch(r.page!, /<b>/);
    assert.deepEqual(r.info, { since: '2026-11-30T04:00:00.000Z', by: 'ops@laptop', message: 'Back at <b>14:00</b>', retryAfterSeconds: 1800, ownPage: false });
    assert.equal(maintenanceOnRequest(root, {}, 'x', NOW).info?.retryAfterSeconds, 300, 'default 5m');
  });

  test("the app's own priv/static/maintenance.html is served as it is; --message does not go with it", () => {
    const own = '<html><body>Our own page — ünïcode</body></html>\n';
    mkdirSync(path.join(root, 'priv/static'), { recursive: true });
    writeFileSync(path.join(root, APP_MAINTENANCE_PAGE), own);
    try {
      const r = maintenanceOnRequest(root, {}, 'ops', NOW);
      assert.equal(r.page, own);
      assert.equal(r.info?.ownPage, true);
      assert.throws(() => maintenanceOnRequest(root, { message: 'x' }, 'ops', NOW), exit2(/--message goes with the built-in page/));
    } finally {
      rmSync(path.join(root, 'priv'), { recursive: true, force: true });
    }
  });

  test('bad input is exit 2: a duration that is none, a missing or too large page', () => {
    assert.throws(() => maintenanceOnRequest(root, { retryAfter: 'soon' }, 'ops', NOW), exit2(/--retry-after soon: expected a duration/));
    assert.throws(() => maintenanceOnRequest(root, { retryAfter: '0s' }, 'ops', NOW), exit2(/at least 1s/));
    assert.throws(() => maintenanceOnRequest(root, { page: 'nope.html' }, 'ops', NOW), exit2(/--page nope\.html: no such file/));
    writeFileSync(path.join(root, 'big.html'), Buffer.alloc(600 * 1024, 'a'));
    assert.throws(() => maintenanceOnRequest(root, { page: 'big.html' }, 'ops', NOW), exit2(/larger than 512 KiB/));
  });
});

describe('maintenance on the host', () => {
  test('the page is written last, from stdin; the state line parses back', () => {
    const info = { since: NOW.toISOString(), by: "o'brien", retryAfterSeconds: 60, ownPage: false };
    const cmd = maintenanceOn('my_app', info);
    const page = cmd.indexOf(maintenancePage('my_app'));
    assert.ok(page > cmd.indexOf('maintenance.retry-after') && page > cmd.indexOf('maintenance.json'), 'the page goes last');
    assert.deepEqual(parseMaintenanceState(`${JSON.stringify(info)}\n`), info);
    assert.equal(parseMaintenanceState('\n'), undefined, 'off');
  });
});
