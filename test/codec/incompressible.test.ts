import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  gzipIfSmaller,
  POOR_RANGES_FAST_UP_TO_LEVEL,
  POOR_RATIO,
  SAMPLE_MAX_RATIO,
  SAMPLE_SLICE,
  SAMPLE_SLICES,
  sampleOffsets,
  sampleRange,
} from '../../src/codec/incompressible.js';
import { isalCodec } from '../../src/codec/isal.js';
import type { GzipCodec } from '../../src/codec/types.js';
import { zlibCodec } from '../../src/codec/zlib.js';
import { textData } from '../repo/format/fixtures.js';
import { compressedData, MiB } from './samples.js';

describe('sample offsets', () => {
  it('spreads the slices from the first byte to the last, inside the range', () => {
    const offsets = sampleOffsets(4 * MiB);
    expect(offsets).toHaveLength(SAMPLE_SLICES);
    expect(offsets[0]).toBe(0);
    expect(offsets.at(-1)).toBe(4 * MiB - SAMPLE_SLICE);
    for (let i = 1; i < offsets.length; i++) expect(offsets[i]! - offsets[i - 1]!).toBeGreaterThan(SAMPLE_SLICE);
  });

  it('takes no sample of a range too small for it to pay', () => {
    expect(sampleOffsets(SAMPLE_SLICE * SAMPLE_SLICES * 2 - 1)).toEqual([]);
    expect(sampleOffsets(0)).toEqual([]);
  });
});

/** The codec (and its sampler, when it has one), recording how many bytes each gzip call was given. */
function recording(codec: GzipCodec, inputs: number[] = []): { codec: GzipCodec; inputs: number[] } {
  const sampler = codec.sampler && recording(codec.sampler, inputs).codec;
  const gzip: GzipCodec['gzip'] = (data, level, max) => (inputs.push(data.length), codec.gzip(data, level, max));
  return { inputs, codec: { ...codec, gzip, ...(sampler && { sampler }) } };
}

describe.each([
  [isalCodec?.name ?? 'addon', isalCodec],
  ['node:zlib', zlibCodec],
])('raw-or-gzip decision on %s', (_name, maybeCodec) => {
  const codec = maybeCodec!;
  describe.skipIf(!maybeCodec)('when available', () => {
    it('keeps random and already-compressed ranges raw after compressing only the sample slices', async () => {
      for (const data of [randomBytes(4 * MiB), compressedData(4 * MiB)]) {
        const r = recording(codec);
        expect(await gzipIfSmaller(r.codec, data, 2)).toBeUndefined();
        expect(r.inputs).toEqual(Array(SAMPLE_SLICES).fill(SAMPLE_SLICE));
      }
    });

    it('compresses a text-like range whole after one sample slice (three where it estimates how well), to a stream gunzip reads back', async () => {
      const data = textData(4 * MiB);
      const r = recording(codec);
      const out = await gzipIfSmaller(r.codec, data, 2);
      const slices = codec.sampler ? 3 : 1;
      expect(r.inputs).toEqual([...Array(slices).fill(SAMPLE_SLICE), data.length]);
      expect(out!.length).toBeLessThan(data.length / 2);
      expect(gunzipSync(out!).equals(data)).toBe(true);
    });

    it('compresses a range that is random except where one slice lands on text', async () => {
      const data = randomBytes(4 * MiB);
      const at = sampleOffsets(data.length)[3]!;
      textData(512 * 1024).copy(data, at - 128 * 1024);
      expect((await sampleRange(codec, data, 2)).incompressible).toBe(false);
      const out = await gzipIfSmaller(codec, data, 2);
      expect(out!.length).toBeLessThan(data.length);
      expect(gunzipSync(out!).equals(data)).toBe(true);
    });

    it('decides small ranges by compressing them whole: raw when gzip does not shrink them', async () => {
      const r = recording(codec);
      expect(await gzipIfSmaller(r.codec, randomBytes(1000), 2)).toBeUndefined();
      expect(r.inputs).toEqual([1000]);
      expect(await gzipIfSmaller(codec, Buffer.alloc(1000), 2)).toBeDefined();
    });
  });
});

/** Three quarters random, a quarter text in every KiB: shrinks, but only to about 0.83 of its length. */
function poorData(bytes: number): Buffer {
  const text = textData(bytes);
  const random = randomBytes(bytes);
  const data = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i += 1024) {
    random.copy(data, i, i, Math.min(bytes, i + 768));
    text.copy(data, i + 768, i + 768, Math.min(bytes, i + 1024));
  }
  return data;
}

describe.skipIf(!isalCodec)('poorly compressible ranges (the addon: libdeflate, igzip as its sampler)', () => {
  const codec = isalCodec!;
  const sampler = codec.sampler!;

  it('estimates how far a range shrinks from three slices', async () => {
    const text = await sampleRange(codec, textData(4 * MiB), 3, true);
    expect(text.incompressible).toBe(false);
    expect(text.ratio!).toBeLessThan(POOR_RATIO);
    const poor = await sampleRange(codec, poorData(4 * MiB), 3, true);
    expect(poor.incompressible).toBe(false);
    expect(poor.ratio!).toBeGreaterThan(POOR_RATIO);
    expect(poor.ratio!).toBeLessThan(SAMPLE_MAX_RATIO);
    // Without the estimate a compressible range stops at its first slice, with no ratio.
    expect(await sampleRange(codec, poorData(4 * MiB), 3)).toEqual({ incompressible: false });
    expect((await sampleRange(codec, randomBytes(4 * MiB), 3, true)).incompressible).toBe(true);
  });

  it('deflates a poor range through the sampler up to level 4, through libdeflate above it', async () => {
    const data = poorData(4 * MiB);
    expect(POOR_RANGES_FAST_UP_TO_LEVEL).toBe(4);
    for (const [level, by] of [
      [3, sampler],
      [4, sampler],
      [5, codec],
      [9, codec],
    ] as const) {
      const out = (await gzipIfSmaller(codec, data, level))!;
      expect(out.equals((await by.gzip(data, level))!), `level ${level}`).toBe(true);
      expect(gunzipSync(out).equals(data)).toBe(true);
    }
    // The two deflaters write different streams of it: the check above tells them apart.
    expect((await sampler.gzip(data, 3))!.equals((await codec.gzip(data, 3))!)).toBe(false);
  });

  it('deflates a range that compresses well through libdeflate at level 3', async () => {
    const data = textData(4 * MiB);
    expect((await gzipIfSmaller(codec, data, 3))!.equals((await codec.gzip(data, 3))!)).toBe(true);
  });
});
