import { describe, expect, it } from 'vitest';
import { DrivesnapError, UsageError } from '../../src/errors.js';
import { cronProblem, isDue, nextRun } from '../../src/ops/cadence.js';

describe('isDue', () => {
  it('is due when the task never ran', () => {
    expect(isDue(undefined, '7d', new Date('2025-01-01T00:00:00Z'))).toBe(true);
  });

  it('is due exactly when the interval has passed, not a millisecond before', () => {
    const last = '2025-01-06T03:00:00Z';
    expect(isDue(last, '7d', new Date('2025-01-13T02:59:59.999Z'))).toBe(false);
    expect(isDue(last, '7d', new Date('2025-01-13T03:00:00Z'))).toBe(true);
    expect(isDue(last, '36h', new Date('2025-01-07T14:59:00Z'))).toBe(false);
    expect(isDue(last, '36h', new Date('2025-01-07T15:00:00Z'))).toBe(true);
  });

  it('counts months on the calendar: a month after 31 January is 3 March', () => {
    expect(isDue('2025-01-31T00:00:00Z', '1m', new Date('2025-03-02T23:59:59Z'))).toBe(false);
    expect(isDue('2025-01-31T00:00:00Z', '1m', new Date('2025-03-03T00:00:00Z'))).toBe(true);
  });

  it('treats an unreadable last-run record as due', () => {
    expect(isDue('yesterday', '7d', new Date('2025-01-01T00:00:00Z'))).toBe(true);
  });

  it('rejects a cadence that is not a duration', () => {
    expect(() => isDue(undefined, 'weekly', new Date())).toThrow(UsageError);
  });
});

describe('nextRun', () => {
  it('gives the first run strictly after the given time, in UTC by default', () => {
    expect(nextRun('0 3 * * *', new Date('2025-01-01T02:59:00Z')).toISOString()).toBe('2025-01-01T03:00:00.000Z');
    expect(nextRun('0 3 * * *', new Date('2025-01-01T03:00:00Z')).toISOString()).toBe('2025-01-02T03:00:00.000Z');
    expect(nextRun('*/15 * * * *', new Date('2025-01-01T10:07:30Z')).toISOString()).toBe('2025-01-01T10:15:00.000Z');
  });

  it('reads the expression in the given zone, across London spring forward', () => {
    // 03:00 on 30 March 2025 is BST (UTC+1), the night before it was GMT.
    expect(nextRun('0 3 * * *', new Date('2025-03-29T12:00:00Z'), 'Europe/London').toISOString()).toBe(
      '2025-03-30T02:00:00.000Z',
    );
    expect(nextRun('0 3 * * *', new Date('2025-03-28T12:00:00Z'), 'Europe/London').toISOString()).toBe(
      '2025-03-29T03:00:00.000Z',
    );
  });

  it('rejects an invalid expression as bad usage and a never-firing one with its own code', () => {
    expect(() => nextRun('61 * * * *', new Date())).toThrow(UsageError);
    expect(() => nextRun('0 0 30 2 *', new Date())).toThrow(expect.objectContaining({ code: 'SCHEDULE_NEVER' }));
    expect(() => nextRun('0 0 30 2 *', new Date())).toThrow(DrivesnapError);
  });

  it('cronProblem says nothing for a good expression and why for a bad one', () => {
    expect(cronProblem('0 3 * * 1-5')).toBeUndefined();
    expect(cronProblem('0 3 * * * * *')).toMatch(/invalid schedule "0 3 \* \* \* \* \*"/);
  });
});
