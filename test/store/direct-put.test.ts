/**
 * Chunk objects in page-aligned memory go to a local store with O_DIRECT, padded to whole pages and cut back
 * to their length: the stored object is byte for byte what was put, whatever its length, and objects that
 * cannot be written direct take the page cache.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeDirectIo } from '../../src/codec/active.js';
import { paddedForDirect } from '../../src/store/direct-put.js';
import { LocalStore } from '../../src/store/local.js';
import { DIRECT_ALIGN } from '../../src/util/direct-io.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'drivesnap-direct-put-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const io = nativeDirectIo();

describe.skipIf(!io)('objects in aligned memory (the addon in use)', () => {
  it('are padded to whole pages with zeros, when the memory has room', () => {
    const memory = io!.alignedBuffer(3 * DIRECT_ALIGN);
    memory.fill(0xee);
    const padded = paddedForDirect(memory.subarray(0, DIRECT_ALIGN + 10));
    expect(padded?.length).toBe(2 * DIRECT_ALIGN);
    expect(padded!.subarray(DIRECT_ALIGN + 10).every((b) => b === 0)).toBe(true);
    expect(padded!.subarray(0, DIRECT_ALIGN + 10).every((b) => b === 0xee)).toBe(true);
    expect(paddedForDirect(memory.subarray(2 * DIRECT_ALIGN + 1))).toBeUndefined(); // not aligned
    expect(paddedForDirect(memory.subarray(DIRECT_ALIGN, 3 * DIRECT_ALIGN))).toBeDefined();
    expect(paddedForDirect(Buffer.alloc(DIRECT_ALIGN))).toBeUndefined(); // Node's own memory
  });

  it('are stored byte for byte at any length, and leave no temp file', async () => {
    const store = new LocalStore(join(dir, 'repo'));
    const memory = io!.alignedBuffer(4 * DIRECT_ALIGN);
    for (const length of [1, DIRECT_ALIGN - 1, DIRECT_ALIGN, 3 * DIRECT_ALIGN + 17, 4 * DIRECT_ALIGN]) {
      const content = randomBytes(length);
      content.copy(memory);
      await store.put(`chunks/ab/${length}`, memory.subarray(0, length));
      const back = await store.get(`chunks/ab/${length}`);
      expect(back.equals(content)).toBe(true);
      expect((await store.stat(`chunks/ab/${length}`))?.size).toBe(length);
    }
    expect((await readdir(join(dir, 'repo', 'chunks', 'ab'))).filter((n) => n.startsWith('.drivesnap-tmp-'))).toEqual([]);
  });
});
