/**
 * RetryStore: tries an operation again, with exponential backoff and jitter, when it failed in a way that
 * may pass (TransientStoreError, or a socket-level error). Everything else fails at once: retrying a
 * missing object or a refused credential only delays the message the user needs.
 * It sits outermost (open.ts), so a backoff sleep never holds a concurrency slot.
 */
import { isNetworkError, TransientStoreError } from './errors.js';
import type { ObjectInfo, ObjectStore } from './types.js';

export interface RetryOptions {
  /** Tries after the first one; 0 disables retrying. */
  retries?: number;
  /** Ceiling of the first backoff; each later one doubles, up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Uniform in [0, 1); injectable so tests can pin the jitter. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Told about every retry, e.g. to print "retrying put chunks/ab/... in 0.8 s". */
  onRetry?: (event: RetryEvent) => void;
}

export interface RetryEvent {
  operation: 'put' | 'get' | 'stat' | 'list' | 'delete';
  name: string;
  /** 1 for the first retry. */
  retry: number;
  delayMs: number;
  error: unknown;
}

export const DEFAULT_RETRY = { retries: 6, baseDelayMs: 250, maxDelayMs: 20_000 } as const;

/** True for failures worth another try. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof TransientStoreError) return true;
  if ((err as { retryable?: unknown } | null)?.retryable === true) return true;
  return isNetworkError(err);
}

/**
 * Backoff before retry number `retry` (1-based): "equal jitter", half fixed and half random, so clients
 * that failed together spread out but none retries immediately.
 */
export function backoffDelay(retry: number, baseDelayMs: number, maxDelayMs: number, random: number): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (retry - 1));
  return ceiling / 2 + (ceiling / 2) * random;
}

export class RetryStore implements ObjectStore {
  private retries = 0;
  private readonly maxRetries: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly onRetry?: (event: RetryEvent) => void;

  constructor(
    private readonly inner: ObjectStore,
    options: RetryOptions = {},
  ) {
    this.maxRetries = options.retries ?? DEFAULT_RETRY.retries;
    this.baseDelayMs = options.baseDelayMs ?? DEFAULT_RETRY.baseDelayMs;
    this.maxDelayMs = options.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.onRetry = options.onRetry;
  }

  get location(): string {
    return this.inner.location;
  }

  /** Retries made so far, over all operations. */
  get retryCount(): number {
    return this.retries;
  }

  put(name: string, data: Uint8Array): Promise<void> {
    return this.attempt('put', name, () => this.inner.put(name, data));
  }

  get(name: string): Promise<Buffer> {
    return this.attempt('get', name, () => this.inner.get(name));
  }

  stat(name: string): Promise<ObjectInfo | undefined> {
    return this.attempt('stat', name, () => this.inner.stat(name));
  }

  delete(name: string): Promise<void> {
    return this.attempt('delete', name, () => this.inner.delete(name));
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
        if (!isRetryable(err) || failures > this.maxRetries || !ascending) throw err;
        await this.pause('list', prefix, failures, err);
      }
    }
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private async attempt<T>(operation: RetryEvent['operation'], name: string, run: () => Promise<T>): Promise<T> {
    for (let retry = 1; ; retry++) {
      try {
        return await run();
      } catch (err) {
        if (!isRetryable(err) || retry > this.maxRetries) throw err;
        await this.pause(operation, name, retry, err);
      }
    }
  }

  private async pause(operation: RetryEvent['operation'], name: string, retry: number, error: unknown): Promise<void> {
    const delayMs = backoffDelay(retry, this.baseDelayMs, this.maxDelayMs, this.random());
    this.retries++;
    this.onRetry?.({ operation, name, retry, delayMs, error });
    await this.sleep(delayMs);
  }
}
