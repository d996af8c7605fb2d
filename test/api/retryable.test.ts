/** Which API failures the client tries again; the attempts and the waits are the shared policy's (test/util). */
import { describe, expect, it } from 'vitest';
import { ApiConnectionError, ApiError, ERROR_WORDS, STATUS_OF_WORD } from '../../src/api/errors.js';
import { failureKind, isRetryableApiFailure } from '../../src/api/retry.js';
import { DrivesnapError } from '../../src/errors.js';

const isRetryable = isRetryableApiFailure;

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
