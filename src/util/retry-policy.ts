/**
 * The one retry policy of drivesnap, used by the API client and the store wrapper alike: how many attempts,
 * how long to wait between them, and what a retry looks like to whoever watches. Which failures are worth
 * another try stays with each layer (an API error word, a transient store fault), passed in as a function.
 *
 * Backoff is exponential with "full jitter": the wait before retry n is drawn uniformly from
 * [0, min(maxDelayMs, baseDelayMs * 2^(n-1))), so many workers that failed together spread out instead of
 * retrying in lock-step.
 *
 * Every retry is published on the diagnostics channel RETRY_CHANNEL as well as to the caller's `onRetry`:
 * the CLI shows retries (a line, a --json event, a count in the summary) without threading a callback
 * through every command, and publishing costs nothing while nobody subscribes.
 */
import { channel } from 'node:diagnostics_channel';
import { errorMessage } from '../errors.js';
import { abortableSleep } from './stop-request.js';

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
 * 6.4 s, so a call gives up after at most ~12.7 s of waiting (~6.4 s on average): long enough to ride out
 * a server restart or a burst of `busy`, short enough that a dead endpoint fails a job within seconds.
 */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 8,
  baseDelayMs: 100,
  maxDelayMs: 10_000,
});

/** The policy's three numbers from `overrides` (other keys and undefined values ignored), else from `defaults`. */
export function resolveRetryPolicy(overrides: Partial<RetryPolicy> | undefined, defaults: Readonly<RetryPolicy> = DEFAULT_RETRY_POLICY): RetryPolicy {
  const policy: RetryPolicy = {
    maxAttempts: overrides?.maxAttempts ?? defaults.maxAttempts,
    baseDelayMs: overrides?.baseDelayMs ?? defaults.baseDelayMs,
    maxDelayMs: overrides?.maxDelayMs ?? defaults.maxDelayMs,
  };
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
 * The wait before trying again after attempt `attempt` (1 = the first) failed, or undefined when the
 * failure is final: not retryable, or the attempts are used up.
 */
export function nextRetryDelayMs(policy: RetryPolicy, attempt: number, retryable: boolean, random: () => number = Math.random): number | undefined {
  if (!retryable || attempt >= policy.maxAttempts) return undefined;
  return backoffDelayMs(policy, attempt, random);
}

/** One retry, as both layers report it. Carries no secret: `error` is the failure's one-line message. */
export interface RetryEvent {
  layer: 'api' | 'store';
  /** What was tried: `POST /drives/UUID/write/0`, `put OBJECT-NAME`. */
  operation: string;
  /** The attempt that failed (1 = the first). */
  attempt: number;
  /** The failure in a word: an API error word, `connection`, `transient`. */
  kind: string;
  /** The wait before the next attempt. */
  delayMs: number;
  error: string;
}

export type RetryListener = (event: RetryEvent) => void;

/** Subscribe with `diagnostics_channel.subscribe(RETRY_CHANNEL, ...)` to see every retry in the process. */
export const RETRY_CHANNEL = 'drivesnap:retry';
const retryChannel = channel(RETRY_CHANNEL);

/** Tells the caller's listener and the process-wide channel about a retry. */
export function announceRetry(event: RetryEvent, onRetry: RetryListener | undefined): void {
  onRetry?.(event);
  if (retryChannel.hasSubscribers) retryChannel.publish(event);
}

export interface RetryLoop {
  policy: RetryPolicy;
  layer: RetryEvent['layer'];
  operation: string;
  /** The layer's verdict on a failure: whether asking again may help, and its kind for the event. */
  classify(err: unknown, attempt: number): { retryable: boolean; kind: string };
  onRetry?: RetryListener;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Ends a backoff wait early (rejecting with the signal's reason), and stops further attempts. */
  signal?: AbortSignal;
}

/** Runs `attempt` until it succeeds, fails finally, or the policy's attempts are used up (the last error is thrown). */
export async function withRetries<T>(loop: RetryLoop, run: (attempt: number) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run(attempt);
    } catch (err) {
      if (loop.signal?.aborted) throw err;
      const { retryable, kind } = loop.classify(err, attempt);
      const delayMs = nextRetryDelayMs(loop.policy, attempt, retryable, loop.random);
      if (delayMs === undefined) throw err;
      announceRetry({ layer: loop.layer, operation: loop.operation, attempt, kind, delayMs, error: errorMessage(err) }, loop.onRetry);
      if (loop.sleep) await loop.sleep(delayMs);
      else await abortableSleep(delayMs, loop.signal);
    }
  }
}
