// The simulated host's logs are appended by processes a test may SIGKILL mid-write: a torn
// record costs that record only, never the reading of the whole log.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonLines } from '../simhost/index';

test('a torn record is dropped and the record appended to it kept; whole lines as they are', () => {
  const whole = [
    { t: 1, argv: ['jls', '-j', 'my_app_blue'], parent: 'sh -c x' },
    { t: 3, argv: ['sysrc', '-n', 'caddy_enable'], parent: 'sh -c { f; }' },
  ];
  // killed while writing `jail -c …` (its argv holds braces), with the next record after its prefix
  const torn = '{"t": 2, "argv": ["jail", "-c", "name=my_app_green", "exec.start=sh -c \'f() {';
  const text = `${JSON.stringify(whole[0])}\n${torn}${JSON.stringify(whole[1])}\n{"t": 4, "argv": ["serv`;
  assert.deepEqual(jsonLines(text), whole);
  assert.deepEqual(jsonLines(''), []);
});
