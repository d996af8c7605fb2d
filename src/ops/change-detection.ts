/**
 * Whether a drive can have changed since drivesnap last knew its content (issue 11 §1, §2), from the drive
 * API's cumulative I/O counters and the manifests already held. Pure: the caller reads drive info, reads and
 * hashes the sampled ranges, and passes the clock and the seed.
 *
 * The signal is coarse but one-sided: any write moves `write:bytes`/`write:requests`, so unchanged write
 * counters (and size) mean the content is what it was when they were read. Everything we cannot prove
 * (missing counters, counters that went down — a reset or another drive behind the same UUID —, an imaging
 * job in progress, a different imaging marker) means "changed". A sample of ranges (first, last, a few at
 * random) is still read and compared, which catches a drive whose content changed without its counters
 * moving (re-imaged behind our back on a server that resets or fakes counters).
 *
 * Recorded in a snapshot's `meta.extra` (free-form, so no format change and older readers ignore it):
 *   extra.driveState = { size, readBytes?, readRequests?, writeBytes?, writeRequests?, readAt, imagingMarker? }
 *   extra.made       = 'full-read' | { counters: true, sampled: N }
 *   extra.fullReadAt = ISO time of the last full read this snapshot descends from (its own time when made
 *                      is 'full-read'), so the periodic policy needs no walk up the parents.
 */
import { z } from 'zod';
import type { IoCounters } from '../api/drive-info.js';
import { ID_BYTES } from '../repo/format/ids.js';
import { seededRandom } from '../util/prng.js';
import { isDue } from './cadence.js';

/** A drive as seen now (from drive info) or as it was when a snapshot or a copy started. */
export interface DriveState {
  size: number;
  /** All four counters, or undefined when the server did not send them all (DriveInfo.ioCounters). */
  counters?: IoCounters;
  /** Set while an imaging job writes into the drive (DriveInfo.imaging): content is moving. */
  imaging?: boolean;
  /** A server-provided "imaged at/by" mark, if one is ever available; compared for equality only. */
  imagingMarker?: string;
}

/** How a snapshot was made, for `snapshots`, `stats` and `--json`. */
export type MadeBy = 'full-read' | { counters: true; sampled: number };

/** What a snapshot (or a copy record) remembers of its source drive. */
export interface RecordedState {
  size: number;
  counters?: IoCounters;
  imagingMarker?: string;
  /** When the counters were read (just before the first range), ISO 8601. */
  readAt: string;
  /** When the content was last read in full (this or an ancestor snapshot), ISO 8601. */
  fullReadAt?: string;
  made?: MadeBy;
}

/** Default for the job file's `fullReadEvery`. */
export const DEFAULT_FULL_READ_EVERY = '7d';
/** The sample: first + last + k random, k = clamp(ceil(0.5% of ranges), 2, 16). */
export const SAMPLE_FRACTION = 0.005;
export const SAMPLE_MIN_RANDOM = 2;
export const SAMPLE_MAX_RANDOM = 16;

export type FullReadReason =
  | 'no-previous'
  | 'counters-missing'
  | 'counters-went-down'
  | 'size-changed'
  | 'written'
  | 'imaging'
  | 'imaged-since'
  | 'read-all'
  | 'full-read-due';

export type IncrementalDecision = { kind: 'full-read'; reason: FullReadReason } | { kind: 'sample-check'; ranges: number[] };

export interface IncrementalPolicy {
  /** `--read-all`. */
  readAll: boolean;
  /** A duration (`7d`, calendar arithmetic in UTC as for prune/check) or milliseconds. */
  fullReadEvery: string | number;
  /** Overrides the recorded `fullReadAt` (e.g. from the index). */
  lastFullReadAt?: Date;
  now: Date;
  /** Bytes per range (the repository's chunk size). */
  chunkSize: number;
  /** Seeds the random part of the sample; e.g. derived from the drive UUID and the time. */
  seed: number;
}

/**
 * Why the drive may have changed between `previous` and `now`, or undefined when the counters prove it did
 * not. Read counters may only grow (our own reads move them); write counters must not move at all.
 */
