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
