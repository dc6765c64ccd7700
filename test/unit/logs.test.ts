import assert from 'node:assert/strict';
import { test } from 'node:test';
import { filterLog, LineSplitter, lineTime } from '../../src/cli/logFilter';

// 2026-11-29 12:00:00 on the host's wall clock
const NOW = { wallMs: Date.UTC(2026, 10, 29, 12, 0, 0) };
// Phoenix's Logger format: "$time $metadata[$level] $message\n"
const LOG = [
  '09:00:00.001 request_id=F1 [info] GET /',
  '09:00:00.002 request_id=F1 [info] Sent 200 in 512µs',
  '11:55:00.000 request_id=F2 [info] GET /orders',
  '11:55:00.010 [error] GenServer crashed',
  '** (RuntimeError) boom',
  '    (shop 0.1.0) lib/shop.ex:1: Shop.f/0',
  '11:59:30.500 request_id=F3 [info] Sent 200 in 1ms',
  '',
].join('\n');

test('a time of day is today, or yesterday when it is later than now', () => {
  assert.equal(lineTime('11:59:30.500 x', NOW), Date.UTC(2026, 10, 29, 11, 59, 30, 500));
  assert.equal(lineTime('23:10:00.000 x', NOW), Date.UTC(2026, 10, 28, 23, 10, 0));
  assert.equal(lineTime('2026-11-28 08:00:01.250 [info] x', NOW), Date.UTC(2026, 10, 28, 8, 0, 1, 250));
  assert.equal(lineTime('** (RuntimeError) boom', NOW), undefined);
});

test('--since keeps recent entries with their continuation lines', () => {
  assert.deepEqual(filterLog(LOG, { sinceMs: 10 * 60_000 }, NOW, 100), LOG.split('\n').slice(2, 7));
  assert.deepEqual(filterLog(LOG, { sinceMs: 60_000 }, NOW, 100), [LOG.split('\n')[6]]);
});

test('--grep and -n: the last N lines that match', () => {
  assert.deepEqual(filterLog(LOG, { grep: /Sent 200/ }, NOW, 100), [LOG.split('\n')[1], LOG.split('\n')[6]]);
  assert.deepEqual(filterLog(LOG, { grep: /Sent 200/ }, NOW, 1), [LOG.split('\n')[6]]);
  assert.deepEqual(filterLog(LOG, { grep: /boom/, sinceMs: 600_000 }, NOW, 100), ['** (RuntimeError) boom']);
  assert.deepEqual(filterLog(LOG, { grep: /GET/ }, NOW, 0), []);
});

test('a stream is split into whole lines', () => {
  const s = new LineSplitter();
  assert.deepEqual(s.push('ab'), []);
  assert.deepEqual(s.push('c\nde\nf'), ['abc', 'de']);
  assert.deepEqual(s.push('\n'), ['f']);
});
