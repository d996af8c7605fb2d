import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BandwidthStore, TokenBucket } from '../../src/store/bandwidth.js';
import { LocalStore } from '../../src/store/local.js';

describe('TokenBucket (clock injected)', () => {
  it('lets the burst through, then asks for waits that pay back the debt at the rate', () => {
    let now = 0;
    const bucket = new TokenBucket(1000, 1000, () => now);
    expect(bucket.reserve(600)).toBe(0);
    expect(bucket.reserve(400)).toBe(0);
    expect(bucket.reserve(500)).toBe(500);
    expect(bucket.reserve(500)).toBe(1000);
    now = 1000; // a second refills 1000 tokens: debt 1000 -> 0
    expect(bucket.reserve(0)).toBe(0);
    expect(bucket.reserve(250)).toBe(250);
  });

  it('never stores more than the burst however long it idles', () => {
    let now = 0;
    const bucket = new TokenBucket(100, 200, () => now);
    now = 1_000_000;
    expect(bucket.reserve(200)).toBe(0);
    expect(bucket.reserve(100)).toBe(1000);
  });

  it('lets an object larger than the burst through, making the next one wait', () => {
    const bucket = new TokenBucket(1024, 1024, () => 0);
    expect(bucket.reserve(4096)).toBe(3000);
  });

  it('refuses a rate that is not positive', () => {
    expect(() => new TokenBucket(0)).toThrow(RangeError);
  });
});

describe('BandwidthStore over a real LocalStore', () => {
  let dir: string;
  let local: LocalStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'drivesnap-bandwidth-'));
    local = new LocalStore(dir);
  });
  afterEach(async () => {
    await local.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('counts bytes put and got, and moves them intact', async () => {
    const store = new BandwidthStore(local);
    await store.put('a', Buffer.alloc(1000, 1));
    await store.put('b', Buffer.alloc(24, 2));
    const back = await store.get('a');
    expect(back.equals(Buffer.alloc(1000, 1))).toBe(true);
    expect(store.bytesPut).toBe(1024);
    expect(store.bytesGot).toBe(1000);
    expect(await store.stat('b')).toEqual({ name: 'b', size: 24 });
  });

  it('asks to wait as the limits require, per direction', async () => {
    const waits: string[] = [];
    const store = new BandwidthStore(local, {
      uploadBytesPerSecond: 1000,
      downloadBytesPerSecond: 500,
      now: () => 0,
      sleep: async (ms) => {
        waits.push(`${ms}`);
      },
    });
    await store.put('x', Buffer.alloc(1000));
    await store.put('y', Buffer.alloc(500));
    await store.get('x');
    expect(waits).toEqual(['500', '1000']);
    expect(store.bytesPut).toBe(1500);
    expect(store.bytesGot).toBe(1000);
  });
});
