// `deploy --at TIME [--tz ZONE]`: the cut-over time as an instant, resolved on the operator's
// machine before anything starts (docs/approvals.md). TIME is `HH:MM` (its next occurrence) or
// `YYYY-MM-DD HH:MM` (a `T` between works too), a wall-clock time in ZONE (an IANA name, default
// this machine's zone). A time in the past, one the zone skips (the clocks go forward), an
// unknown zone or anything else: exit 2. A time the zone has twice (the clocks go back): the first.
import { UserError } from '../errors';
import type { GatePlan } from '../model/gates';

export type Cutover = NonNullable<GatePlan['cutover']>;

const DAY = 86_400_000;

export const localZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

function formatter(zone: string): Intl.DateTimeFormat {
  try {
    return new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
  } catch {
    throw new UserError(`--tz: expected an IANA time zone such as "UTC" or "Europe/Madrid", got ${JSON.stringify(zone)}`, 2);
  }
}

/** The wall-clock time in the zone at `instant`, as ms of a UTC date with the same fields. */
function wallOf(f: Intl.DateTimeFormat, instant: number): number {
  const p = Object.fromEntries(f.formatToParts(new Date(instant)).map((x) => [x.type, Number(x.value)]));
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) + (instant % 1000);
}

/** The instants whose wall-clock time in the zone is `wall`, earliest first: none in a gap, two in an overlap. */
function instantsOf(f: Intl.DateTimeFormat, wall: number): number[] {
  // a zone's offset changes at most once in a day either side (DST), so these two offsets cover it
  const offsets = [wall - DAY, wall + DAY].map((t) => wallOf(f, t) - t);
  return [...new Set(offsets.map((o) => wall - o))].filter((t) => wallOf(f, t) === wall).sort((a, b) => a - b);
}

const pad = (n: number) => String(n).padStart(2, '0');
const dayOf = (wall: number) => new Date(wall).toISOString().slice(0, 10);

/** `--at TEXT --tz ZONE` as the instant the switch waits for, seen from `now` (ms since epoch). */
export function parseCutover(text: string, zone: string = localZone(), now: number = Date.now()): Cutover {
  const f = formatter(zone);
  const m = /^(?:(\d{4})-(\d{2})-(\d{2})[ T])?([01]?\d|2[0-3]):([0-5]\d)$/.exec(text.trim());
  if (!m) throw new UserError(`--at: expected HH:MM or "YYYY-MM-DD HH:MM" (24 h, in --tz or this machine's zone), got ${JSON.stringify(text)}`, 2);
  const [hour, minute] = [Number(m[4]), Number(m[5])];
  let wall: number;
  if (m[1]) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    wall = Date.UTC(y, mo - 1, d, hour, minute);
    const back = new Date(wall);
    if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d)
      throw new UserError(`--at: ${m[1]}-${m[2]}-${m[3]} is no date`, 2);
  } else {
    // the next occurrence: today in the zone if it is still ahead, else tomorrow
    const today = wallOf(f, now);
    wall = today - (today % DAY) + hour * 3_600_000 + minute * 60_000;
    const first = instantsOf(f, wall)[0];
    if (first === undefined ? wall <= today : first <= now) wall += DAY;
  }
  const label = `${dayOf(wall)} ${pad(hour)}:${pad(minute)} ${zone}`;
  const at = instantsOf(f, wall)[0];
  if (at === undefined) throw new UserError(`--at: ${label} does not exist (the clocks go forward then): pick another time`, 2);
  if (at <= now)
    throw new UserError(`--at: ${label} is in the past (it is ${dayOf(wallOf(f, now))} ${new Date(wallOf(f, now)).toISOString().slice(11, 16)} there)`, 2);
  return { at, label };
}
