import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { assertTimeZone, instantFromWallTime, isoWeek, wallTime } from '../../src/ops/calendar.js';

const wall = (year: number, month: number, day: number, hour: number, minute = 0) => ({
  year,
  month,
  day,
  hour,
  minute,
  second: 0,
  millisecond: 0,
});

describe('isoWeek', () => {
  it.each([
    [2020, 12, 31, 2020, 53],
    [2021, 1, 3, 2020, 53],
    [2021, 1, 4, 2021, 1],
    [2019, 12, 30, 2020, 1],
    [2024, 12, 30, 2025, 1],
    [2026, 12, 31, 2026, 53],
    [2024, 2, 29, 2024, 9],
  ])('%i-%i-%i is %i-W%i', (y, m, d, weekYear, week) => {
    expect(isoWeek(y, m, d)).toEqual({ year: weekYear, week });
  });
});

describe('wall time in a zone', () => {
  it('reads an instant on the zone clock', () => {
    expect(wallTime(new Date('2025-06-30T23:30:00Z'), 'Europe/London')).toMatchObject(wall(2025, 7, 1, 0, 30));
    expect(wallTime(new Date('2025-06-30T23:30:00Z'), 'UTC')).toMatchObject(wall(2025, 6, 30, 23, 30));
  });

  it('resolves a repeated time (clocks going back) to the earlier instant', () => {
    expect(instantFromWallTime(wall(2025, 10, 26, 1, 30), 'Europe/London').toISOString()).toBe(
      '2025-10-26T00:30:00.000Z',
    );
    expect(instantFromWallTime(wall(2025, 11, 2, 1, 30), 'America/New_York').toISOString()).toBe(
      '2025-11-02T05:30:00.000Z',
    );
  });

  it('moves a skipped time (clocks going forward) forward by the gap', () => {
    expect(instantFromWallTime(wall(2025, 3, 30, 1, 30), 'Europe/London').toISOString()).toBe(
      '2025-03-30T01:30:00.000Z',
    );
    expect(instantFromWallTime(wall(2025, 3, 9, 2, 30), 'America/New_York').toISOString()).toBe(
      '2025-03-09T07:30:00.000Z',
    );
  });

  it('rejects an unknown zone as bad usage', () => {
    expect(() => assertTimeZone('Mars/Olympus')).toThrow(UsageError);
    expect(() => assertTimeZone('Europe/London')).not.toThrow();
  });
});
