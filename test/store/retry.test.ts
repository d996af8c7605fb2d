import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ObjectNotFoundError, StoreError, TransientStoreError } from '../../src/store/errors.js';
import { ForwardingStore } from '../../src/store/forwarding.js';
import { LocalStore } from '../../src/store/local.js';
import { isRetryableStoreFailure as isRetryable, RetryStore } from '../../src/store/retry.js';
import type { RetryEvent } from '../../src/util/retry-policy.js';
import type { ObjectInfo, ObjectStore } from '../../src/store/types.js';
import { collect } from './conformance.js';
import { FaultyStore } from './fault-injection.js';

const transient = () => new TransientStoreError('injected: connection reset');

describe('isRetryable', () => {
  it('retries transient and socket-level errors only', () => {
    expect(isRetryable(transient())).toBe(true);
    expect(isRetryable(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isRetryable(new ObjectNotFoundError('/repo', 'x'))).toBe(false);
    expect(isRetryable(new StoreError('STORE_ACCESS_DENIED', 'denied'))).toBe(false);
    expect(isRetryable(new Error('plain'))).toBe(false);
  });
});

describe('RetryStore over a real LocalStore with injected faults', () => {
  let dir: string;
  let local: LocalStore;
  let delays: number[];
  let events: RetryEvent[];
  const fastRetry = () => ({
    maxAttempts: 5,
    baseDelayMs: 100,
    random: () => 0.5,
    sleep: async (ms: number) => {
      delays.push(ms);
    },
    onRetry: (event: RetryEvent) => events.push(event),
  });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'drivesnap-retry-'));
    local = new LocalStore(dir);
    delays = [];
    events = [];
  });
  afterEach(async () => {
    await local.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('retries transient failures with growing backoff and then succeeds', async () => {
    const faulty = new FaultyStore(local, 3, transient);
    const store = new RetryStore(faulty, fastRetry());
    await store.put('chunks/ab/x', Buffer.from('data'));
    expect(faulty.calls).toBe(4);
    expect(store.retryCount).toBe(3);
    expect(delays).toEqual([50, 100, 200]); // full jitter at random 0.5: half of 100, 200, 400
    expect(events.map((e) => [e.layer, e.operation, e.attempt, e.kind])).toEqual([
      ['store', 'put chunks/ab/x', 1, 'transient'],
      ['store', 'put chunks/ab/x', 2, 'transient'],
      ['store', 'put chunks/ab/x', 3, 'transient'],
    ]);
    expect((await local.get('chunks/ab/x')).toString()).toBe('data');
  });

  it('retries network-level errors (ECONNRESET) too', async () => {
    await local.put('config', Buffer.from('c'));
    const faulty = new FaultyStore(local, 1, () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    const store = new RetryStore(faulty, fastRetry());
    expect((await store.get('config')).toString()).toBe('c');
    expect(store.retryCount).toBe(1);
  });

  it('gives up after the configured retries and throws the last error', async () => {
    const faulty = new FaultyStore(local, 100, transient);
    const store = new RetryStore(faulty, fastRetry());
    await expect(store.stat('config')).rejects.toBeInstanceOf(TransientStoreError);
    expect(faulty.calls).toBe(5);
    expect(store.retryCount).toBe(4);
  });

  it('does not retry a non-transient error', async () => {
    const faulty = new FaultyStore(local, 1, () => new StoreError('STORE_ACCESS_DENIED', 'denied'));
    const store = new RetryStore(faulty, fastRetry());
    await expect(store.delete('config')).rejects.toMatchObject({ code: 'STORE_ACCESS_DENIED' });
    expect(faulty.calls).toBe(1);
    expect(store.retryCount).toBe(0);
  });

  it('does not retry a missing object', async () => {
    const faulty = new FaultyStore(local, 0, transient);
    const store = new RetryStore(faulty, fastRetry());
    await expect(store.get('nothing')).rejects.toBeInstanceOf(ObjectNotFoundError);
    expect(faulty.calls).toBe(1);
  });

  it('retries a listing that fails before its first item', async () => {
    await local.put('snapshots/a', Buffer.alloc(1));
    const store = new RetryStore(new FaultyStore(local, 2, transient), fastRetry());
    expect((await collect(store.list('snapshots/'))).map((o) => o.name)).toEqual(['snapshots/a']);
    expect(store.retryCount).toBe(2);
  });

  it('resumes a listing that fails part-way without duplicates or gaps', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `chunks/${String(i).padStart(2, '0')}`);
    for (const name of names) await local.put(name, Buffer.alloc(1));
    const store = new RetryStore(new BreaksMidListing(local, 7), fastRetry());
    const listed: string[] = [];
    for await (const info of store.list('chunks/')) listed.push(info.name);
    expect(listed).toEqual(names);
    expect(store.retryCount).toBe(1);
  });

  it('does not resume a part-way listing from a store that lists out of order', async () => {
    for (const name of ['a', 'b', 'c', 'd']) await local.put(name, Buffer.alloc(1));
    const store = new RetryStore(new BreaksMidListing(local, 3, true), fastRetry());
    await expect(collect(store.list(''))).rejects.toBeInstanceOf(TransientStoreError);
  });
});

/** Its first listing yields `after` items and then fails; later listings are whole. Optionally reversed. */
class BreaksMidListing extends ForwardingStore {
  private broken = false;
  constructor(
    inner: ObjectStore,
    private readonly after: number,
    private readonly reversed = false,
  ) {
    super(inner);
  }
  override async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const all: ObjectInfo[] = [];
    for await (const info of this.inner.list(prefix)) all.push(info);
    if (this.reversed) all.reverse();
    let yielded = 0;
    for (const info of all) {
      if (!this.broken && yielded === this.after) {
        this.broken = true;
        throw transient();
      }
      yielded++;
      yield info;
    }
  }
}
