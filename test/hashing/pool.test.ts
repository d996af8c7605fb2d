import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { nativeDirectIo, nativeHash } from '../../src/codec/active.js';
import { SlotBuffers } from '../../src/engine/pipeline.js';
import { chunkIdPool, HashPool, HashWorkerError } from '../../src/hashing/index.js';
import { type CodecContext, chunkId } from '../../src/repo/format/index.js';
import { CHUNK, encryptedContext, plainContext } from '../repo/format/fixtures.js';

const pools: HashPool[] = [];
function pool(ctx: CodecContext, workers = 2): HashPool {
  const p = chunkIdPool(ctx, workers);
  pools.push(p);
  return p;
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

/**
 * Random bytes in shared memory, as the engine reads them without the addon (with it, its range buffers are
 * page-aligned instead, and ids are hashed by the addon, not by this pool).
 */
function sharedRange(length: number): Buffer {
  const b = Buffer.from(new SharedArrayBuffer(CHUNK)).subarray(0, length);
  randomBytes(length).copy(b);
  return b;
}

const contexts: [string, () => Promise<CodecContext>][] = [
  ['plain', async () => plainContext()],
  ['encrypted', () => encryptedContext()],
];

describe.each(contexts)('HashPool in a %s repository', (_name, makeContext) => {
  it.each([1, CHUNK - 1, CHUNK])('computes chunkId of a %i-byte range of shared memory', async (length) => {
    const ctx = await makeContext();
    const data = sharedRange(length);
    expect(data.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(await pool(ctx).hash(data)).toEqual(await chunkId(data, ctx));
  });

  it('hashes a range that starts inside the shared buffer (offset and length, not the whole buffer)', async () => {
    const ctx = await makeContext();
    const whole = sharedRange(CHUNK);
    const middle = whole.subarray(1000, 1000 + 65_536);
    expect(await pool(ctx).hash(middle)).toEqual(await chunkId(middle, ctx));
  });

  it('answers many concurrent requests each with its own range id', async () => {
    const ctx = await makeContext();
    const ranges = Array.from({ length: 16 }, (_, slot) => sharedRange(CHUNK - slot * 4099));
    const hashes = pool(ctx, 3);
    const got = await Promise.all([...ranges, ...ranges].map((r) => hashes.hash(r)));
    const want = await Promise.all([...ranges, ...ranges].map((r) => chunkId(r, ctx)));
    expect(got).toEqual(want);
    expect(new Set(got.map((id) => id.toString('hex'))).size).toBe(16);
  });

  it('hashes an ordinary (not shared) buffer on the calling thread with the same result', async () => {
    const ctx = await makeContext();
    const data = randomBytes(CHUNK);
    expect(data.buffer).not.toBeInstanceOf(SharedArrayBuffer);
    expect(await pool(ctx).hash(data)).toEqual(await chunkId(data, ctx));
  });
});

describe('HashPool workers', () => {
  it('fails the requests of a terminated worker with a clear error, then hashes on its replacement', async () => {
    const ctx = await encryptedContext();
    const hashes = pool(ctx, 1);
    const data = sharedRange(CHUNK);
    const pending = Array.from({ length: 4 }, () => hashes.hash(data));
    await hashes.terminateWorker(0);
    const outcomes = await Promise.allSettled(pending);
    const failed = outcomes.filter((o) => o.status === 'rejected');
    expect(failed.length).toBeGreaterThan(0);
    for (const f of failed) {
      expect(f.reason).toBeInstanceOf(HashWorkerError);
      expect(f.reason.message).toMatch(/hash worker 0 stopped \(exit code \d+\) before hashing the range: run the job again/);
    }
    expect(await hashes.hash(data)).toEqual(await chunkId(data, ctx));
  });

  it('fails each request with the reason when workers cannot start, starting one again per request, not in a loop', async () => {
    const broken = new HashPool({ workers: 1, workerEntry: { script: 'throw new Error("worker code missing")', eval: true, execArgv: [] } });
    pools.push(broken);
    const data = sharedRange(1);
    for (let attempt = 0; attempt < 2; attempt++) {
      await expect(broken.hash(data)).rejects.toThrow(/hash worker 0 stopped \(exit code 1: worker code missing\) before hashing the range/);
    }
  });

  it('fails pending requests when closed and refuses new ones', async () => {
    const hashes = pool(plainContext(), 1);
    const data = sharedRange(CHUNK);
    const pending = hashes.hash(data);
    await hashes.close();
    await expect(pending).rejects.toThrow(/the hash pool was closed before hashing the range/);
    await expect(hashes.hash(data)).rejects.toThrow(/the hash pool is closed/);
  });

  it('refuses a slot buffer larger than its size', () => {
    expect(() => new SlotBuffers(16).get(0, 17)).toThrow(/a slot buffer holds 16 bytes, asked for 17/);
  });

  it('gives page-aligned slot buffers when the addon hashes (for O_DIRECT), shared memory for this pool otherwise', () => {
    const b = new SlotBuffers(CHUNK).get(0, CHUNK);
    const io = nativeHash() && nativeDirectIo();
    if (io) expect(io.isAligned(b)).toBe(true);
    else expect(b.buffer).toBeInstanceOf(SharedArrayBuffer);
  });
});
