/**
 * Issue 11 §2, a repeated `copy` between the same two API drives (a migration's final short sync): the I/O
 * around resyncPlan (./change-detection.ts). The copy keeps a CopyRecord (./copy-record-store.ts); the next
 * copy between the same drives reads both drives' counters, and when the target's did not move since (and
 * a sample of its ranges still hashes as the record says) it does not read the target at all:
 *   copy-ranges  the source's content is known too (its counters did not move since the record, or since
 *                a snapshot of it): after a sample of the source, only the ranges where that content and
 *                the target's differ are read and written;
 *   read-source  the source changed: it is read once and hashed, and written where it differs;
 *   full-compare anything unproven (no record, target written, a sample that differs, --compare-all):
 *                today's copy, reading both drives.
 * After the copy the record is kept again: the source as read before the first range, the target as its
 * counters show it after our writes (stateAfterOurWrites), and the ids of what was copied.
 *
 * Those ids cost the copy a hash of every byte it reads, so ranges are hashed only when a record can come
 * of it (the target reports counters that can later prove it untouched, the source is not being imaged).
 * A full copy (new-target, full-compare) whose source still matches a snapshot of it takes the ids from
 * that snapshot and hashes only a sample of the ranges it reads; the record is then kept only if the
 * sample agrees and the source was not written while it was read.
 */
import type { DriveInfo } from '../api/drive-info.js';
import type { BlockSink, BlockSource } from '../engine/ends/types.js';
import type { CopyResult } from '../engine/jobs/copy.js';
import type { JobRecords } from '../repo/interfaces.js';
import { ID_BYTES } from '../repo/format/index.js';
import {
  type CopyRecord,
  type DriveState,
  type RecordedState,
  type SourceBaseline,
  changeReason,
  driveStateOf,
  matchingBaseline,
  resyncPlan,
  sampleMatches,
  sampleRanges,
  stateAfterOurWrites,
} from './change-detection.js';
import { type DriveKey, forgetCopyRecord, loadCopyRecord, saveCopyRecord } from './copy-record-store.js';
import { sampleIds } from './sample-check.js';

/** How this copy goes about it, for the summary and --json. */
export type CopyPlan =
  | { kind: 'new-target' }
  | { kind: 'full-compare'; reason: string }
  | { kind: 'copy-ranges'; ranges: number[]; targetTable: Buffer; sampled: number; baseline: 'copy' | 'snapshot' }
  | { kind: 'read-source'; targetTable: Buffer; sampled: number };

/** One API drive end of the copy. */
export interface ApiDriveEnd {
  api: { readonly url: string; driveInfo(uuid: string): Promise<DriveInfo> };
  uuid: string;
}

export interface DriveCopyInput {
  records: JobRecords;
  source: ApiDriveEnd & { reader: Pick<BlockSource, 'read' | 'size'> };
  target: ApiDriveEnd & { reader: Pick<BlockSink, 'read'> };
  chunkSize: number;
  /** This run created the target: it reads as zeros, nothing to plan. */
  created: boolean;
  /** `--compare-all`. */
  compareAll: boolean;
  /** The copy's range ids, in `form` (./copy-record-store.ts): what its record's table holds. */
  hash: (data: Buffer) => Promise<Buffer>;
  form: string;
  /** Other known contents of the source in `form` (e.g. its snapshot in a repository), asked for only when the source changed since the record. */
  baselines?: (source: DriveState) => Promise<SourceBaseline[]>;
  seed?: number;
  signal?: AbortSignal;
  now?: () => Date;
}

/**
 * What the copy engine is told: how to hash (absent: no record can come of this copy, nothing is hashed),
 * what the target holds when that is known, or what the source holds and which ranges to check it by.
 */
export interface CopyDirections {
  hash?: (data: Buffer) => Promise<Buffer>;
  targetTable?: Buffer;
  only?: ReadonlySet<number>;
  sourceTable?: Buffer;
  check?: ReadonlySet<number>;
}

/** Where the ids of a copy's table came from: hashed from every range read, a snapshot of the source checked by a sample, or none kept. */
export type RangeIds = 'hashed' | 'snapshot' | 'none';

