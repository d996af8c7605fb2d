import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { gzipIfSmaller, SAMPLE_MAX_RATIO, SAMPLE_SLICE, sampleOffsets } from '../../src/codec/incompressible.js';
import { codecOver, isalAddon, isalCodec, libdeflateLevel } from '../../src/codec/isal.js';
import { activeCodec } from '../../src/codec/active.js';
import { codecLabel } from '../../src/codec/types.js';
import { gzip, gzipCodecLabel } from '../../src/repo/format/compress.js';
import { textData } from '../repo/format/fixtures.js';
import { compressedData, MiB } from './samples.js';

// The addon deflates through the libdeflate built into it (native/libdeflate); built without it
// (DRIVESNAP_LIBDEFLATE=0 node scripts/build-native.mjs) it deflates through igzip, as before.
const withLibdeflate = isalAddon?.compressor === 'libdeflate';
if (isalAddon && !withLibdeflate) console.warn('libdeflate codec tests skipped: the addon was built with DRIVESNAP_LIBDEFLATE=0');

const REPOSITORY_LEVELS = [1, 2, 3, 4, 5, 6, 7, 8, 9];

/** Drive-like data: text with runs of zeros and a stretch of already-compressed bytes. */
function driveLike(bytes: number): Buffer {
  const data = textData(bytes);
  data.fill(0, bytes / 4, bytes / 4 + 64 * 1024);
  compressedData(bytes / 8).copy(data, bytes / 2);
  return data;
}

