/**
 * Reading a manifest's chunk table: one 32-byte chunk id per range of the drive, in drive order, 32 zero
 * bytes for a range that is all zeros. Every range is `chunkSize` long except the last when the drive size
 * is not a multiple of it.
 */
import { DrivesnapError } from '../errors.js';
import { ID_BYTES as CHUNK_ID_BYTES, rangeCount, ZERO_ID } from '../repo/format/index.js';

export { rangeCount };

export interface ChunkTable {
  table: Buffer;
  /** Drive size in bytes. */
  size: number;
  chunkSize: number;
}

/** Bytes covered by range `index`: the chunk size, or less for the last range. */
export function rangeLength(index: number, size: number, chunkSize: number): number {
  return Math.min(chunkSize, size - index * chunkSize);
}

export function isZeroRange(table: Buffer, index: number): boolean {
  const start = index * CHUNK_ID_BYTES;
  return table.compare(ZERO_ID, 0, CHUNK_ID_BYTES, start, start + CHUNK_ID_BYTES) === 0;
}

export function chunkIdHex(table: Buffer, index: number): string {
  const start = index * CHUNK_ID_BYTES;
  return table.toString('hex', start, start + CHUNK_ID_BYTES);
}

export function sameChunkId(a: Buffer, b: Buffer, index: number): boolean {
  const start = index * CHUNK_ID_BYTES;
  return a.compare(b, start, start + CHUNK_ID_BYTES, start, start + CHUNK_ID_BYTES) === 0;
}

/** A table whose length does not match its drive size is a damaged manifest: nothing computed from it holds. */
export function assertChunkTable(t: ChunkTable, label: string): void {
  if (!Number.isSafeInteger(t.chunkSize) || t.chunkSize <= 0) {
    throw new DrivesnapError('MANIFEST_INVALID', `${label}: chunk size ${t.chunkSize} is not a positive whole number`);
  }
  if (!Number.isSafeInteger(t.size) || t.size < 0) {
    throw new DrivesnapError('MANIFEST_INVALID', `${label}: drive size ${t.size} is not a whole number of bytes`);
  }
  const expected = rangeCount(t.size, t.chunkSize) * CHUNK_ID_BYTES;
  if (t.table.length !== expected) {
    throw new DrivesnapError(
      'MANIFEST_INVALID',
      `${label}: chunk table has ${t.table.length} bytes, a ${t.size}-byte drive needs ${expected}; run check`,
    );
  }
}
