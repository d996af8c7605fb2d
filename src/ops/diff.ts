/**
 * What changed between two snapshots, from their chunk tables alone: no chunk is read. Ranges are compared
 * by position, so both snapshots must use the same chunk size.
 */
import { DrivesnapError } from '../errors.js';
import { assertChunkTable, type ChunkTable, rangeCount, rangeLength, sameChunkId } from './chunk-table.js';

export interface RangeChange {
  start: number;
  /** Exclusive, in bytes. */
  end: number;
  kind: 'changed' | 'added' | 'removed';
}

export interface TableDiff {
  /** In drive order; adjacent ranges of one kind are merged. */
  changes: RangeChange[];
  /** Range positions whose content differs in any way: changed, or present in only one snapshot. */
  changedRanges: number;
  /** Range positions with the same chunk and the same length in both. changed + unchanged = the larger count. */
  unchangedRanges: number;
  changedBytes: number;
  /** Bytes past the end of the first snapshot (the drive grew). */
  addedBytes: number;
  /** Bytes past the end of the second snapshot (the drive shrank). */
  removedBytes: number;
}

function push(changes: RangeChange[], start: number, end: number, kind: RangeChange['kind']): void {
  if (end <= start) return;
  const previous = changes[changes.length - 1];
  if (previous && previous.kind === kind && previous.end === start) previous.end = end;
  else changes.push({ start, end, kind });
}

/**
 * Compares snapshot `a` (older) with `b` (newer). Where the drive was resized, the old last range is partial
 * in one table and full in the other: its shared bytes count as changed unless both are zero ranges, since
 * two different chunk ids cannot tell us which bytes differ.
 */
export function diffTables(a: ChunkTable, b: ChunkTable): TableDiff {
  assertChunkTable(a, 'first snapshot');
  assertChunkTable(b, 'second snapshot');
  if (a.chunkSize !== b.chunkSize) {
    throw new DrivesnapError(
      'DIFF_CHUNK_SIZE_MISMATCH',
      `cannot diff snapshots with different chunk sizes (${a.chunkSize} and ${b.chunkSize} bytes)`,
    );
  }
  const chunkSize = a.chunkSize;
  const countA = rangeCount(a.size, chunkSize);
  const countB = rangeCount(b.size, chunkSize);
  const changes: RangeChange[] = [];
  let changedRanges = 0;
  let unchangedRanges = 0;

  for (let i = 0; i < Math.max(countA, countB); i++) {
    const start = i * chunkSize;
    const lengthA = i < countA ? rangeLength(i, a.size, chunkSize) : 0;
    const lengthB = i < countB ? rangeLength(i, b.size, chunkSize) : 0;
    const shared = Math.min(lengthA, lengthB);
    const sameChunk = shared > 0 && sameChunkId(a.table, b.table, i);
    if (sameChunk && lengthA === lengthB) {
      unchangedRanges++;
      continue;
    }
    changedRanges++;
    if (!sameChunk) push(changes, start, start + shared, 'changed');
    push(changes, start + lengthA, start + lengthB, 'added');
    push(changes, start + lengthB, start + lengthA, 'removed');
  }

  const total = (kind: RangeChange['kind']) =>
    changes.filter((c) => c.kind === kind).reduce((sum, c) => sum + c.end - c.start, 0);
  return {
    changes,
    changedRanges,
    unchangedRanges,
    changedBytes: total('changed'),
    addedBytes: total('added'),
    removedBytes: total('removed'),
  };
}