export interface DriveCopyOutcome {
  plan: CopyPlan;
  result: CopyResult;
  /** Bytes read by the sample checks (both drives), on top of the copy's own. */
  sampledBytes: number;
  /** A record was kept for the next copy between these drives. */
  recorded: boolean;
  rangeIds: RangeIds;
}

/**
 * Whether a record of this copy could ever serve: only a target whose counters show it untouched is trusted
 * to hold the record's table, and a source being imaged holds nothing its counters vouch for. Otherwise the
 * copy hashes nothing, and needs no repository to hash as.
 */
export function recordPossible(source: DriveState, target: DriveState): boolean {
  return target.counters !== undefined && !source.imaging;
}

function keyOf(end: ApiDriveEnd): DriveKey {
  return { endpoint: end.api.url, uuid: end.uuid };
}

function recordedOf(state: DriveState, readAt: Date): RecordedState {
  const out: RecordedState = { size: state.size, readAt: readAt.toISOString() };
  if (state.counters) out.counters = { ...state.counters };
  if (state.imagingMarker !== undefined) out.imagingMarker = state.imagingMarker;
  return out;
}

/** Plans, runs `runCopy` as planned, and keeps the record for the next copy. */
export async function copyBetweenDrives(o: DriveCopyInput, runCopy: (d: CopyDirections) => Promise<CopyResult>): Promise<DriveCopyOutcome> {
  const now = o.now ?? (() => new Date());
  const readAt = now();
  // The source as it is before the first range: what the record will say the copied content belongs to.
  const sourceState = driveStateOf(await o.source.api.driveInfo(o.source.uuid));
  const sampled = { bytes: 0 };
  // Asked once at most: planning may want them (read-source) and then fall back to a full compare.
  let baselines: Promise<SourceBaseline[]> | undefined;
  const known = { ...o, baselines: o.baselines && (() => (baselines ??= o.baselines!(sourceState))) };
  const plan = await planCopy(known, sourceState, sampled);
  // The target's counters just before our first write: they must move by exactly our writes.
  const targetBefore = driveStateOf(await o.target.api.driveInfo(o.target.uuid));
  const directions: CopyDirections = {};
  let believed = false;
  if (plan.kind === 'copy-ranges' || plan.kind === 'read-source') {
    directions.hash = o.hash;
    directions.targetTable = plan.targetTable;
    if (plan.kind === 'copy-ranges') directions.only = new Set(plan.ranges);
  } else if (recordPossible(sourceState, targetBefore)) {
    directions.hash = o.hash;
    const belief = known.baselines && (await sourceBelief(o, await known.baselines(), sourceState));
    if (belief) {
      Object.assign(directions, belief);
      believed = true;
    }
  }
  const result = await runCopy(directions);
  const recorded = await keepRecord(o, { sourceState, readAt, targetBefore, result, now, believed });
  const rangeIds: RangeIds = !recorded ? 'none' : believed ? 'snapshot' : 'hashed';
  return { plan, result, sampledBytes: sampled.bytes, recorded, rangeIds };
}

/** The newest baseline whose recorded state the source still matches, with the ranges to check it by. */
async function sourceBelief(
  o: DriveCopyInput,
  baselines: SourceBaseline[],
  source: DriveState,
): Promise<Pick<CopyDirections, 'sourceTable' | 'check'> | undefined> {
  const ranges = Math.ceil(o.source.reader.size / o.chunkSize);
  const baseline = matchingBaseline(
    baselines.filter((b) => b.table.length === ranges * ID_BYTES),
    source,
  );
  if (!baseline) return undefined;
  return { sourceTable: baseline.table, check: new Set(sampleRanges(ranges, o.seed ?? Math.floor(Math.random() * 2 ** 32))) };
}

