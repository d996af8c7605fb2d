/**
 * The I/O half of issue 11's sample check (./change-detection.ts picks the ranges and compares the ids):
 * read the sampled ranges of a drive and hash them exactly as a backup hashes them. Shared by the
 * incremental backup (the source), the rollback (the restore's target) and the copy resync (both ends).
 */
import pLimit from 'p-limit';
import { isAllZero } from '../engine/codec.js';
import { rangeAt } from '../engine/ranges.js';
import { ZERO_ID } from '../repo/format/index.js';

/** Sampled ranges read at once when the caller does not say: the sample is small, the latency is not. */
export const SAMPLE_READS_IN_FLIGHT = 4;

export interface SampleEnd {
  readonly size: number;
  read(offset: number, length: number): Promise<Buffer>;
}

export interface SampleHasher {
  readonly chunkSize: number;
  chunkId(data: Uint8Array): Promise<Buffer>;
}

/**
 * The ids of the sampled ranges of `end`, in the order given (ZERO_ID for all-zero ranges), for
 * sampleMatches. `onRead` counts each range read. On the first failure or stop no further range starts;
 * the reads in flight finish before the error is thrown (a stop throws the signal's AbortError: the caller
 * turns it into its one INTERRUPTED error).
 */
export async function sampleIds(
  end: SampleEnd,
  hasher: SampleHasher,
  sample: readonly number[],
  o: { onRead?: (bytes: number) => void; signal?: AbortSignal; concurrency?: number } = {},
): Promise<{ range: number; id: Buffer }[]> {
  const limit = pLimit(Math.max(1, o.concurrency ?? SAMPLE_READS_IN_FLIGHT));
  let failure: { error: unknown } | undefined;
  const ids = await Promise.all(
    sample.map((i) =>
      limit(async () => {
        if (failure) return undefined;
        try {
          o.signal?.throwIfAborted();
          const r = rangeAt(i, end.size, hasher.chunkSize);
          const data = await end.read(r.offset, r.length);
          o.onRead?.(r.length);
          return { range: i, id: isAllZero(data) ? ZERO_ID : await hasher.chunkId(data) };
        } catch (error) {
          failure ??= { error };
          return undefined;
        }
      }),
    ),
  );
  if (failure) throw failure.error;
  return ids as { range: number; id: Buffer }[];
}
