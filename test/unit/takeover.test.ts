import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deadLocalWorker } from '../../src/temporal/takeover';

test('only an alcaide worker of this host whose process is gone is taken over', () => {
  const dead = () => false;
  const alive = () => true;
  assert.equal(deadLocalWorker('alcaide-worker:4242@box', 'box', dead), true);
  assert.equal(deadLocalWorker('alcaide-embedded:4242@box', 'box', dead), true);
  assert.equal(deadLocalWorker('alcaide-worker:4242@box', 'box', alive), false, 'a live process');
  assert.equal(deadLocalWorker('alcaide-worker:4242@other', 'box', dead), false, 'another machine');
  assert.equal(deadLocalWorker(`alcaide-worker:${process.pid}@box`, 'box', dead), false, 'this process');
  assert.equal(deadLocalWorker('12345@box', 'box', dead), false, 'not an alcaide worker');
  assert.equal(deadLocalWorker(undefined, 'box', dead), false);
});
