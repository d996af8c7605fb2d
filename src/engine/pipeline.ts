/**
 * The engine's one motion: run a handler over many ranges with bounded concurrency. Workers pull the next
 * range as soon as they finish one, so reads run ahead of slow writes without unbounded buffering: memory is
 * at most `concurrency` ranges in flight, whatever the drive's size. Ranges finish out of order; handlers
 * store their results by range index, so the outcome is exact and in order.
 */
import { availableParallelism } from 'node:os';
import { nativeDirectIo, nativeHash } from '../codec/active.js';
import type { Range } from './ranges.js';

export interface RangeFailure {
  range: Range;
  error: unknown;
}

export interface PipelineOptions {
  concurrency: number;
  /** Stop starting new ranges after this many failures (the job fails anyway; do not waste the user's time). */
  maxFailures?: number;
  signal?: AbortSignal;
  /** True for errors that make every other range fail too (auth, missing drive): stop at once. */
  isFatal?: (err: unknown) => boolean;
  /** Told of each failure as it happens (a stream sink frees the ranges waiting behind the failed one). */
  onFailure?: (err: unknown) => void;
}

export async function runRanges(
  work: Iterable<Range>,
  /** `slot` is the worker's number (0..concurrency-1): a worker handles one range at a time, so buffers kept per slot are never shared. */
  handler: (range: Range, slot: number) => Promise<void>,
  opts: PipelineOptions,
): Promise<RangeFailure[]> {
  const failures: RangeFailure[] = [];
  const iterator = work[Symbol.iterator]();
  const maxFailures = opts.maxFailures ?? 16;
  let stop = false;
  const next = (): Range | undefined => {
    if (stop || opts.signal?.aborted) return undefined;
    const r = iterator.next();
    return r.done ? undefined : r.value;
  };
  const worker = async (slot: number): Promise<void> => {
    for (let range = next(); range; range = next()) {
      try {
        await handler(range, slot);
      } catch (error) {
        failures.push({ range, error });
        opts.onFailure?.(error);
        if (failures.length >= maxFailures || opts.isFatal?.(error)) stop = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency) }, (_, slot) => worker(slot)));
  return failures;
}

/**
 * One reusable range buffer per worker. Allocating a fresh 4 MiB buffer per range leaves the allocator to
 * return memory when it pleases: measured here, peak RSS of a hashing loop was 185 MB with fresh buffers and
 * 79-111 MB with reused ones.
 */
export class SlotBuffers {
  private readonly buffers: Buffer[] = [];
  constructor(private readonly size: number) {}

  /** The slot's buffer, cut to `length`. Valid until the slot's handler returns. */
  get(slot: number, length: number): Buffer {
    if (length > this.size) throw new RangeError(`a slot buffer holds ${this.size} bytes, asked for ${length}`);
    let b = this.buffers[slot];
    if (!b) {
      b = rangeBuffer(this.size);
      this.buffers[slot] = b;
    }
    return b.subarray(0, length);
  }
}

/**
 * With the addon, page-aligned memory, so a file sink can write the range with O_DIRECT
 * (./ends/direct-writes.ts) while the addon hashes it in place. Without it, shared memory: the hash pool's
 * workers hash the range in place (src/hashing).
 */
function rangeBuffer(size: number): Buffer {
  const direct = nativeHash() && nativeDirectIo();
  return direct ? direct.alignedBuffer(size) : Buffer.from(new SharedArrayBuffer(size));
}

/**
 * How many thread-pool steps (gzip, gunzip, AES-GCM) may run at once: twice the cores keeps the pool busy;
 * more only holds more working copies of ranges in memory while they queue for a core.
 */
export function cpuSlots(): number {
  return Math.max(2, availableParallelism() * 2);
}
