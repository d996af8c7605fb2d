import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { gzipIfSmaller, looksIncompressible, SAMPLE_SLICE, SAMPLE_SLICES, sampleOffsets } from '../../src/codec/incompressible.js';
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

    it('compresses a text-like range whole after one sample slice, to a stream gunzip reads back', async () => {
      const data = textData(4 * MiB);
      const r = recording(codec);
      const out = await gzipIfSmaller(r.codec, data, 2);
      expect(r.inputs).toEqual([SAMPLE_SLICE, data.length]);
      expect(out!.length).toBeLessThan(data.length / 2);
      expect(gunzipSync(out!).equals(data)).toBe(true);
    });

    it('compresses a range that is random except where one slice lands on text', async () => {
      const data = randomBytes(4 * MiB);
      const at = sampleOffsets(data.length)[3]!;
      textData(512 * 1024).copy(data, at - 128 * 1024);
      expect(await looksIncompressible(codec, data, 2)).toBe(false);
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
