/**
 * A source whose reads are held to a rate: a job file's `bandwidthLimit` paces the bytes read from the
 * drives as well as the bytes uploaded to the repository (src/store/bandwidth.ts), so a nightly run leaves
 * the provider's link to the servers. The range's length is paid before it is read (an upper bound: the
 * API may send less on the wire), with the same token bucket the store uses. Drives backed up at once
 * share one bucket (pass it instead of a rate), so the limit holds for the run, not for each drive.
 */
import type { BlockSource } from '../engine/ends/types.js';
import { TokenBucket } from '../store/bandwidth.js';
import { abortableSleep } from '../util/stop-request.js';

export function pacedSource(inner: BlockSource, rate: number | TokenBucket, signal?: AbortSignal): BlockSource {
  const bucket = typeof rate === 'number' ? new TokenBucket(rate) : rate;
  return {
    size: inner.size,
    description: inner.description,
    read: async (offset, length, into) => {
      const wait = bucket.reserve(length);
      if (wait > 0) await abortableSleep(wait, signal);
      return inner.read(offset, length, into);
    },
    close: () => inner.close(),
  };
}
