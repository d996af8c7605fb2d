/**
 * When and how long the API client waits before trying a call again. Pure: no I/O, no clock; the caller
 * supplies the random source, so tests can pin the jitter.
 *
 * Backoff is exponential with "full jitter" (delay drawn uniformly from [0, min(cap, base * 2^n))): many
 * parallel workers hitting a busy server spread out instead of retrying in lock-step.
 */
import { ApiConnectionError, ApiError } from './errors.js';

export interface RetryPolicy {
  /** Attempts in total, the first one included (1 = never retry). */
  maxAttempts: number;
  /** Upper bound of the first retry's delay; each later retry doubles it. */
  baseDelayMs: number;
  /** No delay is ever longer than this. */
  maxDelayMs: number;
}

/**
 * 8 attempts, 100 ms doubling to a 10 s cap: the delays' upper bounds are 0.1, 0.2, 0.4, 0.8, 1.6, 3.2 and
 * 6.4 s, so a call gives up after at most ~12.7 s of waiting (~6.4 s on average) - long enough to ride out
 * a server restart or a burst of `busy`, short enough that a dead endpoint fails a job within seconds.
 */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 8,
  baseDelayMs: 100,
  maxDelayMs: 10_000,
});

export function resolveRetryPolicy(partial: Partial<RetryPolicy> | undefined): RetryPolicy {
  const policy = { ...DEFAULT_RETRY_POLICY, ...partial };
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) {
    throw new RangeError(`retry maxAttempts must be a whole number >= 1, not ${policy.maxAttempts}`);
  }
  if (!(policy.baseDelayMs >= 0) || !(policy.maxDelayMs >= 0)) {
    throw new RangeError('retry delays must be >= 0');
  }
  return policy;
}

/** Upper bound of the wait before retry number `retry` (1 = the first retry). */
export function backoffCeilingMs(policy: RetryPolicy, retry: number): number {
  // Cap the exponent: 2^1024 is Infinity, and anything past 2^40 ms is past any sane cap anyway.
  const exponential = policy.baseDelayMs * 2 ** Math.min(Math.max(retry - 1, 0), 40);
  return Math.min(policy.maxDelayMs, exponential);
}

/** The wait before retry number `retry`: uniform in [0, ceiling). `random` returns [0, 1) like Math.random. */
export function backoffDelayMs(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  return Math.floor(random() * backoffCeilingMs(policy, retry));
}

/**
 * What a failure is, for retry decisions and the per-word counters: an `X-Elastic-Error` word, or
 * `connection` for faults below HTTP (resets, refused connections, timeouts, truncated bodies).
 */
export type FailureKind = ApiError['word'] | 'connection' | 'other';

export function failureKind(err: unknown): FailureKind {
  if (err instanceof ApiError) return err.word;
  if (err instanceof ApiConnectionError) return 'connection';
  return 'other';
}

/**
 * Retry `busy`, `system`, `failed`, any other 5xx but `full`, and connection faults; never `usage`, `auth`,
 * `billing`, `missing`, `method` or `full` (asking again gets the same answer), nor programming errors.
 */
export function isRetryable(err: unknown): boolean {
  if (err instanceof ApiConnectionError) return true;
  if (err instanceof ApiError) return err.retryable;
  return false;
}

/** Reported to `onRetry` hooks before each wait. `error` is the failure's one-line message, never a secret. */
export interface RetryEvent {
  /** The call, e.g. `POST /drives/UUID/write/0`. */
  call: string;
  /** The attempt that failed (1 = the first). */
  attempt: number;
  kind: FailureKind;
  delayMs: number;
  error: string;
}
