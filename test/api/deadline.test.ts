import { describe, expect, it } from 'vitest';
import { DEFAULT_MINIMUM_RATE, exchangeDeadlineMs, resolveMinimumRate } from '../../src/api/deadline.js';

describe('exchange deadline', () => {
  it('is the base allowance plus the bytes at the minimum rate', () => {
    expect(DEFAULT_MINIMUM_RATE).toEqual({ bytesPerSecond: 64 * 1024, baseMs: 10_000 });
    expect(exchangeDeadlineMs(DEFAULT_MINIMUM_RATE, 4 * 1024 * 1024)).toBe(10_000 + 64_000);
    expect(exchangeDeadlineMs(DEFAULT_MINIMUM_RATE, 0)).toBe(10_000);
    expect(exchangeDeadlineMs({ bytesPerSecond: 1000, baseMs: 0 }, 1)).toBe(1);
  });
  it('takes overrides and refuses a rate that is not > 0 or a negative base', () => {
    expect(resolveMinimumRate({ baseMs: 5 })).toEqual({ bytesPerSecond: 64 * 1024, baseMs: 5 });
    expect(() => resolveMinimumRate({ bytesPerSecond: 0 })).toThrow(RangeError);
    expect(() => resolveMinimumRate({ baseMs: -1 })).toThrow(RangeError);
  });
});
