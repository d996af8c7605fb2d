/** Chunk ids through the addon against rangeId, the one definition of an id, in ordinary and shared memory. */
import { createSecretKey, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isalAddon } from '../../src/codec/isal.js';
import { rangeId } from '../../src/hashing/digest.js';
import { nativeRangeIds } from '../../src/hashing/native.js';

describe.skipIf(!isalAddon?.hash || !nativeRangeIds(undefined))('chunk ids through the addon', () => {
  const data = randomBytes(4 * 1024 * 1024);
  const shared = Buffer.from(new SharedArrayBuffer(data.length + 10)).subarray(10);
  data.copy(shared);

  it('are SHA-256 without a key and HMAC-SHA-256 under one, wherever the range lies', async () => {
    const key = createSecretKey(randomBytes(32));
    for (const k of [undefined, key]) {
      const ids = nativeRangeIds(k)!;
      expect((await ids(data)).equals(rangeId(data, k))).toBe(true);
      expect((await ids(shared)).equals(rangeId(data, k))).toBe(true);
      expect((await ids(shared.subarray(7, 1000))).equals(rangeId(data.subarray(7, 1000), k))).toBe(true);
    }
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => isalAddon!.hash!(data, randomBytes(16))).toThrow(/32 bytes/);
  });
});
