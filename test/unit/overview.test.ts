// `status --all`'s reading of a host: the script quotes every app name, and the parse takes
// what the host printed — both slots open (the record decides), a deploy log line that is not
// one, an app with nothing running.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appsOverview, parseOverview } from '../../src/freebsd/overview';

test('the script reads each app by its quoted name', () => {
  const s = appsOverview(['hello', 'shop_staging']);
  assert.match(s, /jls -j hello_blue jid/);
  assert.match(s, /then if service -j shop_staging_green shop_staging status >/, 'a command, not a quoted word');
  assert.match(s, /tail -n 1 \/var\/db\/alcaide\/shop_staging\/deploys\.log/);
  assert.equal(s.split('\n').length, 2, 'a line per app');
});

test('the parse: the live slot, each slot jail, the last deploy', () => {
  const out = [
    '--- alcaide app hello',
    'blue',
    'green',
    'up blue',
    'down green',
    'recorded green',
    'last {"at":"2026-11-30T00:12:03.123Z","slot":"green","version":"0123456789abcdef0123456789abcdef01234567","previousSlot":"blue"}',
    '--- alcaide app other',
    'last not a record',
    '',
  ].join('\n');
  assert.deepEqual(parseOverview(out), [
    {
      app: 'hello',
      live: 'green',
      slots: { blue: 'up', green: 'down' },
      last: { at: '2026-11-30T00:12:03.123Z', slot: 'green', version: '0123456789abcdef0123456789abcdef01234567' },
    },
    { app: 'other', live: undefined, slots: { blue: 'no jail', green: 'no jail' } },
  ]);
});
