/**
 * The engine's one motion: run a handler over many ranges with bounded concurrency. Workers pull the next
 * range as soon as they finish one, so reads run ahead of slow writes without unbounded buffering: memory is
 * at most `concurrency` ranges in flight, whatever the drive's size. Ranges finish out of order; handlers
 * store their results by range index, so the outcome is exact and in order.
 */
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
}

export async function runRanges(
  work: Iterable<Range>,
  handler: (range: Range) => Promise<void>,
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
  const worker = async (): Promise<void> => {
    for (let range = next(); range; range = next()) {
      try {
        await handler(range);
      } catch (error) {
        failures.push({ range, error });
        if (failures.length >= maxFailures || opts.isFatal?.(error)) stop = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency) }, worker));
  return failures;
}
