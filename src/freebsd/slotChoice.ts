// Which slot is live and which one a deploy goes to, from what the host reports (liveSlots'
// output, the recorded state): pure, so the activities and the workflow tests share it.
import { otherSlot, SLOTS, type Slot } from './layout';

/** The slots `liveSlots` printed (gate open, jail running), one a line. */
export const parseLiveSlots = (out: string): Slot[] => out.split('\n').filter((s): s is Slot => (SLOTS as readonly string[]).includes(s));

/**
 * The live slot. Both are open only if a switch was interrupted: then the recorded state
 * (the active file the switch writes last) says which one finished, blue when it names neither.
 */
export function activeOf(live: Slot[], recorded?: string): Slot | undefined {
  if (live.length < 2) return live[0];
  const r = recorded?.trim();
  return live.find((s) => s === r) ?? 'blue';
}

/** The next deploy goes to the slot that is not live; blue on a host with none. */
export function slotChoice(active?: Slot): { changed: false; next: Slot; active?: Slot; note: string } {
  const next: Slot = active ? otherSlot(active) : 'blue';
  return { changed: false, next, active, note: active ? `${active} is live, deploying to ${next}` : `no live slot, deploying to ${next}` };
}
