import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RETRY_POLICY,
  RETRY_CHANNEL,
  type RetryEvent,
  backoffCeilingMs,
  backoffDelayMs,
  nextRetryDelayMs,
  resolveRetryPolicy,
  withRetries,
} from '../../src/util/retry-policy.js';

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

describe('nextRetryDelayMs', () => {
  it('counts attempts, the first included: maxAttempts 3 allows retries after attempts 1 and 2 only', () => {
    const three = { ...policy, maxAttempts: 3 };
    expect(nextRetryDelayMs(three, 1, true, () => 0.5)).toBe(50);
    expect(nextRetryDelayMs(three, 2, true, () => 0.5)).toBe(100);
    expect(nextRetryDelayMs(three, 3, true, () => 0.5)).toBeUndefined();
  });
  it('never retries a failure the layer calls final', () => {
    expect(nextRetryDelayMs(policy, 1, false)).toBeUndefined();
  });
});

describe('withRetries', () => {
  const fast = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000 };

  it('retries what the layer calls retryable, reporting each retry to onRetry and the channel alike', async () => {
    const direct: RetryEvent[] = [];
    const published: unknown[] = [];
    const listener = (event: unknown) => published.push(event);
    const slept: number[] = [];
    subscribe(RETRY_CHANNEL, listener);
    try {
      const result = await withRetries(
        {
          policy: fast,
          layer: 'store',
          operation: 'put x',
          classify: () => ({ retryable: true, kind: 'transient' }),
          onRetry: (e) => direct.push(e),
          random: () => 0.5,
          sleep: async (ms) => {
            slept.push(ms);
          },
        },
        async (attempt) => {
          if (attempt < 3) throw new Error(`fault ${attempt}\nsecond line`);
          return attempt;
        },
      );
      expect(result).toBe(3);
    } finally {
      unsubscribe(RETRY_CHANNEL, listener);
    }
    expect(slept).toEqual([50, 100]);
    expect(direct).toEqual([
      { layer: 'store', operation: 'put x', attempt: 1, kind: 'transient', delayMs: 50, error: 'fault 1' },
      { layer: 'store', operation: 'put x', attempt: 2, kind: 'transient', delayMs: 100, error: 'fault 2' },
    ]);
    expect(published).toEqual(direct);
  });

  it('throws the last error once the attempts are used up, and a final one at once', async () => {
    let calls = 0;
    const loop = { policy: fast, layer: 'api', operation: 'GET /x', random: () => 0, sleep: async () => {} } as const;
    const always = { ...loop, classify: () => ({ retryable: true, kind: 'busy' }) };
    await expect(withRetries(always, async (n) => { calls++; throw new Error(`attempt ${n}`); })).rejects.toThrow('attempt 4');
    expect(calls).toBe(4);
    calls = 0;
    const never = { ...loop, classify: () => ({ retryable: false, kind: 'usage' }) };
    await expect(withRetries(never, async () => { calls++; throw new Error('usage'); })).rejects.toThrow('usage');
    expect(calls).toBe(1);
  });
});

describe('stopping a retry loop', () => {
  it('ends a backoff wait at once when the signal aborts, with its reason, and makes no further attempt', async () => {
    const stop = new AbortController();
    const reason = new Error('stop requested');
    let attempts = 0;
    // A 10-minute backoff: only the abort can end the wait within the test's timeout.
    const loop = {
      policy: { maxAttempts: 5, baseDelayMs: 600_000, maxDelayMs: 600_000 },
      layer: 'api' as const,
      operation: 'GET /x',
      classify: () => ({ retryable: true, kind: 'busy' }),
      random: () => 0.99,
      signal: stop.signal,
      onRetry: () => stop.abort(reason),
    };
    const outcome = await withRetries(loop, async () => {
      attempts++;
      throw new Error('busy');
    }).catch((err: unknown) => err);
    expect(outcome).toBe(reason);
    expect(attempts).toBe(1);
  });
  it('does not retry a failure that comes after the abort', async () => {
    const stop = new AbortController();
    stop.abort(new Error('stopped'));
    let attempts = 0;
    const failure = new Error('failed');
    const loop = { policy, layer: 'store' as const, operation: 'put x', classify: () => ({ retryable: true, kind: 'transient' }), signal: stop.signal };
    const outcome = await withRetries(loop, async () => {
      attempts++;
      throw failure;
    }).catch((err: unknown) => err);
    expect(outcome).toBe(failure);
    expect(attempts).toBe(1);
  });
});
