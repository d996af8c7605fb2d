import { DrivesnapError, errorMessage } from '../errors.js';
import type { RangeFailure } from './pipeline.js';
import { describeIndexes } from './ranges.js';

/** A job whose ranges still failed after every retry: names them and the first reason. Nothing false is committed. */
export class RangesFailedError extends DrivesnapError {
  constructor(
    readonly job: string,
    readonly failures: RangeFailure[],
    chunkSize: number,
    resumable: boolean,
  ) {
    const first = failures[0]!;
    super(
      'RANGES_FAILED',
      `${job}: ${failures.length} range(s) failed: ${describeIndexes(
        failures.map((f) => f.range.index),
        chunkSize,
      )}; first error: ${errorMessage(first.error)}${resumable ? '. Run the same command again to resume' : ''}`,
      { cause: first.error },
    );
  }
}

/**
 * The last guard before a job commits a snapshot or reports success: every range of the drive must have an
 * outcome (done now, resumed, zero, skipped). Fewer means a bug let ranges go unvisited (a NaN concurrency
 * once started no worker at all and committed an all-zero snapshot): an internal error, nothing committed.
 */
export function assertAllRangesAccounted(job: string, accounted: number, total: number): void {
  if (accounted === total) return;
  throw new DrivesnapError(
    'RANGES_UNACCOUNTED',
    `${job}: only ${accounted} of ${total} ranges were processed; nothing was committed. This is a bug in drivesnap: please report it`,
  );
}

/** Errors that will fail every range alike (auth, a missing drive, billing, a full disk): stop at once instead of trying the rest. */
export function isFatalError(err: unknown): boolean {
  const word = (err as { word?: string } | undefined)?.word;
  return word === 'auth' || word === 'missing' || word === 'billing' || word === 'full';
}

/** What a job throws when its AbortSignal fired: the signal's reason when it is ours, else INTERRUPTED (exit 130). */
export function interruptedError(signal: AbortSignal, job: string): DrivesnapError {
  if (signal.reason instanceof DrivesnapError) return signal.reason;
  return new DrivesnapError('INTERRUPTED', `${job} interrupted: run the same command again to resume`, { cause: signal.reason });
}
