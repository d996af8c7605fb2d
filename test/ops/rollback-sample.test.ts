/**
 * The sample check's reads (src/ops/sample-check.ts), shared by the incremental backup, the rollback and
 * the copy resync: ids come back in the order asked whatever order the reads finish in, all-zero ranges get
 * ZERO_ID, and after a failure or a stop no further range is read and the error is thrown once the reads in
 * flight have finished.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ZERO_ID } from '../../src/repo/format/index.js';
import { type SampleEnd, sampleIds } from '../../src/ops/sample-check.js';

const CHUNK = 1024;
const hasher = { chunkSize: CHUNK, chunkId: async (d: Uint8Array) => createHash('sha256').update(d).digest() };

/**
 * A drive in memory of `ranges` ranges, range i filled with byte i (range 0 all zero), recording which
 * reads started and finished. `after[r] = q`: the read of range r finishes only once the read of q has.
 */
function memoryEnd(ranges: number, o: { after?: Record<number, number>; failAt?: number } = {}) {
  const data = Buffer.alloc(ranges * CHUNK);
  for (let i = 0; i < ranges; i++) data.fill(i, i * CHUNK, (i + 1) * CHUNK);
  const started: number[] = [];
  const finished: number[] = [];
  const done = Array.from({ length: ranges }, () => {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => {
      resolve = r;
    });
    return { promise, resolve };
  });
  const end: SampleEnd = {
    size: data.length,
    async read(offset, length) {
      const range = offset / CHUNK;
      started.push(range);
      const waitFor = o.after?.[range];
      if (waitFor !== undefined) await done[waitFor]!.promise;
      finished.push(range);
      done[range]!.resolve();
      if (range === o.failAt) throw new Error(`read of range ${range} failed`);
      return data.subarray(offset, offset + length);
    },
  };
  return { end, data, started, finished };
}

describe('sampleIds', () => {
  it('returns the ids in the order asked although the reads finish in another order, ZERO_ID for zero ranges', async () => {
    const { end, data, finished } = memoryEnd(8, { after: { 0: 2, 2: 5 } });
    let read = 0;
    const onRead = (bytes: number) => {
      read += bytes;
    };
    const ids = await sampleIds(end, hasher, [0, 2, 5, 7], { concurrency: 4, onRead });
    expect(finished).toEqual([5, 7, 2, 0]);
    expect(ids.map((x) => x.range)).toEqual([0, 2, 5, 7]);
    expect(ids[0]!.id).toEqual(ZERO_ID);
    expect(ids[2]!.id).toEqual(await hasher.chunkId(data.subarray(5 * CHUNK, 6 * CHUNK)));
    expect(read).toBe(4 * CHUNK);
  });

  it('after a failed read no further range starts; the read in flight finishes before the error is thrown', async () => {
    const { end, started, finished } = memoryEnd(10, { after: { 0: 1 }, failAt: 1 });
    await expect(sampleIds(end, hasher, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], { concurrency: 2 })).rejects.toThrow('read of range 1 failed');
    expect(started).toEqual([0, 1]);
    expect(finished).toEqual([1, 0]);
  });

  it('a stop before the sample reads nothing and throws the AbortError', async () => {
    const { end, started } = memoryEnd(4);
    const stop = new AbortController();
    stop.abort();
    await expect(sampleIds(end, hasher, [0, 1, 2, 3], { signal: stop.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(started).toEqual([]);
  });
});
