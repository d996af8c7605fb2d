/**
 * Wall-clock time in an IANA time zone, without a date library: retention buckets and `within` are
 * calendar rules ("the same day in London"), not fixed counts of milliseconds.
 */
import { UsageError } from '../errors.js';

export interface WallTime {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number; // 0-23
  minute: number;
  second: number;
  millisecond: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    try {
      formatter = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
        era: 'short',
      });
    } catch {
      throw new UsageError(`unknown time zone "${timeZone}": use an IANA name such as UTC or Europe/London`);
    }
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Throws a UsageError unless the zone is one Intl knows. */
export function assertTimeZone(timeZone: string): void {
  formatterFor(timeZone);
}

/** The wall-clock reading of an instant in a zone. */
export function wallTime(instant: Date, timeZone: string): WallTime {
  const fields: Record<string, string> = {};
  for (const part of formatterFor(timeZone).formatToParts(instant)) fields[part.type] = part.value;
  const yearOfEra = Number(fields.year);
  return {
    // Intl counts BC years from 1 upwards; astronomical numbering keeps arithmetic simple.
    year: fields.era === 'BC' ? 1 - yearOfEra : yearOfEra,
    month: Number(fields.month),
    day: Number(fields.day),
    hour: Number(fields.hour),
    minute: Number(fields.minute),
    second: Number(fields.second),
    millisecond: instant.getUTCMilliseconds(),
  };
}

/**
 * Milliseconds for a wall time read as if it were UTC. Out-of-range fields roll over (month 13 is January of
 * the next year, day 0 the last day of the month before), as Go's AddDate does, which restic relies on.
 */
export function wallTimeAsUtcMs(w: WallTime): number {
  const d = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.
  d.setUTCFullYear(w.year, w.month - 1, w.day);
  d.setUTCHours(w.hour, w.minute, w.second, w.millisecond);
  return d.getTime();
}

function sameWallTime(a: WallTime, b: WallTime): boolean {
  return (
    a.year === b.year &&
    a.month === b.month &&
    a.day === b.day &&
    a.hour === b.hour &&
    a.minute === b.minute &&
    a.second === b.second
  );
}

function offsetMsAt(instantMs: number, timeZone: string): number {
  const instant = new Date(instantMs);
  return wallTimeAsUtcMs(wallTime(instant, timeZone)) - instantMs;
}

const DAY_MS = 86_400_000;

/**
 * The instant a wall time names in a zone. A time that occurs twice (clocks going back) resolves to the
 * earlier instant; a time skipped by clocks going forward moves forward by the gap. These are the rules of
 * Temporal's 'compatible' disambiguation, so results do not depend on which side of a transition we start.
 */
export function instantFromWallTime(w: WallTime, timeZone: string): Date {
  const asUtc = wallTimeAsUtcMs(w);
  // Zones change offset at most once a day, so the offsets a day either side bracket any transition.
  const before = offsetMsAt(asUtc - DAY_MS, timeZone);
  const after = offsetMsAt(asUtc + DAY_MS, timeZone);
  const candidates = [asUtc - before, asUtc - after]
    .filter((ms) => sameWallTime(wallTime(new Date(ms), timeZone), w))
    .sort((x, y) => x - y);
  return new Date(candidates[0] ?? asUtc - before);
}

/** ISO-8601 week: weeks start on Monday and week 1 holds the year's first Thursday. */
export function isoWeek(year: number, month: number, day: number): { year: number; week: number } {
  const date = new Date(wallTimeAsUtcMs({ year, month, day, hour: 0, minute: 0, second: 0, millisecond: 0 }));
  const weekday = date.getUTCDay() === 0 ? 7 : date.getUTCDay();
  // The Thursday of the same week decides which year the week belongs to.
  const thursday = new Date(date.getTime() + (4 - weekday) * DAY_MS);
  const weekYear = thursday.getUTCFullYear();
  const jan1 = wallTimeAsUtcMs({ year: weekYear, month: 1, day: 1, hour: 0, minute: 0, second: 0, millisecond: 0 });
  const dayOfYear = Math.round((thursday.getTime() - jan1) / DAY_MS);
  return { year: weekYear, week: Math.floor(dayOfYear / 7) + 1 };
}
