/**
 * RetryStore: tries an operation again, following the shared retry policy (../util/retry-policy.ts), when
 * it failed in a way that may pass (TransientStoreError, or a socket-level error). Everything else fails at
 * once: retrying a missing object or a refused credential only delays the message the user needs.
 * It sits outermost (open.ts), so a backoff sleep never holds a concurrency slot.
 */
import { errorMessage } from '../errors.js';
import {
  type RetryListener,
  type RetryLoop,
  type RetryPolicy,
  announceRetry,
  nextRetryDelayMs,
  resolveRetryPolicy,
  withRetries,
} from '../util/retry-policy.js';
import { abortableSleep } from '../util/stop-request.js';
import { isNetworkError, TransientStoreError } from './errors.js';
import type { Leftovers, ObjectInfo, ObjectStore, PutOptions } from './types.js';

/** Overrides of the store's policy (DEFAULT_STORE_RETRY_POLICY; maxAttempts 1 disables retrying), and hooks. */
export interface RetryOptions extends Partial<RetryPolicy> {
  /** Uniform in [0, 1); injectable so tests can pin the jitter. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Told about every retry (every retry is also published on RETRY_CHANNEL). */
  onRetry?: RetryListener;
  /** Ends a backoff wait at once, and stops retrying, when it aborts (the CLI passes stopSignal()). */
  signal?: AbortSignal;
}

/**
 * 7 attempts, 250 ms doubling to a 20 s cap: object stores throttle (S3 SlowDown) for longer than the drive
 * API is busy, so the store waits up to ~16 s in total (about half that on average) before giving up.
 */
export const DEFAULT_STORE_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({ maxAttempts: 7, baseDelayMs: 250, maxDelayMs: 20_000 });

/** The store layer's verdict: transient faults and socket-level errors are worth another try. */
export function isRetryableStoreFailure(err: unknown): boolean {
  if (err instanceof TransientStoreError) return true;
  if ((err as { retryable?: unknown } | null)?.retryable === true) return true;
  return isNetworkError(err);
}

const classify = (err: unknown) => ({ retryable: isRetryableStoreFailure(err), kind: isNetworkError(err) ? 'connection' : 'transient' });

export class RetryStore implements ObjectStore {
  private retries = 0;
  private readonly policy: RetryPolicy;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly onRetry: RetryListener;
  private readonly signal: AbortSignal | undefined;

  constructor(
    private readonly inner: ObjectStore,
    options: RetryOptions = {},
  ) {
    this.policy = resolveRetryPolicy(options, DEFAULT_STORE_RETRY_POLICY);
    this.random = options.random ?? Math.random;
    this.signal = options.signal;
    this.sleep = options.sleep ?? ((ms) => abortableSleep(ms, this.signal));
    this.onRetry = (event) => {
      this.retries++;
      options.onRetry?.(event);
    };
  }

  get location(): string {
    return this.inner.location;
  }

  /** Retries made so far, over all operations. */
  get retryCount(): number {
    return this.retries;
  }

  put(name: string, data: Uint8Array, opts?: PutOptions): Promise<void> {
    return withRetries(this.loop('put', name), () => this.inner.put(name, data, opts));
  }

  /** Not retried: a flush that failed has lost what it covered (see ObjectStore.flush). */
  flush(): Promise<void> {
    return this.inner.flush();
  }

  removeLeftovers(opts?: { dryRun?: boolean }): Promise<Leftovers> {
    return withRetries(this.loop('clean', 'leftovers'), () => this.inner.removeLeftovers(opts));
  }

  get(name: string, into?: Buffer): Promise<Buffer> {
    return withRetries(this.loop('get', name), () => this.inner.get(name, into));
  }

  stat(name: string): Promise<ObjectInfo | undefined> {
    return withRetries(this.loop('stat', name), () => this.inner.stat(name));
  }

  delete(name: string): Promise<void> {
    return withRetries(this.loop('delete', name), () => this.inner.delete(name));
  }

  /**
   * A listing that fails part-way is restarted. Both backends list in ascending name order, so the restart
   * skips names up to the last one already yielded: no duplicates, and no memory of what was seen. If the
   * inner store ever lists out of order, a failure after the first item is not retried.
   */
  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    let last: string | undefined;
    let ascending = true;
    let failures = 0;
    for (;;) {
      const resumeAfter = last;
      try {
        for await (const info of this.inner.list(prefix)) {
          if (resumeAfter !== undefined && info.name <= resumeAfter) continue;
          if (last !== undefined && info.name <= last) ascending = false;
          last = info.name;
          failures = 0; // progress: a long listing may meet several unrelated faults
          yield info;
        }
        return;
      } catch (err) {
        failures++;
        const { retryable, kind } = classify(err);
        const delayMs = nextRetryDelayMs(this.policy, failures, retryable && ascending, this.random);
        if (delayMs === undefined) throw err;
        announceRetry({ layer: 'store', operation: `list ${prefix}`, attempt: failures, kind, delayMs, error: errorMessage(err) }, this.onRetry);
        await this.sleep(delayMs);
      }
    }
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private loop(operation: string, name: string): RetryLoop {
    return { policy: this.policy, layer: 'store', operation: `${operation} ${name}`, classify, onRetry: this.onRetry, random: this.random, sleep: this.sleep, ...(this.signal ? { signal: this.signal } : {}) };
  }
}
