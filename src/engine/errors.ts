import { DrivesnapError, ExitCode, errorMessage } from '../errors.js';
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
      ExitCode.failure,
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
    ExitCode.failure,
  );
}
