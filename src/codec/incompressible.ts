/**
 * Ranges that will not shrink (media, archives, encrypted volumes) are kept raw after compressing a sample
 * of them rather than all of them. Slices spread over the range are compressed, each bounded so the
 * compressor gives up as soon as a slice cannot beat the margin; only when no slice shrinks is the range
 * declared incompressible. Measured on the bench workload, the stored size is unchanged (test/codec/
 * measure-gzip.ts), and 1 GiB of random data encodes over 10x faster than compressing all of it. A range
 * that shrinks anywhere in the sample is compressed whole, and kept raw still when the whole does not
 * shrink; one whose sample shrinks only a little is compressed by the faster sampler (POOR_RATIO).
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

/**
 * Ranges that shrink, but poorly (already-compressed data mixed with some that is not, binaries), are
 * deflated through the sampler (igzip at its best level) instead of libdeflate when their sample comes out
 * above this fraction of its length. libdeflate's lead in size is on ranges that compress well, while its
 * time per byte is highest on those that do not: on the bench workload's 4 MiB data ranges, those that
 * came out over 0.9 took 2.6x as long as those under 0.2. Measured there, at 0.55: the stored size grew
 * 0.57% (base image) and 0.32% (relayout), and a full backup took 5.81 s instead of 6.48 s (12.3 -> 10.8 s
 * of CPU; medians of 5, alternating). At 0.6 the size grew 0.36% for half the saving; at 0.5, 1.15%.
 */
export const POOR_RATIO = 0.55;
/**
 * Up to this repository level poor ranges take the sampler: libdeflate's greedy levels (3-4), whose edge on
 * them is slight. Levels 5-9 are asked for smaller chunks at any cost, and keep libdeflate for every range.
 */
export const POOR_RANGES_FAST_UP_TO_LEVEL = 4;
const ESTIMATE_SLICES = 3;

/** The order the sample's `n` slices are compressed in: the first, a middle and the last (the estimate's), then the rest. */
function sliceOrder(n: number): number[] {
  const first = [0, Math.floor((n - 1) / 2), n - 1];
  return [...first, ...Array.from({ length: n }, (_, i) => i).filter((i) => !first.includes(i))];
}

/** What a range's sample says: it will not shrink, or it may, with the estimated ratio when it was asked for. */
export interface RangeSample {
  incompressible: boolean;
  /** Mean compressed fraction of the estimate's slices (a slice that did not shrink counts as 1). */
  ratio?: number;
}

/**
 * Compresses slices of `data` one at a time through the codec's sampler. A range is incompressible when no
 * slice shrinks. Without `estimate` a compressible range (the common case) stops at its first shrinking
 * slice, so the sample costs it under 1% more work; with it, the first three slices are always compressed
 * and give `ratio`. A range too small to sample is neither (it is compressed whole).
 */
export async function sampleRange(codec: GzipCodec, data: Uint8Array, level: number, estimate = false): Promise<RangeSample> {
  const offsets = sampleOffsets(data.length);
  if (offsets.length === 0) return { incompressible: false };
  const sampler = codec.sampler ?? codec;
  const bound = Math.floor(SAMPLE_SLICE * SAMPLE_MAX_RATIO);
  const order = sliceOrder(offsets.length);
  // The answer is known once a slice has shrunk and, for the estimate, its three slices are in.
  const atLeast = estimate ? ESTIMATE_SLICES : 1;
  let shrank = false;
  let sum = 0;
  for (let k = 0; k < order.length; k++) {
    const off = offsets[order[k]!]!;
    const out = await sampler.gzip(data.subarray(off, off + SAMPLE_SLICE), level, bound);
    shrank ||= out !== undefined;
    if (k < ESTIMATE_SLICES) sum += out ? out.length / SAMPLE_SLICE : 1;
    if (shrank && k + 1 >= atLeast) return estimate ? { incompressible: false, ratio: sum / ESTIMATE_SLICES } : { incompressible: false };
  }
  return { incompressible: true };
}

/**
 * The gzip stream of `data` when it is shorter than `data`, else undefined (store it raw). With `scratch`
 * (reused by the caller; a stream longer than it is kept raw) the stream is written there when the codec
 * can (the addon): the result is then a view of `scratch`.
 */
export async function gzipIfSmaller(codec: GzipCodec, data: Uint8Array, level: number, scratch?: Buffer): Promise<Buffer | undefined> {
  const forPoor = level <= POOR_RANGES_FAST_UP_TO_LEVEL ? codec.sampler : undefined;
  const sample = await sampleRange(codec, data, level, forPoor !== undefined);
  if (sample.incompressible) return undefined;
  const deflater = forPoor && sample.ratio !== undefined && sample.ratio > POOR_RATIO ? forPoor : codec;
  // Bounded: a stream that does not fit is not shorter than the data, so it is kept raw.
  const out = await deflater.gzip(data, level, data.length - 1, scratch);
  return out && out.length < data.length ? out : undefined;
}
