// Which slot is live and where the next deploy goes: liveSlots run by the real /bin/sh on real
// gate files (jls(8) stubbed to answer for the running jails), its output read by the pure choice.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { gateDir } from '../../src/freebsd/layout';
import { liveSlots } from '../../src/freebsd/caddy';
import type { Slot } from '../../src/freebsd/layout';
import { activeOf, parseLiveSlots, slotChoice } from '../../src/freebsd/slotChoice';

const dir = mkdtempSync(path.join(os.tmpdir(), 'alcaide-slots-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** What liveSlots prints with these gates open and these jails running (the gate directory moved under `dir`). */
function hostSays(open: Slot[], running: string[]): string {
  const gates = path.join(dir, 'gates');
  rmSync(gates, { recursive: true, force: true });
  mkdirSync(gates);
  for (const s of open) writeFileSync(path.join(gates, `${s}.open`), '');
  const jls = `jls() { [ "$1" = -j ] && [ "$3" = jid ] || return 2; case " ${running.join(' ')} " in *" $2 "*) return 0;; esac; return 1; }; `;
  const cmd = liveSlots('shop', { blue: 'shop_blue', green: 'shop_green' }).replaceAll(gateDir('shop'), gates);
  const r = spawnSync('/bin/sh', ['-c', `${jls}${cmd}`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

describe('the slot a deploy goes to', () => {
  test('no slot live (no gate open, or a gate open on a stopped jail): blue', () => {
    for (const [open, running] of [
      [[], []],
      [['green'], []],
      [[], ['shop_blue', 'shop_green']],
    ] as [Slot[], string[]][]) {
      const out = hostSays(open, running);
      assert.equal(out, '');
      assert.deepEqual(slotChoice(activeOf(parseLiveSlots(out))), { changed: false, next: 'blue', active: undefined, note: 'no live slot, deploying to blue' });
    }
  });

  test('one slot live: the other one', () => {
    const blue = hostSays(['blue'], ['shop_blue', 'shop_green']);
    assert.equal(blue, 'blue\n');
    assert.deepEqual(slotChoice(activeOf(parseLiveSlots(blue))), { changed: false, next: 'green', active: 'blue', note: 'blue is live, deploying to green' });
    const green = hostSays(['green'], ['shop_green']);
    assert.equal(green, 'green\n');
    assert.deepEqual(slotChoice(activeOf(parseLiveSlots(green))), { changed: false, next: 'blue', active: 'green', note: 'green is live, deploying to blue' });
  });

  test('both open (a switch cut short): the recorded active slot, blue when the record names neither', () => {
    const both = hostSays(['blue', 'green'], ['shop_blue', 'shop_green']);
    assert.equal(both, 'blue\ngreen\n');
    assert.deepEqual(parseLiveSlots(both), ['blue', 'green']);
    // the active file as the switch writes it: the slot and a newline
    assert.equal(activeOf(parseLiveSlots(both), 'green\n'), 'green');
    assert.deepEqual(slotChoice(activeOf(parseLiveSlots(both), 'green\n')), {
      changed: false,
      next: 'blue',
      active: 'green',
      note: 'green is live, deploying to blue',
    });
    assert.equal(activeOf(parseLiveSlots(both), 'blue\n'), 'blue');
    assert.equal(activeOf(parseLiveSlots(both), ''), 'blue', 'no record');
    assert.equal(activeOf(parseLiveSlots(both), 'purple\n'), 'blue', 'a record naming neither');
  });

  test('the record does not count while one slot alone is live', () => {
    assert.equal(activeOf(['blue'], 'green\n'), 'blue');
    assert.equal(activeOf([], 'green\n'), undefined);
  });
});
