/**
 * Size and deduplication figures for `stats`, computed from the snapshots' chunk tables and the stored size
 * of each chunk object. Ratios (also in docs/retention.md, "Stats"):
 * - dedupRatio = non-zero logical bytes of all snapshots / logical bytes of the distinct chunks they use.
 *   Zero ranges are left out: they are stored as nothing, and counting them would make an empty drive look
 *   like perfect deduplication. 1 means no range is shared; 10 means each chunk is used ten times on average.
 * - compressionRatio = logical bytes of the distinct chunks that are stored / their stored bytes (gzip,
 *   headers and encryption included). Missing chunks are left out of both sides.
 * Either ratio is 1 when there is nothing to divide by (no non-zero data).
 */
import { type MadeBy, recordedStateFromExtra } from './change-detection.js';
import { assertChunkTable, chunkIdHex, isZeroRange, rangeCount, rangeLength } from './chunk-table.js';

export interface StatsInput {
  snapshots: {
    id: string;
    driveUuid: string;
    driveName: string;
    size: number;
    table: Buffer;
    /** How the snapshot was made and when its drive was last read in full (API drives: madeOf(meta)). */
    made?: MadeBy;
    fullReadAt?: string;
  }[];
  /** Bytes the chunk object takes in the store, or undefined when the repository does not hold it. */
  storedSize: (idHex: string) => number | undefined;
  chunkSize: number;
  compression?: CompressionInfo;
}

export interface RepositoryStats {
  snapshots: number;
  /** Sum of the drive sizes of all snapshots: what restoring all of them would write. */
  logicalBytes: number;
  /** Distinct non-zero chunks referenced. */
  uniqueChunks: number;
  uniqueLogicalBytes: number;
  /** Stored bytes of the distinct chunks the repository holds. */
  storedBytes: number;
  /** Bytes of all-zero ranges across all snapshots (stored as nothing). */
  zeroBytes: number;
  dedupRatio: number;
  compressionRatio: number;
  /** Distinct chunks referenced by a snapshot but absent from the repository: run check. */
  missingChunks: number;
}

export interface DriveStats {
  driveUuid: string;
  /** The name in the last snapshot listed for the drive (list oldest first to show the current name). */
  driveName: string;
  snapshots: number;
  logicalBytes: number;
  uniqueChunks: number;
  /** Chunks shared with other drives count here and there: per-drive figures do not add up to the total. */
  storedBytes: number;
  dedupRatio: number;
  /** API drives: how many snapshots read the drive in full, and how many were made from its unchanged
   * write counters plus a sample check (issue 11). Image files and older snapshots count in neither. */
  fullReads: number;
  fromCounters: number;
  /** When the drive's content was last read in full, as its newest snapshot records it (ISO 8601). */
  lastFullReadAt?: string;
}

/** The repository's compression setting, and the gzip codec this host runs it with (streams are plain gzip
 * whichever codec wrote them, so the repository does not record one). */
export interface CompressionInfo {
  type: 'gzip';
  level: number;
  /** "isal-igzip L2", "node:zlib L2". */
  codec: string;
}

export interface Stats {
  repository: RepositoryStats;
  compression?: CompressionInfo;
  /** Sorted by drive name, then uuid. */
  perDrive: DriveStats[];
}

interface Tally {
  snapshots: number;
  fullReads: number;
  fromCounters: number;
  lastFullReadAt?: string;
  logicalBytes: number;
  zeroBytes: number;
  /** Chunk id (hex) to its logical length. */
  chunks: Map<string, number>;
}

function newTally(): Tally {
  return { snapshots: 0, fullReads: 0, fromCounters: 0, logicalBytes: 0, zeroBytes: 0, chunks: new Map() };
}

function ratio(numerator: number, denominator: number): number {
  return denominator === 0 ? 1 : numerator / denominator;
}

function sumLengths(chunks: Map<string, number>): number {
  let total = 0;
  for (const length of chunks.values()) total += length;
  return total;
}

