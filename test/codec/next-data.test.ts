/**
 * Holes of sparse files (SEEK_DATA through the addon): the file source reads them as zeros without asking
 * the kernel for them, and still reads data, and still refuses a range past the end of a shrunk file.
 */
import { mkdtemp, open, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isalAddon } from '../../src/codec/isal.js';
import { isAllZero, zeroBuffer } from '../../src/engine/codec.js';
import { openFileSource } from '../../src/engine/ends/file.js';

const MiB = 1024 * 1024;
let dir: string;
let image: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'drivesnap-holes-'));
  image = join(dir, 'sparse.img');
  await writeFile(image, Buffer.alloc(MiB, 0xab));
  await truncate(image, 64 * MiB);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe.skipIf(!isalAddon?.nextData)('the next data offset of a sparse file', () => {
  it('is the offset itself inside data, -1 when only a hole follows', async () => {
    const fh = await open(image, 'r');
    try {
      // Asked on the thread pool, not on the event loop (a round trip on NFS).
      expect(isalAddon!.nextData!(fh.fd, 0)).toBeInstanceOf(Promise);
      expect(await isalAddon!.nextData!(fh.fd, 0)).toBe(0);
      expect(await isalAddon!.nextData!(fh.fd, 8 * MiB)).toBe(-1);
    } finally {
      await fh.close();
    }
  });
});

describe('a file source over a sparse image', () => {
  it('reads data as data and a hole as zeros, into a buffer full of old bytes', async () => {
    const source = await openFileSource(image);
    try {
      const into = Buffer.alloc(4 * MiB, 0x55);
      expect((await source.read(0, MiB, into)).every((b) => b === 0xab)).toBe(true);
      into.fill(0x55);
      expect((await source.read(8 * MiB, 4 * MiB, into)).every((b) => b === 0)).toBe(true);
      expect((await source.read(MiB - 10, 20, into)).subarray(0, 10).every((b) => b === 0xab)).toBe(true);
    } finally {
      await source.close();
    }
  });

  it.skipIf(!isalAddon?.nextData)('gives a hole as the shared run of zeros, copying nothing into the buffer', async () => {
    const source = await openFileSource(image);
    try {
      const into = Buffer.alloc(4 * MiB, 0x55);
      const hole = await source.read(8 * MiB, 4 * MiB, into);
      expect(hole.buffer).toBe(zeroBuffer(4 * MiB).buffer);
      expect(into.every((b) => b === 0x55)).toBe(true);
      expect(isAllZero(hole)).toBe(true);
    } finally {
      await source.close();
    }
  });

  it('still refuses a range past the end of a file that shrank', async () => {
    const shrinking = join(dir, 'shrinking.img');
    await writeFile(shrinking, Buffer.alloc(MiB, 1));
    await truncate(shrinking, 16 * MiB);
    const source = await openFileSource(shrinking);
    try {
      await truncate(shrinking, 2 * MiB);
      await expect(source.read(8 * MiB, 4 * MiB, Buffer.alloc(4 * MiB))).rejects.toThrow(/shrank/);
    } finally {
      await source.close();
    }
  });
});