describe.skipIf(!withLibdeflate)('the addon built with libdeflate', () => {
  const codec = isalCodec!;
  const addon = isalAddon!;

  it('says libdeflate deflates and igzip inflates, at the repository level number', () => {
    expect(codec.name).toBe('libdeflate');
    expect(codecLabel(codec, 2)).toBe('libdeflate L2');
    expect(REPOSITORY_LEVELS.map((l) => codec.nativeLevel(l))).toEqual(REPOSITORY_LEVELS);
    expect(addon.libdeflateVersion).toMatch(/^\d+\.\d+/);
    expect(addon.maxLevel).toBe(12);
  });

  // Unless the whole suite runs with the fallback forced (DRIVESNAP_CODEC=zlib).
  it.skipIf(activeCodec() !== isalCodec)('deflates the repository levels below 3 (the default 2, drive writes at 1) through igzip, 3 and up through libdeflate', async () => {
    expect(gzipCodecLabel(1)).toBe('isal-igzip L1 + libdeflate inflate');
    expect(gzipCodecLabel(2)).toBe('isal-igzip L2 + libdeflate inflate');
    expect(gzipCodecLabel(3)).toBe('libdeflate L3');
    expect(gzipCodecLabel(9)).toBe('libdeflate L9');
    // What is stored is what each deflater writes: at 2 igzip's stream, at 3 libdeflate's (smaller).
    const data = driveLike(4 * MiB);
    expect((await gzip(data, 2)).equals((await codecOver(addon, true).gzip(data, 2))!)).toBe(true);
    expect((await gzip(data, 3)).equals((await codec.gzip(data, 3))!)).toBe(true);
    expect((await gzip(data, 3)).length).toBeLessThan((await gzip(data, 2)).length);
  });

  it('stores standard gzip at every repository level: node:zlib inflates it byte-exact, higher levels no larger', async () => {
    const data = driveLike(4 * MiB);
    const scratch = Buffer.alloc(data.length + 64);
    const sizes: number[] = [];
    for (const level of REPOSITORY_LEVELS) {
      const stream = (await gzipIfSmaller(codec, data, level, scratch))!;
      expect(stream.buffer === scratch.buffer).toBe(true);
      expect([...stream.subarray(0, 3)]).toEqual([0x1f, 0x8b, 8]);
      expect(gunzipSync(stream).equals(data)).toBe(true);
      expect((await codec.gunzip(stream, data.length)).equals(data)).toBe(true);
      sizes.push(stream.length);
    }
    expect(sizes.at(-1)!).toBeLessThanOrEqual(sizes[0]!);
    expect(sizes[1]!).toBeLessThan(data.length / 2);
  });

  it('keeps incompressible data raw (null from the addon) at every level, sampled or whole', async () => {
    const random = randomBytes(4 * MiB);
    for (const level of REPOSITORY_LEVELS) {
      expect(await gzipIfSmaller(codec, random, level, Buffer.alloc(random.length + 64))).toBeUndefined();
      expect(await gzipIfSmaller(codec, random.subarray(0, 1000), level)).toBeUndefined();
      expect(await addon.gzip(random, libdeflateLevel(level), random.length - 1)).toBeNull();
      expect(await addon.gzip(random, libdeflateLevel(level), -1, Buffer.alloc(random.length - 1))).toBeNull();
    }
  });

  it('samples through igzip, several times faster on incompressible slices: zlib -1 output stays raw, as before', async () => {
    expect(codec.sampler?.deflater).toBe('isal-igzip');
    const data = compressedData(4 * MiB);
    expect(await gzipIfSmaller(codec, data, 2)).toBeUndefined();
    // libdeflate itself would shrink a sample slice past the margin: igzip's sample is what kept it raw.
    const slices = await Promise.all(sampleOffsets(data.length).map((off) => codec.gzip(data.subarray(off, off + SAMPLE_SLICE), 2)));
    expect(Math.min(...slices.map((s) => s!.length))).toBeLessThan(SAMPLE_SLICE * SAMPLE_MAX_RATIO);
  });

  it('holds the bound to the byte: the stream at exactly maxOutput, null one byte under it', async () => {
    for (const size of [0, 100, MiB]) {
      const data = textData(size);
      const full = (await codec.gzip(data, 2))!;
      expect((await codec.gzip(data, 2, full.length))!.equals(full)).toBe(true);
      expect(await codec.gzip(data, 2, full.length - 1)).toBeUndefined();
      // Into a buffer with room past the bound, as a chunk's scratch has.
      const into = Buffer.alloc(full.length + 64);
      expect((await codec.gzip(data, 2, full.length, into))!.equals(full)).toBe(true);
      expect(await codec.gzip(data, 2, full.length - 1, into)).toBeUndefined();
      // Into a buffer of exactly the stream's length: libdeflate (1.19 on) fills it to the last byte.
      expect((await codec.gzip(data, 2, undefined, Buffer.alloc(full.length)))!.equals(full)).toBe(true);
      if (full.length > 0) expect(await codec.gzip(data, 2, undefined, Buffer.alloc(full.length - 1))).toBeUndefined();
    }
  });

  it('refuses a level outside the compressor: libdeflate 0..12, igzip 0..3', () => {
    expect(() => addon.gzip(Buffer.alloc(1), 13, -1)).toThrow('level must be an integer 0..12');
    expect(() => addon.igzip!(Buffer.alloc(1), 4, -1)).toThrow('level must be an integer 0..3');
  });

  it('still deflates through igzip on request, for the benchmarks, to standard gzip', async () => {
    const igzip = codecOver(addon, true);
    expect(codecLabel(igzip, 9)).toBe('isal-igzip L3 + libdeflate inflate');
    const data = driveLike(MiB);
    const stream = (await igzip.gzip(data, 2))!;
    expect(gunzipSync(stream).equals(data)).toBe(true);
    expect(stream.equals((await codec.gzip(data, 2))!)).toBe(false);
  });
});

describe.skipIf(!isalAddon || withLibdeflate)('the addon built without libdeflate', () => {
  it('deflates and inflates through igzip and says so, as before libdeflate', () => {
    expect(isalAddon!.compressor ?? 'isal-igzip').toBe('isal-igzip');
    expect(isalCodec!.name).toBe('isal-igzip');
    expect(codecLabel(isalCodec!, 2)).toBe('isal-igzip L2');
    expect(isalAddon!.maxLevel).toBe(3);
  });
});
