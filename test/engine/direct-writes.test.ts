/**
 * O_DIRECT writes of file sinks: aligned ranges in the addon's aligned memory bypass the page cache, anything
 * else is left to the page cache, and a restore through a file sink gives the same bytes either way
 * (including the unaligned tail of an odd-sized file).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeDirectIo } from '../../src/codec/active.js';
import { openDirectWrites } from '../../src/engine/ends/direct-writes.js';
import { openFileSink } from '../../src/engine/ends/file.js';
import { DIRECT_ALIGN } from '../../src/util/direct-io.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'drivesnap-direct-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const io = nativeDirectIo();

describe.skipIf(!io)('direct writes (the addon in use)', () => {
  it('takes an aligned range in aligned memory whole, and leaves any other to the page cache', async () => {
    const path = join(dir, 'direct.img');
    await writeFile(path, Buffer.alloc(4 * DIRECT_ALIGN));
    const direct = await openDirectWrites(path);
    expect(direct).toBeDefined();
    try {
      const aligned = io!.alignedBuffer(2 * DIRECT_ALIGN + 1);
      randomBytes(aligned.length).copy(aligned);
      const whole = aligned.subarray(0, 2 * DIRECT_ALIGN);
      expect(await direct!.write(whole, DIRECT_ALIGN)).toBe(whole.length);
      expect(await direct!.write(aligned.subarray(1, 1 + DIRECT_ALIGN), 0)).toBe(0); // memory not aligned
      expect(await direct!.write(aligned.subarray(0, DIRECT_ALIGN), 100)).toBe(0); // offset not aligned
      expect(await direct!.write(aligned.subarray(0, 100), 0)).toBe(0); // length not aligned
      expect(await direct!.write(Buffer.alloc(DIRECT_ALIGN, 1), 0)).toBe(0); // Node's own allocation
      const back = await readFile(path);
      expect(back.subarray(DIRECT_ALIGN, 3 * DIRECT_ALIGN).equals(whole)).toBe(true);
      expect(back.subarray(0, DIRECT_ALIGN).every((b) => b === 0)).toBe(true);
    } finally {
      await direct!.close();
    }
  });
});

describe('a file sink', () => {
  it('writes aligned ranges, unaligned memory and an odd-sized tail to the right bytes', async () => {
    const size = 3 * DIRECT_ALIGN + 123;
    const expected = randomBytes(size);
    const path = join(dir, 'sink.img');
    const sink = await openFileSink(path, { create: { size } });
    try {
      // It says so, so a restore copies raw objects into its aligned range buffer only then.
      expect(sink.directWrites).toBe(io !== undefined);
      const aligned = io ? io.alignedBuffer(2 * DIRECT_ALIGN) : Buffer.alloc(2 * DIRECT_ALIGN);
      expected.copy(aligned, 0, 0, 2 * DIRECT_ALIGN);
      await sink.write(0, { encoding: 'raw', data: aligned });
      await sink.write(2 * DIRECT_ALIGN, { encoding: 'raw', data: Buffer.from(expected.subarray(2 * DIRECT_ALIGN, 3 * DIRECT_ALIGN)) });
      await sink.write(3 * DIRECT_ALIGN, { encoding: 'raw', data: Buffer.from(expected.subarray(3 * DIRECT_ALIGN)) });
      await sink.flush();
    } finally {
      await sink.close();
    }
    expect((await readFile(path)).equals(expected)).toBe(true);
  });
});