async function planCopy(o: DriveCopyInput, source: DriveState, sampled: { bytes: number }): Promise<CopyPlan> {
  if (o.created) return { kind: 'new-target' };
  if (o.compareAll) return { kind: 'full-compare', reason: 'compare-all' };
  const record = loadCopyRecord(o.records, keyOf(o.source), keyOf(o.target), o);
  const target = driveStateOf(await o.target.api.driveInfo(o.target.uuid));
  const input = {
    record,
    sourceUuid: o.source.uuid,
    targetUuid: o.target.uuid,
    source,
    target,
    chunkSize: o.chunkSize,
    seed: o.seed ?? Math.floor(Math.random() * 2 ** 32),
  };
  let plan = resyncPlan(input);
  let baseline: 'copy' | 'snapshot' = 'copy';
  if (plan.kind === 'read-source' && o.baselines) {
    const baselines = await o.baselines(source);
    if (baselines.length > 0) {
      plan = resyncPlan({ ...input, baselines });
      baseline = 'snapshot';
    }
  }
  if (plan.kind === 'full-compare') return plan;
  const size = o.source.reader.size;
  const hasher = { chunkSize: o.chunkSize, chunkId: o.hash };
  const sampleOptions = {
    onRead: (bytes: number) => {
      sampled.bytes += bytes;
    },
    signal: o.signal,
  };
  const targetSample = await sampleIds({ size, read: (off, len) => o.target.reader.read(off, len) }, hasher, plan.targetSample, sampleOptions);
  if (!sampleMatches(record!.table, targetSample).matches) return { kind: 'full-compare', reason: 'target-sample-differs' };
  if (plan.kind === 'read-source') return { kind: 'read-source', targetTable: record!.table, sampled: plan.targetSample.length };
  const sourceSample = await sampleIds({ size, read: (off, len) => o.source.reader.read(off, len) }, hasher, plan.sourceSample, sampleOptions);
  if (!sampleMatches(plan.sourceTable, sourceSample).matches) return { kind: 'full-compare', reason: 'source-sample-differs' };
  return {
    kind: 'copy-ranges',
    ranges: plan.ranges,
    targetTable: record!.table,
    sampled: plan.targetSample.length + plan.sourceSample.length,
    baseline,
  };
}

async function keepRecord(
  o: DriveCopyInput,
  c: { sourceState: DriveState; readAt: Date; targetBefore: DriveState; result: CopyResult; now: () => Date; believed: boolean },
): Promise<boolean> {
  const source = keyOf(o.source);
  const target = keyOf(o.target);
  // An imaging job was writing into the source: what we read is no content its counters can vouch for.
  // Ids taken from a snapshot hold for what we read only if nothing wrote into the source while we read it.
  if (
    !c.result.table ||
    c.sourceState.imaging ||
    c.sourceState.size !== o.source.reader.size ||
    (c.believed && changeReason(recordedOf(c.sourceState, c.readAt), driveStateOf(await o.source.api.driveInfo(o.source.uuid))) !== undefined)
  ) {
    forgetCopyRecord(o.records, source, target);
    return false;
  }
  const after = driveStateOf(await o.target.api.driveInfo(o.target.uuid));
  const targetState = stateAfterOurWrites(c.targetBefore, after, c.result.wrote);
  const record: CopyRecord = {
    sourceUuid: o.source.uuid,
    targetUuid: o.target.uuid,
    source: recordedOf(c.sourceState, c.readAt),
    target: recordedOf(targetState, c.now()),
    table: c.result.table,
  };
  saveCopyRecord(o.records, source, target, o, record);
  return true;
}

/** `copy-ranges (3 ranges from the copy record, 20 sampled)`, for the summary. */
export function describeCopyPlan(plan: CopyPlan): string {
  switch (plan.kind) {
    case 'new-target':
      return 'new target';
    case 'full-compare':
      return `full compare (${plan.reason})`;
    case 'copy-ranges':
      return `copy-ranges (${plan.ranges.length} ranges changed since the ${plan.baseline === 'copy' ? 'last copy' : 'source snapshot'}, ${plan.sampled} sampled)`;
    case 'read-source':
      return `read-source (target unchanged since the last copy, ${plan.sampled} sampled)`;
  }
}

/** The plan for --json: no tables. */
export function copyPlanJson(plan: CopyPlan): Record<string, unknown> {
  switch (plan.kind) {
    case 'new-target':
      return { kind: plan.kind };
    case 'full-compare':
      return { kind: plan.kind, reason: plan.reason };
    case 'copy-ranges':
      return { kind: plan.kind, ranges: plan.ranges.length, sampled: plan.sampled, baseline: plan.baseline };
    case 'read-source':
      return { kind: plan.kind, sampled: plan.sampled };
  }
}
