/**
 * Calendar durations as restic writes them for `--keep-within` (`1y2m`, `7d`, `36h`), plus weeks (`2w`),
 * used for `within` and for job cadences (`every: 7d`). Years, months and days move the calendar (a month
 * back from 31 March is 3 March, as Go's AddDate does); hours are elapsed time.
 */
import { UsageError } from '../errors.js';
import { instantFromWallTime, wallTime, wallTimeAsUtcMs } from './calendar.js';

export interface Duration {
  years: number;
  months: number;
  days: number;
  hours: number;
}

const PART_RE = /(\d+)([ymwdh])/gy;
const UNIT_ORDER = 'ymwdh';

function invalid(text: string, why: string): UsageError {
  return new UsageError(`invalid duration "${text}": ${why}; write numbers with units y, m, w, d, h, e.g. 7d, 2w, 1y2m, 36h`);
}

/** Parses `1y2m`, `2w`, `7d`, `36h`, `1y2m3w4d5h`; units in that order, each at most once. Weeks become days. */
export function parseDuration(text: string): Duration {
  const trimmed = text.trim();
  if (trimmed === '') throw invalid(text, 'it is empty');
  const duration: Duration = { years: 0, months: 0, days: 0, hours: 0 };
  let lastUnit = -1;
  PART_RE.lastIndex = 0;
  let consumed = 0;
  for (let m = PART_RE.exec(trimmed); m; m = PART_RE.exec(trimmed)) {
    const value = Number(m[1]);
    const unit = m[2]!;
    const order = UNIT_ORDER.indexOf(unit);
    if (order <= lastUnit) throw invalid(text, `unit "${unit}" is repeated or out of order`);
    if (!Number.isSafeInteger(value)) throw invalid(text, 'a number is too large');
    lastUnit = order;
    consumed = PART_RE.lastIndex;
    if (unit === 'y') duration.years = value;
    else if (unit === 'm') duration.months = value;
    else if (unit === 'w') duration.days += value * 7;
    else if (unit === 'd') duration.days += value;
    else duration.hours = value;
  }
  if (consumed !== trimmed.length) throw invalid(text, `cannot read "${trimmed.slice(consumed)}"`);
  return duration;
}

export function isZeroDuration(d: Duration): boolean {
  return d.years === 0 && d.months === 0 && d.days === 0 && d.hours === 0;
}

/** Canonical text of a duration (`1y2m10d`), weeks shown as days. */
export function formatDuration(d: Duration): string {
  const text = `${d.years ? `${d.years}y` : ''}${d.months ? `${d.months}m` : ''}${d.days ? `${d.days}d` : ''}${d.hours ? `${d.hours}h` : ''}`;
  return text === '' ? '0h' : text;
}

function shift(from: Date, d: Duration, sign: 1 | -1, timeZone: string): Date {
  const wall = wallTime(from, timeZone);
  // Calendar part first, on the wall clock of the zone, then hours as elapsed time: Go's AddDate then Add.
  const moved = new Date(
    wallTimeAsUtcMs({
      ...wall,
      year: wall.year + sign * d.years,
      month: wall.month + sign * d.months,
      day: wall.day + sign * d.days,
    }),
  );
  const movedWall = {
    year: moved.getUTCFullYear(),
    month: moved.getUTCMonth() + 1,
    day: moved.getUTCDate(),
    hour: wall.hour,
    minute: wall.minute,
    second: wall.second,
    millisecond: wall.millisecond,
  };
  const calendarMoved = isCalendarZero(d) ? from : instantFromWallTime(movedWall, timeZone);
  return new Date(calendarMoved.getTime() + sign * d.hours * 3_600_000);
}

function isCalendarZero(d: Duration): boolean {
  return d.years === 0 && d.months === 0 && d.days === 0;
}

/** `from` minus the duration, calendar parts on the wall clock of `timeZone` (default UTC). */
export function subtractDuration(from: Date, d: Duration, timeZone = 'UTC'): Date {
  return shift(from, d, -1, timeZone);
}

/** `from` plus the duration, calendar parts on the wall clock of `timeZone` (default UTC). */
export function addDuration(from: Date, d: Duration, timeZone = 'UTC'): Date {
  return shift(from, d, 1, timeZone);
}
