import { describe, expect, it } from 'vitest';
import { ApiConnectionError, ApiError, ERROR_WORDS, STATUS_OF_WORD } from '../../src/api/errors.js';
import {
  DEFAULT_RETRY_POLICY,
  backoffCeilingMs,
  backoffDelayMs,
  failureKind,
  isRetryable,
  resolveRetryPolicy,
} from '../../src/api/retry.js';
import { DrivesnapError } from '../../src/errors.js';

const policy = { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 5000 };

describe('backoff', () => {
  it('doubles the ceiling with each retry, from the base', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffCeilingMs(policy, n))).toEqual([100, 200, 400, 800, 1600]);
  });
  it('never exceeds the cap, even for absurd retry numbers', () => {
    expect(backoffCeilingMs(policy, 7)).toBe(5000);
    expect(backoffCeilingMs(policy, 5000)).toBe(5000);
  });
  it('draws the delay from [0, ceiling): full jitter', () => {
    expect(backoffDelayMs(policy, 3, () => 0)).toBe(0);
    expect(backoffDelayMs(policy, 3, () => 0.5)).toBe(200);
    expect(backoffDelayMs(policy, 3, () => 0.999999)).toBe(399);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelayMs(policy, 4);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(800);
    }
  });
  it('has defaults of 8 attempts, 100 ms base, 10 s cap, and validates overrides', () => {
    expect(resolveRetryPolicy(undefined)).toEqual({ maxAttempts: 8, baseDelayMs: 100, maxDelayMs: 10_000 });
    expect(resolveRetryPolicy({ maxAttempts: 2 })).toEqual({ ...DEFAULT_RETRY_POLICY, maxAttempts: 2 });
    expect(() => resolveRetryPolicy({ maxAttempts: 0 })).toThrow(RangeError);
    expect(() => resolveRetryPolicy({ baseDelayMs: -1 })).toThrow(RangeError);
  });
});

describe('classification', () => {
  const apiError = (word: (typeof ERROR_WORDS)[number], status = STATUS_OF_WORD[word]) =>
    new ApiError({ status, word, body: 'x', call: 'GET /x' });
  it('retries busy, system and failed, and never usage, auth, billing, missing, method or full', () => {
    const table = Object.fromEntries(ERROR_WORDS.map((w) => [w, isRetryable(apiError(w))]));
    expect(table).toEqual({
      usage: false,
      auth: false,
      billing: false,
      missing: false,
      method: false,
      busy: true,
      failed: true,
      system: true,
      full: false,
    });
  });
  it('retries a 5xx whatever its word, except full', () => {
    expect(isRetryable(apiError('usage', 503))).toBe(true);
    expect(isRetryable(apiError('full', 507))).toBe(false);
  });
  it('retries connection faults (resets, truncated bodies) and nothing that is not an API failure', () => {
    expect(isRetryable(new ApiConnectionError('GET /x', 'truncated body'))).toBe(true);
    expect(isRetryable(new DrivesnapError('EH_RANGE', 'x'))).toBe(false);
    expect(isRetryable(new TypeError('bug'))).toBe(false);
  });
  it('names failures by word for the counters', () => {
    expect(failureKind(apiError('busy'))).toBe('busy');
    expect(failureKind(new ApiConnectionError('GET /x', 'reset'))).toBe('connection');
    expect(failureKind(new Error('x'))).toBe('other');
  });
});
