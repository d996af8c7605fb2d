/**
 * Job progress: bytes done of total, and ranges counted by what happened to them. Pure bookkeeping; the
 * CLI renders it (a bar on a terminal, JSON events with --json) and the job summary reads the totals.
 */
export type RangeOutcome =
  // backup
  | 'zero' // all-zero range: recorded in the manifest, nothing stored
  | 'unchanged' // content the repository already holds
  | 'new' // stored now
  // restore / copy
  | 'in-place' // the target already held this content
  | 'written' // written to the target
  | 'zero-skipped' // all-zero range on a target known to read as zeros
  | 'resumed'; // done by an earlier, interrupted run of the same job

export interface ProgressSnapshot {
  job: string;
  bytesDone: number;
  bytesTotal: number;
  rangesDone: number;
  rangesTotal: number;
  counts: Partial<Record<RangeOutcome, number>>;
  /** Bytes read from the source, and bytes written to the sink (stored or sent, after compression). */
  bytesRead: number;
  bytesWritten: number;
  elapsedMs: number;
  /** Bytes of the drive per second, over the job so far. */
  throughput: number;
  etaMs: number | undefined;
}

export class Progress {
  private bytesDone = 0;
  private rangesDone = 0;
  private bytesRead = 0;
  private bytesWritten = 0;
  private readonly counts: Partial<Record<RangeOutcome, number>> = {};
  private readonly started: number;
  private readonly listeners: ((p: Progress) => void)[] = [];

  constructor(
    readonly job: string,
    readonly bytesTotal: number,
    readonly rangesTotal: number,
    private readonly clock: () => number = Date.now,
  ) {
    this.started = clock();
  }

  onUpdate(listener: (p: Progress) => void): void {
    this.listeners.push(listener);
  }

  range(outcome: RangeOutcome, rangeBytes: number, io: { read?: number; written?: number } = {}): void {
    this.rangesDone++;
    this.bytesDone += rangeBytes;
    this.bytesRead += io.read ?? 0;
    this.bytesWritten += io.written ?? 0;
    this.counts[outcome] = (this.counts[outcome] ?? 0) + 1;
    for (const l of this.listeners) l(this);
  }

  /** I/O that is not a finished range (e.g. reading a target range before deciding to write it). */
  io(io: { read?: number; written?: number }): void {
    this.bytesRead += io.read ?? 0;
    this.bytesWritten += io.written ?? 0;
  }

  count(outcome: RangeOutcome): number {
    return this.counts[outcome] ?? 0;
  }

  snapshot(): ProgressSnapshot {
    const elapsedMs = Math.max(1, this.clock() - this.started);
    const throughput = (this.bytesDone / elapsedMs) * 1000;
    const remaining = this.bytesTotal - this.bytesDone;
    return {
      job: this.job,
      bytesDone: this.bytesDone,
      bytesTotal: this.bytesTotal,
      rangesDone: this.rangesDone,
      rangesTotal: this.rangesTotal,
      counts: { ...this.counts },
      bytesRead: this.bytesRead,
      bytesWritten: this.bytesWritten,
      elapsedMs,
      throughput,
      etaMs: throughput > 0 ? (remaining / throughput) * 1000 : undefined,
    };
  }
}