export function changeReason(previous: RecordedState | undefined, now: DriveState): FullReadReason | undefined {
  if (!previous) return 'no-previous';
  if (now.imaging) return 'imaging';
  if (previous.size !== now.size) return 'size-changed';
  const before = previous.counters;
  const after = now.counters;
  if (!before || !after) return 'counters-missing';
  if (
    after.readBytes < before.readBytes ||
    after.readRequests < before.readRequests ||
    after.writeBytes < before.writeBytes ||
    after.writeRequests < before.writeRequests
  ) {
    return 'counters-went-down';
  }
  if (previous.imagingMarker !== now.imagingMarker) return 'imaged-since';
  if (after.writeBytes !== before.writeBytes || after.writeRequests !== before.writeRequests) return 'written';
  return undefined;
}

function fullReadDue(previous: RecordedState, policy: IncrementalPolicy): boolean {
  const last = policy.lastFullReadAt?.toISOString() ?? previous.fullReadAt;
  if (typeof policy.fullReadEvery === 'string') return isDue(last, policy.fullReadEvery, policy.now);
  if (last === undefined) return true;
  const lastMs = new Date(last).getTime();
  return Number.isNaN(lastMs) || lastMs + policy.fullReadEvery <= policy.now.getTime();
}

/** Backup of a drive that has a previous snapshot in this repository: read it all, or sample-check it. */
export function decideIncremental(previous: RecordedState | undefined, now: DriveState, policy: IncrementalPolicy): IncrementalDecision {
  const reason = changeReason(previous, now);
  if (reason) return { kind: 'full-read', reason };
  if (policy.readAll) return { kind: 'full-read', reason: 'read-all' };
  if (fullReadDue(previous!, policy)) return { kind: 'full-read', reason: 'full-read-due' };
  return { kind: 'sample-check', ranges: sampleRanges(rangesOf(now.size, policy.chunkSize), policy.seed) };
}

function rangesOf(size: number, chunkSize: number): number {
  return Math.ceil(size / chunkSize);
}

/** How many random ranges join the first and the last. */
export function sampleSize(rangeCount: number): number {
  return Math.min(SAMPLE_MAX_RANDOM, Math.max(SAMPLE_MIN_RANDOM, Math.ceil(rangeCount * SAMPLE_FRACTION)));
}

/**
 * First, last and sampleSize(n) distinct random ranges between them, ascending; every range when the drive
 * has no more than that. The same seed gives the same sample (a partial Fisher-Yates over the middle ranges,
 * so the work is bounded by the sample, not by the drive).
 */
export function sampleRanges(rangeCount: number, seed: number): number[] {
  const middle = rangeCount - 2;
  const k = sampleSize(rangeCount);
  if (middle <= k) return Array.from({ length: rangeCount }, (_, i) => i);
  const random = seededRandom(seed);
  const swapped = new Map<number, number>();
  const picked: number[] = [];
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (middle - i));
    const atJ = swapped.get(j) ?? j;
    swapped.set(j, swapped.get(i) ?? i);
    picked.push(atJ + 1);
  }
  return [0, ...picked.sort((a, b) => a - b), rangeCount - 1];
}

export type SampleResult = { matches: true } | { matches: false; range: number; reason: 'differs' | 'out-of-table' };

/**
 * Compares the ids of the ranges just read (hashed exactly as a backup hashes them, ZERO_ID for all-zero
 * ranges) with the manifest's table; the first difference, in the order given, means "read it all".
 */
export function sampleMatches(table: Buffer, sampled: ReadonlyArray<{ range: number; id: Buffer }>): SampleResult {
  for (const { range, id } of sampled) {
    const start = range * ID_BYTES;
    if (range < 0 || start + ID_BYTES > table.length) return { matches: false, range, reason: 'out-of-table' };
    if (!id.equals(table.subarray(start, start + ID_BYTES))) return { matches: false, range, reason: 'differs' };
  }
  return { matches: true };
}

/** The ranges whose ids differ between two tables of the same drive size, ascending. */
export function differingRanges(a: Buffer, b: Buffer): number[] {
  if (a.length !== b.length || a.length % ID_BYTES !== 0) throw new RangeError('differingRanges needs two tables of the same length');
  const out: number[] = [];
  for (let i = 0, at = 0; at < a.length; i++, at += ID_BYTES) {
    if (a.compare(b, at, at + ID_BYTES, at, at + ID_BYTES) !== 0) out.push(i);
  }
  return out;
}

