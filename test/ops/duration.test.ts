import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import {
  addDuration,
  formatDuration,
  isZeroDuration,
  parseDuration,
  subtractDuration,
} from '../../src/ops/duration.js';

describe('parseDuration', () => {
  it('reads each unit and combinations, weeks as days', () => {
    expect(parseDuration('7d')).toEqual({ years: 0, months: 0, days: 7, hours: 0 });
    expect(parseDuration('2w')).toEqual({ years: 0, months: 0, days: 14, hours: 0 });
    expect(parseDuration('1y2m')).toEqual({ years: 1, months: 2, days: 0, hours: 0 });
    expect(parseDuration('36h')).toEqual({ years: 0, months: 0, days: 0, hours: 36 });
    expect(parseDuration(' 1y2m1w3d5h ')).toEqual({ years: 1, months: 2, days: 10, hours: 5 });
  });

  it.each(['', '7', 'd', '7x', '1d2y', '1d1d', '-1d', '1.5d', '7d '.repeat(2)])('rejects %j as a UsageError', (text) => {
    expect(() => parseDuration(text)).toThrow(UsageError);
  });

  it('names the text and the accepted units in the error', () => {
    expect(() => parseDuration('7x')).toThrow(/invalid duration "7x": cannot read "7x".*units y, m, w, d, h/);
  });

  it('knows a zero duration and writes durations back canonically', () => {
    expect(isZeroDuration(parseDuration('0d'))).toBe(true);
    expect(isZeroDuration(parseDuration('1h'))).toBe(false);
    expect(formatDuration(parseDuration('1y2w'))).toBe('1y14d');
    expect(formatDuration(parseDuration('0y'))).toBe('0h');
  });
});

describe('subtractDuration / addDuration', () => {
  it('rolls over month ends as Go AddDate does (31 March minus 1 month is 2 March in a leap year)', () => {
    expect(subtractDuration(new Date('2024-03-31T10:00:00Z'), parseDuration('1m')).toISOString()).toBe(
      '2024-03-02T10:00:00.000Z',
    );
    expect(addDuration(new Date('2025-01-31T00:00:00Z'), parseDuration('1m')).toISOString()).toBe(
      '2025-03-03T00:00:00.000Z',
    );
  });

  it('takes a year from a leap day to 1 March', () => {
    expect(subtractDuration(new Date('2024-02-29T12:00:00Z'), parseDuration('1y')).toISOString()).toBe(
      '2023-03-01T12:00:00.000Z',
    );
  });

  it('moves days on the wall clock of the zone but hours as elapsed time', () => {
    const sundayNoonNewYork = new Date('2025-03-09T16:00:00Z'); // 12:00 EDT, the day clocks went forward
    // One calendar day back is 12:00 EST, only 23 hours earlier.
    expect(subtractDuration(sundayNoonNewYork, parseDuration('1d'), 'America/New_York').toISOString()).toBe(
      '2025-03-08T17:00:00.000Z',
    );
    expect(subtractDuration(sundayNoonNewYork, parseDuration('24h'), 'America/New_York').toISOString()).toBe(
      '2025-03-08T16:00:00.000Z',
    );
    expect(subtractDuration(sundayNoonNewYork, parseDuration('1d')).toISOString()).toBe('2025-03-08T16:00:00.000Z');
  });
});
