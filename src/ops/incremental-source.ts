/**
 * Issue 11 §1, the I/O around ./change-detection.ts for one API drive, before the engine's backup: the
 * drive's state now (drive info read just before the first range), the decision against the newest
 * snapshot of the drive, and on `sample-check` the sampled ranges read and hashed as a backup hashes them.
 * When they match the previous snapshot's authenticated table, the new snapshot is that table, committed
 * under the repository's shared lock; otherwise the caller runs the engine's full backup.
 */
import type { DriveInfo } from '../api/drive-info.js';
import type { BlockSource } from '../engine/ends/types.js';
import { type BackupResult, type BackupTarget, backupSnapshotMeta } from '../engine/jobs/backup.js';
import { jobLock } from '../engine/job-runner.js';
import { Progress } from '../engine/progress.js';
import { rangeAt, rangeCount } from '../engine/ranges.js';
import { ID_BYTES, ZERO_ID } from '../repo/format/index.js';
import type { JobRepository } from '../repo/interfaces.js';
import {
  DEFAULT_FULL_READ_EVERY,
  type DriveState,
  type IncrementalDecision,
  type MadeBy,
  type RecordedState,
  decideIncremental,
  driveStateOf,
  recordedStateExtra,
  recordedStateFromExtra,
  sampleMatches,
} from './change-detection.js';
import { sampleIds } from './sample-check.js';

export interface IncrementalOptions {
  repo: JobRepository;
  source: BlockSource;
  target: Omit<BackupTarget, 'claimed'>;
  /** Drive info read just now, before the first range. */
  drive: DriveInfo;
  /** The drive is in use by a running server (the snapshot is crash-consistent only). */
  claimed: boolean;
  /** `--read-all`. */
  readAll?: boolean;
  /** The job file's `fullReadEvery` (default 7d). */
  fullReadEvery?: string;
  tags?: string[];
  extra?: Record<string, unknown>;
  now?: Date;
  seed?: number;
  /** The stop signal: no sampled range starts once it fires. */
  signal?: AbortSignal;
}

/** What the backup of the drive records, whichever way it is made. */
export interface IncrementalOutcome {
  decision: IncrementalDecision;
  /** The snapshot made from the previous one (sample matched); undefined: run the full backup. */
  result?: BackupResult;
  /** The `extra` keys for a full read's snapshot. */
  fullReadExtra: Record<string, unknown>;
}

/** The newest snapshot of the drive (on the same endpoint) and what it recorded of the drive. */
function previousSnapshot(repo: JobRepository, target: IncrementalOptions['target']): { id: string; recorded: RecordedState } | undefined {
  const row = repo.listSnapshots({ driveUuid: target.driveUuid }).at(-1);
  if (!row || row.endpoint !== target.endpoint) return undefined;
  const extra = (row.meta as { extra?: Record<string, unknown> }).extra ?? {};
  const recorded = recordedStateFromExtra(extra);
  return recorded ? { id: row.id, recorded } : undefined;
}

export async function incrementalBackup(o: IncrementalOptions): Promise<IncrementalOutcome> {
  const { repo } = o;
  const readAt = o.now ?? new Date();
  const state = driveStateOf(o.drive);
  const previous = previousSnapshot(repo, o.target);
  const decision = decideIncremental(previous?.recorded, state, {
    readAll: o.readAll ?? false,
    fullReadEvery: o.fullReadEvery ?? DEFAULT_FULL_READ_EVERY,
    now: readAt,
    chunkSize: repo.chunkSize,
    seed: o.seed ?? Math.floor(Math.random() * 2 ** 32),
  });
  const fullReadExtra = recordedStateExtra(state, { readAt, made: 'full-read', fullReadAt: readAt });
  if (decision.kind !== 'sample-check' || !previous) return { decision, fullReadExtra };
  const result = await commitIfSampleMatches(o, state, readAt, previous, decision.ranges);
  return { decision, fullReadExtra, result };
}

async function commitIfSampleMatches(
  o: IncrementalOptions,
  state: DriveState,
  readAt: Date,
  previous: { id: string; recorded: RecordedState },
  sample: readonly number[],
): Promise<BackupResult | undefined> {
  const { repo, source } = o;
  const chunkSize = repo.chunkSize;
  const n = rangeCount(source.size, chunkSize);
  const progress = new Progress('backup', source.size, n);
  // The shared lock, as for a backup: no prune can delete the previous snapshot's chunks until we commit.
  const lock = await jobLock(repo, o.signal, `backup of ${source.description}`);
  try {
    await repo.sync();
    // A forget may have removed it before the lock was taken: then its chunks are not proven to exist.
    if (repo.listSnapshots({ driveUuid: o.target.driveUuid }).at(-1)?.id !== previous.id) return undefined;
    const table = await repo.provenTable(previous.id);
    if (table.length !== n * ID_BYTES) return undefined;
    const sampled = await sampleIds(source, repo, sample, { onRead: (read) => progress.io({ read }), signal: o.signal });
    if (!sampleMatches(table, sampled).matches) return undefined;
    let zero = 0;
    for (let i = 0; i < n; i++) {
      const isZero = table.compare(ZERO_ID, 0, ID_BYTES, i * ID_BYTES, (i + 1) * ID_BYTES) === 0;
      if (isZero) zero++;
      progress.range(isZero ? 'zero' : 'unchanged', rangeAt(i, source.size, chunkSize).length);
    }
    const made: MadeBy = { counters: true, sampled: sample.length };
    const fullReadAt = new Date(previous.recorded.fullReadAt ?? readAt.toISOString());
    // Parent = the previous snapshot, whose table (proven against its id) names only chunks the repository holds.
    const meta = backupSnapshotMeta(
      { ...o.target, claimed: o.claimed },
      {
        size: source.size,
        chunkSize,
        tags: o.tags,
        parent: previous.id,
        counts: { zero, new: 0, reused: n - zero },
        extra: { ...o.extra, storedBytes: 0, ...recordedStateExtra(state, { readAt, made, fullReadAt }) },
      },
    );
    return { snapshotId: await repo.saveSnapshot(meta, table), progress, meta };
  } finally {
    await lock.release();
  }
}
