// `alcaide logs --grep/--since`: the app log filtered on the operator's machine (a pattern
// never becomes part of a remote command). Phoenix's Logger prefixes each entry with the
// time of day ("12:01:02.345 request_id=… [info] GET /"); a custom format may lead with a
// full date and time instead. Lines without either (a stack trace, a multi-line message)
// belong to the entry above them.

export interface LogFilter {
  grep?: RegExp;
  /** keep entries at most this old (ms), measured against `now` on the host's clock */
  sinceMs?: number;
}

/** --since must stay under a day: a time of day alone cannot say which day it was. */
export const MAX_SINCE_MS = 24 * 3_600_000 - 1;

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?/;
const TIME = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?\s/;

export interface HostClock {
  /** the host's current time as its local wall clock, in ms since the epoch of that wall clock */
  wallMs: number;
}

/** A wall-clock timestamp (ms, as if UTC) of the line's leading time, or undefined when it has none. */
export function lineTime(line: string, now: HostClock): number | undefined {
  const full = DATE_TIME.exec(line);
  if (full) {
    const [, y, mo, d, h, mi, s, frac] = full;
    return Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!, Math.floor(+`0.${frac ?? '0'}` * 1000));
  }
  const t = TIME.exec(line);
  if (!t) return undefined;
  const [, h, mi, s, frac] = t;
  const ofDay = ((+h! * 60 + +mi!) * 60 + +s!) * 1000 + Math.floor(+`0.${frac ?? '0'}` * 1000);
  const day = 86_400_000;
  const today = Math.floor(now.wallMs / day) * day;
  // a time of day later than now was yesterday's
  return today + ofDay <= now.wallMs + 1000 ? today + ofDay : today + ofDay - day;
}

/** Filters whole lines; keeps state across calls (an entry's continuation lines follow it). */
export class LogLineFilter {
  private keepEntry = false;
  constructor(
    private readonly f: LogFilter,
    private readonly now: HostClock,
  ) {}

  keep(line: string): boolean {
    if (this.f.sinceMs !== undefined) {
      const at = lineTime(line, this.now);
      if (at !== undefined) this.keepEntry = this.now.wallMs - at <= this.f.sinceMs;
      if (!this.keepEntry) return false;
    }
    return this.f.grep ? this.f.grep.test(line) : true;
  }
}

/** The last `n` lines of `text` that the filter keeps. */
export function filterLog(text: string, f: LogFilter, now: HostClock, n: number): string[] {
  const filter = new LogLineFilter(f, now);
  const kept = text.split('\n').filter((l, i, all) => (i < all.length - 1 || l !== '') && filter.keep(l));
  return n === 0 ? [] : kept.slice(-n);
}

/** Splits a stream into whole lines (the last partial line is held until its newline). */
export class LineSplitter {
  private rest = '';
  push(chunk: string): string[] {
    const parts = (this.rest + chunk).split('\n');
    this.rest = parts.pop()!;
    return parts;
  }
}
