/**
 * The one job skeleton every range job (backup, restore, copy) runs on: resume from the job's checkpoint,
 * count progress, run the job's step over every range not done yet, checkpoint each range once its work is
 * durable, stop on abort or on a fatal error, account for every range, commit, end the job record, verify.
 * A job supplies only its step and its commit.
 *
 *   resume -> step over ranges -> flush checkpoints -> (abort? failures? unaccounted?) -> commit -> end -> verify
 *
 * On abort no new range starts; ranges in flight finish; their checkpoints are flushed; then the abort
 * reason (INTERRUPTED, exit 130) is thrown, and the caller's `finally` releases its lock. Nothing is
 * committed unless every range was accounted for.
 */
import type { JobRecords, JobRepository } from '../repo/interfaces.js';
import type { RepoLock } from '../repo/locks.js';
import { CheckpointWriter, type JobRecord, resumeJob } from './checkpoint.js';
import { DEFAULT_CONCURRENCY } from './defaults.js';
import type { BlockSink } from './ends/types.js';
import { RangesFailedError, assertAllRangesAccounted, interruptedError, isFatalError } from './errors.js';
import { SlotBuffers, runRanges } from './pipeline.js';
import { Progress, type RangeOutcome } from './progress.js';
import { type Range, rangeAt, rangeCount, ranges } from './ranges.js';
import { verifyTarget } from './jobs/verify.js';

/** What every job's caller may set: ranges in flight at once, a progress listener, the stop signal. */
export interface JobControls {
  concurrency?: number;
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
}

/** The caller's controls, and only those (a job's options hold more). */
export function jobControls(o: JobControls): JobControls {
  return { concurrency: o.concurrency, onProgress: o.onProgress, signal: o.signal };
}

/**
 * The shared lock a job holds on the repository; the job's signal ends a wait for it, thrown as the job's
 * INTERRUPTED like any other stop.
 */
export async function jobLock(repo: Pick<JobRepository, 'lock'>, signal: AbortSignal | undefined, label: string): Promise<RepoLock> {
  try {
    return await repo.lock(false, undefined, signal);
  } catch (err) {
    if (signal?.aborted) throw interruptedError(signal, label);
    throw err;
  }
}

/** What a job that writes a target (restore, copy) returns. */
export interface TargetJobResult {
  progress: Progress;
  verified?: { ranges: number };
}

export interface JobSpec extends JobControls {
  /** The progress's job name: `backup`, `restore`, `copy`. */
  kind: string;
  /** Names the job in messages: `backup of vol1`, `restore onto /tmp/x.img`. */
  label: string;
  size: number;
  chunkSize: number;
  /** Where the job's checkpoints are kept, and its record there; without them the job does not resume. */
  records?: JobRecords;
  record?: JobRecord;
  /**
   * Makes the work of every range reported done so far durable, where `done` comes before that (a backup's
   * chunks, stored batched): checkpoints are written only after it.
   */
  durable?: () => Promise<void>;
  /**
   * A sink written strictly in order (stdout): no range may be skipped, so the first failure ends the job,
   * and `abort` fails the ranges waiting behind the one that will never come instead of leaving them hung.
   */
  inOrderSink?: { abort(reason: Error): void };
}

/** What a range's step reports once the range is done (and durable): the checkpoint and the progress. */
export interface RangeDone {
  /** The chunk id a backup recorded for the range; null otherwise. */
  id?: Buffer | null;
  read?: number;
  written?: number;
}

export interface JobSteps<T> {
  /** Called for each range an earlier run finished, before any step (a backup fills its table from them). */
  resumed?: (index: number, id: Buffer | null) => void;
  /** The job's work on one range; `slot`'s buffers are the worker's own. Ends with `run.done(...)`. */
  step: (range: Range, slot: number, run: JobRun) => Promise<void>;
  /** After every range is accounted for: make the result durable (save the snapshot, flush the sink). */
  commit: (run: JobRun) => Promise<T>;
  /** Read the target back and compare each range with what it should hold. */
  verify?: { sink: Pick<BlockSink, 'read' | 'description'>; expected: (index: number, data: Buffer) => boolean | Promise<boolean> };
}

export interface JobOutcome<T> {
  progress: Progress;
  committed: T;
  verified?: { ranges: number };
}