export function computeStats(input: StatsInput): Stats {
  const all = newTally();
  const drives = new Map<string, { name: string; tally: Tally }>();

  for (const snap of input.snapshots) {
    assertChunkTable({ table: snap.table, size: snap.size, chunkSize: input.chunkSize }, `snapshot ${snap.id}`);
    let drive = drives.get(snap.driveUuid);
    if (!drive) {
      drive = { name: snap.driveName, tally: newTally() };
      drives.set(snap.driveUuid, drive);
    }
    drive.name = snap.driveName;
    if (snap.made === 'full-read') drive.tally.fullReads++;
    else if (snap.made) drive.tally.fromCounters++;
    if (snap.fullReadAt && !(drive.tally.lastFullReadAt && drive.tally.lastFullReadAt > snap.fullReadAt)) drive.tally.lastFullReadAt = snap.fullReadAt;
    for (const tally of [all, drive.tally]) {
      tally.snapshots++;
      tally.logicalBytes += snap.size;
    }
    for (let i = 0; i < rangeCount(snap.size, input.chunkSize); i++) {
      const length = rangeLength(i, snap.size, input.chunkSize);
      if (isZeroRange(snap.table, i)) {
        all.zeroBytes += length;
        drive.tally.zeroBytes += length;
        continue;
      }
      const id = chunkIdHex(snap.table, i);
      if (!all.chunks.has(id)) all.chunks.set(id, length);
      if (!drive.tally.chunks.has(id)) drive.tally.chunks.set(id, length);
    }
  }

  // Ask the store once per distinct chunk; per-drive totals reuse the answers.
  const stored = new Map<string, number | undefined>();
  for (const id of all.chunks.keys()) stored.set(id, input.storedSize(id));

  let storedBytes = 0;
  let storedLogicalBytes = 0;
  let missingChunks = 0;
  for (const [id, length] of all.chunks) {
    const size = stored.get(id);
    if (size === undefined) {
      missingChunks++;
      continue;
    }
    storedBytes += size;
    storedLogicalBytes += length;
  }

  const uniqueLogicalBytes = sumLengths(all.chunks);
  const repository: RepositoryStats = {
    snapshots: all.snapshots,
    logicalBytes: all.logicalBytes,
    uniqueChunks: all.chunks.size,
    uniqueLogicalBytes,
    storedBytes,
    zeroBytes: all.zeroBytes,
    dedupRatio: ratio(all.logicalBytes - all.zeroBytes, uniqueLogicalBytes),
    compressionRatio: ratio(storedLogicalBytes, storedBytes),
    missingChunks,
  };

  const perDrive: DriveStats[] = [...drives.entries()].map(([driveUuid, { name, tally }]) => {
    let driveStored = 0;
    for (const id of tally.chunks.keys()) driveStored += stored.get(id) ?? 0;
    return {
      driveUuid,
      driveName: name,
      snapshots: tally.snapshots,
      logicalBytes: tally.logicalBytes,
      uniqueChunks: tally.chunks.size,
      storedBytes: driveStored,
      dedupRatio: ratio(tally.logicalBytes - tally.zeroBytes, sumLengths(tally.chunks)),
      fullReads: tally.fullReads,
      fromCounters: tally.fromCounters,
      ...(tally.lastFullReadAt ? { lastFullReadAt: tally.lastFullReadAt } : {}),
    };
  });
  perDrive.sort((x, y) =>
    x.driveName !== y.driveName ? (x.driveName < y.driveName ? -1 : 1) : x.driveUuid < y.driveUuid ? -1 : 1,
  );
  return input.compression ? { repository, perDrive, compression: input.compression } : { repository, perDrive };
}

/** The text line for `stats`: "compression: gzip level 2, written by this host with isal-igzip L2". */
export function compressionLine(c: CompressionInfo): string {
  return `compression: ${c.type} level ${c.level}, written by this host with ${c.codec}`;
}

/** How a snapshot was made, from its metadata (`extra.driveState`, `extra.made`); nothing for image files. */
export function madeOf(meta: unknown): { made?: MadeBy; fullReadAt?: string } {
  const extra = (meta as { extra?: Record<string, unknown> } | undefined)?.extra;
  const state = extra ? recordedStateFromExtra(extra) : undefined;
  if (!state) return {};
  return { ...(state.made ? { made: state.made } : {}), ...(state.fullReadAt ? { fullReadAt: state.fullReadAt } : {}) };
}

/** The `Made` column of `stats`: "2 full, 5 counters"; empty for a drive with neither. */
export function madeColumn(d: Pick<DriveStats, 'fullReads' | 'fromCounters'>): string {
  const parts = [];
  if (d.fullReads) parts.push(`${d.fullReads} full`);
  if (d.fromCounters) parts.push(`${d.fromCounters} counters`);
  return parts.join(', ');
}