export type RollbackPlan = { kind: 'write-ranges'; ranges: number[] } | { kind: 'full-compare'; reason: 'size-differs' };

/**
 * Rollback of a drive whose content is proven to be snapshot S's (`targetTable`, via decideIncremental and a
 * passing sample check) to snapshot SNAP (`snapshotTable`): write only where the manifests differ.
 */
export function rollbackPlan(targetTable: Buffer, snapshotTable: Buffer): RollbackPlan {
  if (targetTable.length !== snapshotTable.length) return { kind: 'full-compare', reason: 'size-differs' };
  return { kind: 'write-ranges', ranges: differingRanges(targetTable, snapshotTable) };
}

/**
 * The drive's state to record after we wrote into it (copy, rollback): the counters read after the last
 * write, but only when they moved by exactly what we wrote since the counters read before the first write.
 * Anything else means another writer (or a retried write we cannot account for): record no counters, so the
 * next run compares in full rather than trusting a state it cannot prove.
 */
export function stateAfterOurWrites(before: DriveState, after: DriveState, wrote: { bytes: number; requests: number }): DriveState {
  const b = before.counters;
  const a = after.counters;
  const exact =
    b &&
    a &&
    !after.imaging &&
    before.size === after.size &&
    before.imagingMarker === after.imagingMarker &&
    a.writeBytes - b.writeBytes === wrote.bytes &&
    a.writeRequests - b.writeRequests === wrote.requests &&
    a.readBytes >= b.readBytes &&
    a.readRequests >= b.readRequests;
  const state: DriveState = { size: after.size };
  if (exact) state.counters = { ...a };
  if (after.imagingMarker !== undefined) state.imagingMarker = after.imagingMarker;
  return state;
}

/**
 * The first candidate (newest first) whose recorded state proves the drive still holds its content: for a
 * backup, the drive's latest snapshot; for a rollback, the latest snapshot of the target drive; for a
 * resync, the copy record or a snapshot of the source. The caller still runs the sample check against it.
 */
export function matchingBaseline<T extends { recorded: RecordedState }>(candidates: readonly T[], now: DriveState): T | undefined {
  return candidates.find((c) => changeReason(c.recorded, now) === undefined);
}

/** What `copy SRC DST` keeps for its next run between the same two drives. */
export interface CopyRecord {
  sourceUuid: string;
  targetUuid: string;
  /** The source as read before the first range. */
  source: RecordedState;
  /** The target after the copy (stateAfterOurWrites): no counters means "compare in full next time". */
  target: RecordedState;
  /** The ids of what was copied: the target's content after the copy. */
  table: Buffer;
}

/** A known content of the source: the copy record's own, or a snapshot of the source in a repository. */
export interface SourceBaseline {
  recorded: RecordedState;
  table: Buffer;
}

export type ResyncPlan =
  | { kind: 'full-compare'; reason: 'no-record' | 'other-drives' | 'size-differs' | `target-${FullReadReason}` }
  /** Source content known without reading it: sample both, then copy just `ranges` (maybe none). */
  | { kind: 'copy-ranges'; ranges: number[]; sourceTable: Buffer; sourceSample: number[]; targetSample: number[] }
  /** Source changed and no baseline proves its content: read it all, hash, write where it differs from `targetTable`; the target is not read beyond its sample. */
  | { kind: 'read-source'; targetTable: Buffer; targetSample: number[] };

/**
 * A repeated `copy` between the same two drives. The target is trusted to hold `record.table` only when its
 * counters did not move since the copy; the source's content is known without reading it when a baseline's
 * recorded state still matches it (the record itself, or a later snapshot of the source).
 */