/** The running job as its step and commit see it. */
export class JobRun {
  readonly progress: Progress;
  readonly concurrency: number;
  private readonly checkpoints: CheckpointWriter | undefined;
  private readonly buffers: SlotBuffers[] = [];

  constructor(
    readonly spec: JobSpec,
    readonly resumed: ReadonlyMap<number, Buffer | null>,
  ) {
    this.concurrency = spec.concurrency ?? DEFAULT_CONCURRENCY;
    this.progress = new Progress(spec.kind, spec.size, rangeCount(spec.size, spec.chunkSize));
    if (spec.onProgress) this.progress.onUpdate(spec.onProgress);
    for (const i of resumed.keys()) this.progress.range('resumed', rangeAt(i, spec.size, spec.chunkSize).length);
    this.checkpoints = spec.records && spec.record ? new CheckpointWriter(spec.records, spec.record.key, spec.durable) : undefined;
  }

  /** A reusable range buffer of the worker `slot`; `which` tells several per worker apart (source, target). */
  buffer(slot: number, length: number, which = 0): Buffer {
    this.buffers[which] ??= new SlotBuffers(this.spec.chunkSize);
    return this.buffers[which]!.get(slot, length);
  }

  /** A range is done and its work durable (or made so by the spec's `durable`): checkpoint it and count it. */
  done(range: Range, outcome: RangeOutcome, d: RangeDone = {}): void {
    this.checkpoints?.record(range.index, d.id ?? null);
    this.progress.range(outcome, range.length, { read: d.read, written: d.written });
  }

  /**
   * Runs `step` over `work` with the job's concurrency, abort signal and fatal-error rule; throws the abort
   * reason, or the failed ranges, once the ranges in flight have finished. Also for a job's extra passes.
   */
  async pass(work: Iterable<Range>, step: (range: Range, slot: number) => Promise<void>): Promise<void> {
    const { signal, label, chunkSize } = this.spec;
    const inOrder = this.spec.inOrderSink;
    const failed = this.checkpoints?.failed;
    const failures = await runRanges(work, step, {
      concurrency: this.concurrency,
      // A failed checkpoint batch ends the pass as an abort does: flush() below throws its error.
      signal: signal && failed ? AbortSignal.any([signal, failed]) : (signal ?? failed),
      isFatal: (e) => inOrder !== undefined || isFatalError(e),
      onFailure: inOrder && ((e) => inOrder.abort(e instanceof Error ? e : new Error(String(e)))),
    });
    await this.checkpoints?.flush();
    if (signal?.aborted) throw interruptedError(signal, label);
    if (failures.length > 0) throw new RangesFailedError(label, failures, chunkSize, this.checkpoints !== undefined);
  }
}

export async function runJob<T>(spec: JobSpec, steps: JobSteps<T>): Promise<JobOutcome<T>> {
  const { records, record } = spec;
  if (spec.signal?.aborted) throw interruptedError(spec.signal, spec.label);
  const resumed = records && record ? resumeJob(records, record.key, record.info) : new Map<number, Buffer | null>();
  for (const [i, id] of resumed) steps.resumed?.(i, id);
  const run = new JobRun(spec, resumed);
  await run.pass(ranges(spec.size, spec.chunkSize, (i) => resumed.has(i)), (r, slot) => steps.step(r, slot, run));
  assertAllRangesAccounted(spec.label, run.progress.snapshot().rangesDone, run.progress.rangesTotal);
  const committed = await steps.commit(run);
  if (records && record) records.endJob(record.key);
  const outcome: JobOutcome<T> = { progress: run.progress, committed };
  if (steps.verify) {
    const verified = await verifyTarget({
      sink: steps.verify.sink,
      size: spec.size,
      chunkSize: spec.chunkSize,
      concurrency: run.concurrency,
      expected: steps.verify.expected,
    });
    outcome.verified = { ranges: verified };
  }
  return outcome;
}

/** The job spec's part for a sink written strictly in order (stdout): see JobSpec.inOrderSink. */
export function inOrderSinkOf(sink: Pick<BlockSink, 'once' | 'abort'>): Pick<JobSpec, 'inOrderSink'> {
  const { abort } = sink;
  return sink.once && abort ? { inOrderSink: { abort: (reason) => abort.call(sink, reason) } } : {};
}
