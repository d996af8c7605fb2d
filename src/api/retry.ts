/**
 * Which API failures the client tries again (the attempts and the waits are the shared policy's, in
 * ../util/retry-policy.ts, re-exported here for library users of the client).
 */
import { ApiConnectionError, ApiError } from './errors.js';

export {
  DEFAULT_RETRY_POLICY,
  RETRY_CHANNEL,
  type RetryEvent,
  type RetryListener,
  type RetryPolicy,
  backoffCeilingMs,
  backoffDelayMs,
  resolveRetryPolicy,
} from '../util/retry-policy.js';

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
export function isRetryableApiFailure(err: unknown): boolean {
  if (err instanceof ApiConnectionError) return true;
  if (err instanceof ApiError) return err.retryable;
  return false;
}
