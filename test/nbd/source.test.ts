/** The chunk cache's byte bound and the source's loading rules: one load per chunk at a time, read-ahead. */
import pLimit from 'p-limit';
import { describe, expect, it, vi } from 'vitest';
import { ChunkCache } from '../../src/nbd/chunk-cache.js';
import { SnapshotSource } from '../../src/nbd/snapshot-source.js';

describe('ChunkCache', () => {
  it('evicts the least recently used entries to stay within its bytes', () => {
    const c = new ChunkCache(30);
    c.set('a', Buffer.alloc(10));
    c.set('b', Buffer.alloc(10));
    c.set('c', Buffer.alloc(10));
    c.get('a');
    c.set('d', Buffer.alloc(10));
    expect(['a', 'b', 'c', 'd'].filter((k) => c.has(k))).toEqual(['a', 'c', 'd']);
    expect(c.bytes).toBe(30);
    c.set('huge', Buffer.alloc(31));
    expect(c.has('huge')).toBe(false);
  });
});

describe('SnapshotSource', () => {
  const CHUNK = 100;
  /** Eight data ranges, ids 1..8. */
  function source(readAhead: number) {
    const table = Buffer.alloc(8 * 32);
    for (let i = 0; i < 8; i++) table[i * 32] = i + 1;
    const loads: number[] = [];
    const s = new SnapshotSource({
      id: 'e'.repeat(64),
      layout: { size: 8 * CHUNK, chunkSize: CHUNK, table },
      load: async (id, length) => {
        loads.push(id[0]!);
        return Buffer.alloc(length, id[0]!);
      },
      cache: new ChunkCache(8 * CHUNK),
      // One slot for the reader, two for read-ahead.
      loadLimit: pLimit(3),
      readAhead,
      log: () => undefined,
    });
    return { s, loads };
  }

  it('loads a chunk once for concurrent reads and serves later reads from the cache', async () => {
    const { s, loads } = source(0);
    const [a, b] = await Promise.all([s.read(0, 10), s.read(50, 10)]);
    expect(a[0]!.data).toEqual(Buffer.alloc(10, 1));
    expect(b[0]!.data).toEqual(Buffer.alloc(10, 1));
    await s.read(90, 10);
    expect(loads).toEqual([1]);
  });

  it('reads ahead once access is sequential, not on a single random read', async () => {
    const { s, loads } = source(2);
    await s.read(5 * CHUNK, 10);
    await new Promise((r) => setImmediate(r));
    expect(loads).toEqual([6]);
    await s.read(0, CHUNK);
    await s.read(CHUNK, CHUNK);
    // Range 1 follows range 0: ranges 2 and 3 are fetched before anyone asks (in the background, so waited for).
    await vi.waitFor(() => expect([...loads].sort(), 'read-ahead of ranges 2 and 3').toEqual([1, 2, 3, 4, 6]), { timeout: 5000, interval: 5 });
  });
});
