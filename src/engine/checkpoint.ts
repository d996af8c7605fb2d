/**
 * Job checkpoints in a jobs database (a repository's index, or the user's jobs database), batched: a range
 * is recorded only after its work is durable (chunk stored and flushed, or range written), so a job killed
 * at any moment and started again redoes at most one batch.
 */
import type { CheckpointEntry } from '../repo/index-db.js';
import type { JobRecords } from '../repo/interfaces.js';

export class CheckpointWriter {
  private pending: CheckpointEntry[] = [];
  private lastFlush = Date.now();
  /** Batches waiting for `durable`, written in order; never rejects (a failure is kept in `failure`). */
  private writing: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | undefined;
  private readonly failing = new AbortController();
  /**
   * Aborted when a batch failed: the job stops starting ranges, since none it does from now on can be
   * recorded, nor (a backup's chunks) committed.
   */
  readonly failed: AbortSignal = this.failing.signal;

  /**
   * `durable`, when given, makes the work of every range recorded so far durable (a backup's batched
   * chunks); a batch is written only after it resolves.
   */
  constructor(
    private readonly records: JobRecords,
    readonly key: string,
    private readonly durable?: () => Promise<void>,
    private readonly batch = 32,
    private readonly maxDelayMs = 1000,
  ) {}

  record(range: number, id: Buffer | null): void {
    this.pending.push({ range, id });
    if (this.pending.length >= this.batch || Date.now() - this.lastFlush >= this.maxDelayMs) this.write();
  }

  /** Writes what is recorded; rejects if making any batch durable, or writing it, failed. */
  async flush(): Promise<void> {
    this.write();
    await this.writing;
    if (this.failure) throw this.failure.error;
  }

  private write(): void {
    const entries = this.pending;
    this.pending = [];
    this.lastFlush = Date.now();
    if (entries.length === 0) return;
    const durable = this.durable;
    if (!durable) {
      this.records.checkpoint(this.key, entries);
      return;
    }
    this.writing = this.writing.then(async () => {
      if (this.failure) return;
      try {
        await durable();
        this.records.checkpoint(this.key, entries);
      } catch (error) {
        this.failure = { error };
        this.failing.abort(error);
      }
    });
  }
}

/**
 * Progress of an earlier run of the same job, when it is still valid: same parameters (`info` equal on
 * every key given) — otherwise the old checkpoint is dropped and the job starts afresh.
 */
export function resumeJob(index: JobRecords, key: string, info: Record<string, unknown>): Map<number, Buffer | null> {
  const previous = index.jobInfo(key);
  if (previous && Object.entries(info).every(([k, v]) => previous[k] === v)) return index.jobProgress(key);
  if (previous) index.endJob(key);
  index.beginJob(key, info);
  return new Map();
}

/** A job's record in its jobs database: the key it is found by and the parameters a resume must match. */
export interface JobRecord {
  key: string;
  info: Record<string, unknown>;
}

/**
 * What a job that creates its target (a new drive or file) records about it, in its job record: written
 * before the target is created (`id` null) and again once it exists (`id` = the drive's UUID, the file's
 * device:inode). A rerun of the same job adopts that target, and only that one.
 */
export interface CreatedTarget {
  id: string | null;
}

export function recordCreatedTarget(index: JobRecords, job: JobRecord, target: CreatedTarget): void {
  index.beginJob(job.key, { ...job.info, createdTarget: target });
}

/** The target an earlier, interrupted run of this job (same parameters) recorded creating, if any. */
export function recalledCreatedTarget(index: JobRecords, job: JobRecord): CreatedTarget | undefined {
  const info = index.jobInfo(job.key);
  if (!info || !Object.entries(job.info).every(([k, v]) => info[k] === v)) return undefined;
  const target = info.createdTarget as CreatedTarget | undefined;
  return target && (target.id === null || typeof target.id === 'string') ? target : undefined;
}
