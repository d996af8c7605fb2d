/**
 * Ranges that will not shrink (media, archives, encrypted volumes) are kept raw after compressing a sample
 * of them rather than all of them. Slices spread over the range are compressed, each bounded so the
 * compressor gives up as soon as a slice cannot beat the margin; only when no slice shrinks is the range
 * declared incompressible. Measured on the bench workload, the stored size is unchanged (test/codec/
 * measure-gzip.ts), and 1 GiB of random data encodes over 10x faster than compressing all of it. A range that shrinks anywhere in the sample is compressed whole, and kept raw
 * still when the whole does not shrink.
 */
import type { GzipCodec } from './types.js';

export const SAMPLE_SLICE = 32 * 1024;
export const SAMPLE_SLICES = 8;
/** A slice must come out at most this fraction of its length to count as shrinking. */
export const SAMPLE_MAX_RATIO = 0.97;

/** Offsets of `count` slices of `slice` bytes spread evenly over `length` bytes (first and last included). */
export function sampleOffsets(length: number, slice = SAMPLE_SLICE, count = SAMPLE_SLICES): number[] {
  if (length < slice * count * 2) return [];
  const step = (length - slice) / (count - 1);
  return Array.from({ length: count }, (_, i) => Math.round(i * step));
}

/** True when a sample of `data` shows it will not shrink; false when it might (or the range is too small to sample). */
export async function looksIncompressible(codec: GzipCodec, data: Uint8Array, level: number): Promise<boolean> {
  const offsets = sampleOffsets(data.length);
  if (offsets.length === 0) return false;
  const sampler = codec.sampler ?? codec;
  const bound = Math.floor(SAMPLE_SLICE * SAMPLE_MAX_RATIO);
  // One slice at a time: a compressible range (the common case) stops at its first slice, so the sample
  // costs it under 1% more work; only incompressible ranges pay for all the slices.
  for (const off of offsets) {
    if ((await sampler.gzip(data.subarray(off, off + SAMPLE_SLICE), level, bound)) !== undefined) return false;
  }
  return true;
}

/**
 * The gzip stream of `data` when it is shorter than `data`, else undefined (store it raw). With `scratch`
 * (reused by the caller; a stream longer than it is kept raw) the stream is written there when the codec
 * can (the addon): the result is then a view of `scratch`.
 */
export async function gzipIfSmaller(codec: GzipCodec, data: Uint8Array, level: number, scratch?: Buffer): Promise<Buffer | undefined> {
  if (await looksIncompressible(codec, data, level)) return undefined;
  // Bounded: a stream that does not fit is not shorter than the data, so it is kept raw.
  const out = await codec.gzip(data, level, data.length - 1, scratch);
  return out && out.length < data.length ? out : undefined;
}
