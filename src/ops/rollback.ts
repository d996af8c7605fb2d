/**
 * Issue 11 §2, the I/O around ./change-detection.ts for `restore SNAP --to ACCOUNT:DRIVE`: when the
 * repository holds a snapshot S of that same drive whose recorded counters and size still match the drive
 * (drive info read just now), and a sample of the drive matches S's authenticated table, the drive holds S's
 * content, so the restore writes exactly the ranges where S's and SNAP's tables differ and reads nothing
 * else from the target. Anything short of that proof: the engine's read-and-compare.
 *
 * Nothing is recorded afterwards: our own writes move the drive's write counters, so no snapshot's recorded
 * state matches the drive any more (changeReason says `written`) and the next rollback or backup reads.
 */
import type { DriveInfo } from '../api/drive-info.js';
import { interruptedError } from '../engine/errors.js';
import type { BlockSink } from '../engine/ends/types.js';
import { rangeCount } from '../engine/ranges.js';
import type { AuthenticSnapshot, JobRepository } from '../repo/interfaces.js';
import {
  type FullReadReason,
  type RecordedState,
  changeReason,
  driveStateOf,
  matchingBaseline,
  recordedStateFromExtra,
  rollbackPlan,
  sampleMatches,
  sampleRanges,
} from './change-detection.js';
import { sampleIds } from './sample-check.js';

export type ReadAndCompareReason =
  | { why: 'read-all' }
  /** The repository holds no snapshot of the target drive that recorded its state. */
  | { why: 'no-snapshot-of-target' }
  /** The target's state no longer matches any of its snapshots; `change` is against the newest. */
  | { why: 'target-changed'; snapshot: string; change: FullReadReason }
  /** S's manifest could not be read or authenticated (e.g. forgotten by another host since the index was synced). */
  | { why: 'baseline-unreadable'; snapshot: string; error: string }
  /** S and SNAP do not cover the same number of ranges. */
  | { why: 'size-differs'; snapshot: string }
  /** A sampled range of the target does not hold S's content. */
  | { why: 'sample-differs'; snapshot: string; range: number };

export type RestorePlan =
  | {
      kind: 'rollback';
      /** S: the snapshot of the target whose content the target is proven to hold. */
      baseline: string;
      sampled: number;
      /** The ranges where S and SNAP differ: the only ranges written, none read. */
      write: ReadonlySet<number>;
    }
  | { kind: 'read-and-compare'; reason: ReadAndCompareReason };

export interface PlannedRestore {
  plan: RestorePlan;
  /** Bytes read from the target for the sample check (also when it failed). */
  sampledBytes: number;
}

export interface RollbackInput {
  repo: JobRepository;
  /** The existing target drive, opened as a sink; its sample is read through it. */
  sink: Pick<BlockSink, 'read' | 'size' | 'description'>;
  /** The target's drive info, read just now (before the sample and the first write). */
  drive: DriveInfo;
  /** The API endpoint the drive lives on (snapshots of a drive of the same UUID elsewhere do not count). */
  endpoint: string;
  /** SNAP's authenticated table. */
  snapshotTable: Buffer;
  /** `--read-all`. */
  readAll?: boolean;
  /** Sampled ranges read at once. */
  concurrency?: number;
  seed?: number;
  signal?: AbortSignal;
}

/** The snapshots of the drive on this endpoint that recorded its state, newest first. */
function snapshotsOfTarget(repo: JobRepository, uuid: string, endpoint: string): { id: string; recorded: RecordedState }[] {
  const out: { id: string; recorded: RecordedState }[] = [];
  for (const row of repo.listSnapshots({ driveUuid: uuid })) {
    if (row.endpoint !== endpoint) continue;
    const recorded = recordedStateFromExtra((row.meta as { extra?: Record<string, unknown> }).extra ?? {});
    if (recorded) out.push({ id: row.id, recorded });
  }
  return out.reverse();
}

export async function planRestoreOnto(o: RollbackInput): Promise<PlannedRestore> {
  const readAndCompare = (reason: ReadAndCompareReason, sampledBytes = 0): PlannedRestore => ({
    plan: { kind: 'read-and-compare', reason },
    sampledBytes,
  });
  if (o.readAll) return readAndCompare({ why: 'read-all' });
  const { repo } = o;
  const state = driveStateOf(o.drive);
  const candidates = snapshotsOfTarget(repo, o.drive.uuid, o.endpoint);
  const newest = candidates[0];
  if (!newest) return readAndCompare({ why: 'no-snapshot-of-target' });
  const chosen = matchingBaseline(candidates, state);
  if (!chosen) return readAndCompare({ why: 'target-changed', snapshot: newest.id, change: changeReason(newest.recorded, state)! });
  // The index is a cache: the state and table trusted are the authenticated manifest's.
  let s: AuthenticSnapshot;
  try {
    s = await repo.authenticSnapshot(chosen.id);
  } catch (err) {
    // Only an optimisation: SNAP itself was authenticated, so the restore still goes the safe way.
    return readAndCompare({ why: 'baseline-unreadable', snapshot: chosen.id, error: err instanceof Error ? err.message : String(err) });
  }
  const recorded = recordedStateFromExtra(s.meta.extra);
  const change = changeReason(recorded, state);
  if (s.meta.driveUuid !== o.drive.uuid || s.meta.endpoint !== o.endpoint || change) {
    return readAndCompare({ why: 'target-changed', snapshot: s.id, change: change ?? 'no-previous' });
  }
  const plan = rollbackPlan(s.table, o.snapshotTable);
  if (plan.kind !== 'write-ranges') return readAndCompare({ why: 'size-differs', snapshot: s.id });
  const sample = sampleRanges(rangeCount(state.size, repo.chunkSize), o.seed ?? Math.floor(Math.random() * 2 ** 32));
  let sampledBytes = 0;
  let ids: { range: number; id: Buffer }[];
  try {
    const onRead = (bytes: number) => {
      sampledBytes += bytes;
    };
    ids = await sampleIds(o.sink, repo, sample, { onRead, signal: o.signal, concurrency: o.concurrency });
  } catch (err) {
    if (o.signal?.aborted) throw interruptedError(o.signal, `restore onto ${o.sink.description}`);
    throw err;
  }
  const check = sampleMatches(s.table, ids);
  if (!check.matches) return readAndCompare({ why: 'sample-differs', snapshot: s.id, range: check.range }, sampledBytes);
  return { plan: { kind: 'rollback', baseline: s.id, sampled: sample.length, write: new Set(plan.ranges) }, sampledBytes };
}

const id8 = (id: string) => id.slice(0, 8);

/** `rollback from snapshot 1a2b3c4d, 4 sampled` / `read and compare (...)`, for the summary and --json. */
export function describeRestorePlan(plan: RestorePlan): string {
  if (plan.kind === 'rollback') return `rollback from snapshot ${id8(plan.baseline)}, ${plan.sampled} sampled`;
  const r = plan.reason;
  switch (r.why) {
    case 'read-all':
      return 'read and compare (--read-all)';
    case 'no-snapshot-of-target':
      return 'read and compare (no snapshot of the target drive records its state)';
    case 'target-changed':
      return `read and compare (target ${r.change} since snapshot ${id8(r.snapshot)})`;
    case 'baseline-unreadable':
      return `read and compare (snapshot ${id8(r.snapshot)} of the target unreadable: ${r.error})`;
    case 'size-differs':
      return `read and compare (snapshot ${id8(r.snapshot)} of the target has another size)`;
    case 'sample-differs':
      return `read and compare (sampled range ${r.range} differs from snapshot ${id8(r.snapshot)})`;
  }
}