export function resyncPlan(input: {
  record: CopyRecord | undefined;
  sourceUuid: string;
  targetUuid: string;
  source: DriveState;
  target: DriveState;
  /** Other known contents of the source (newest first), e.g. its latest snapshot in the job's repository. */
  baselines?: SourceBaseline[];
  chunkSize: number;
  seed: number;
}): ResyncPlan {
  const { record } = input;
  if (!record) return { kind: 'full-compare', reason: 'no-record' };
  if (record.sourceUuid !== input.sourceUuid || record.targetUuid !== input.targetUuid) return { kind: 'full-compare', reason: 'other-drives' };
  if (input.source.size !== input.target.size) return { kind: 'full-compare', reason: 'size-differs' };
  const targetReason = changeReason(record.target, input.target);
  if (targetReason) return { kind: 'full-compare', reason: `target-${targetReason}` };
  const ranges = rangesOf(input.target.size, input.chunkSize);
  const targetSample = sampleRanges(ranges, input.seed);
  const candidates: SourceBaseline[] = [{ recorded: record.source, table: record.table }, ...(input.baselines ?? [])];
  const baseline = matchingBaseline(
    candidates.filter((c) => c.table.length === record.table.length),
    input.source,
  );
  if (!baseline) return { kind: 'read-source', targetTable: record.table, targetSample };
  return {
    kind: 'copy-ranges',
    ranges: differingRanges(record.table, baseline.table),
    sourceTable: baseline.table,
    // A different seed, so a fault that lines up with one sample is not hidden by the other.
    sourceSample: sampleRanges(ranges, input.seed ^ 0x5bd1e995),
    targetSample,
  };
}

// ---- storage in a snapshot's meta.extra -----------------------------------------------------------------

const counter = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const storedSchema = z.object({
  size: counter,
  readBytes: counter.optional(),
  readRequests: counter.optional(),
  writeBytes: counter.optional(),
  writeRequests: counter.optional(),
  readAt: z.string(),
  imagingMarker: z.string().optional(),
});
const madeSchema = z.union([z.literal('full-read'), z.object({ counters: z.literal(true), sampled: z.number().int().min(0) })]);

/** The `extra` keys a new snapshot records: merge into the backup's `extra`. */
export function recordedStateExtra(state: DriveState, o: { readAt: Date; made: MadeBy; fullReadAt: Date }): Record<string, unknown> {
  const driveState: Record<string, unknown> = { size: state.size };
  if (state.counters) Object.assign(driveState, state.counters);
  driveState.readAt = o.readAt.toISOString();
  if (state.imagingMarker !== undefined) driveState.imagingMarker = state.imagingMarker;
  return { driveState, made: o.made, fullReadAt: o.fullReadAt.toISOString() };
}

/** A snapshot's recorded state, or undefined when it has none (older snapshots) or it is malformed. */
export function recordedStateFromExtra(extra: Record<string, unknown>): RecordedState | undefined {
  const parsed = storedSchema.safeParse(extra.driveState);
  if (!parsed.success) return undefined;
  const s = parsed.data;
  const state: RecordedState = { size: s.size, readAt: s.readAt };
  // Never a partial set: one missing counter makes them all unknown, as DriveInfo.ioCounters does.
  if (s.readBytes !== undefined && s.readRequests !== undefined && s.writeBytes !== undefined && s.writeRequests !== undefined) {
    state.counters = { readBytes: s.readBytes, readRequests: s.readRequests, writeBytes: s.writeBytes, writeRequests: s.writeRequests };
  }
  if (s.imagingMarker !== undefined) state.imagingMarker = s.imagingMarker;
  if (typeof extra.fullReadAt === 'string') state.fullReadAt = extra.fullReadAt;
  const made = madeSchema.safeParse(extra.made);
  if (made.success) state.made = made.data;
  return state;
}

/** `full read` / `counters + 5 sampled`, for `snapshots` and `stats`; undefined for older snapshots. */
export function describeMadeBy(made: MadeBy | undefined): string | undefined {
  if (made === undefined) return undefined;
  return made === 'full-read' ? 'full read' : `counters + ${made.sampled} sampled`;
}

/** The state of a drive as drive info shows it now. */
export function driveStateOf(info: { size: number; ioCounters?: IoCounters; imaging?: unknown }): DriveState {
  const state: DriveState = { size: info.size };
  if (info.ioCounters) state.counters = { ...info.ioCounters };
  if (info.imaging !== undefined) state.imaging = true;
  return state;
}
