/**
 * Where a byte range of a snapshot lies in its chunk table: the pieces a read needs (one per range of the
 * drive it touches, zero ranges marked), and the base:allocation extents BLOCK_STATUS reports (zero ranges
 * as holes that read as zeros, everything else as data). Pure arithmetic over the manifest's table.
 */
import { isZeroRange } from '../ops/chunk-table.js';
import { STATE_HOLE, STATE_ZERO } from './constants.js';
import type { Extent } from './transmission.js';

export interface SnapshotLayout {
  size: number;
  chunkSize: number;
  /** The manifest's table: one 32-byte id per range, all zeros for an all-zero range. */
  table: Buffer;
}

export interface Piece {
  /** Range (chunk) index in the table. */
  index: number;
  /** Where the piece starts in the export. */
  offset: number;
  /** Where the piece starts inside its range. */
  start: number;
  length: number;
  zero: boolean;
}

/** True when [offset, offset+length) is a non-empty part of the export. */
export function inBounds(size: number, offset: number, length: number): boolean {
  return length > 0 && offset >= 0 && offset + length <= size;
}

export function readPieces(layout: SnapshotLayout, offset: number, length: number): Piece[] {
  const out: Piece[] = [];
  const end = offset + length;
  for (let at = offset; at < end; ) {
    const index = Math.floor(at / layout.chunkSize);
    const start = at - index * layout.chunkSize;
    const take = Math.min(layout.chunkSize - start, end - at);
    out.push({ index, offset: at, start, length: take, zero: isZeroRange(layout.table, index) });
    at += take;
  }
  return out;
}

export const HOLE_FLAGS = STATE_HOLE | STATE_ZERO;

/** Consecutive ranges of one kind merged into one extent; only the first when `one` (NBD_CMD_FLAG_REQ_ONE). */
export function allocationExtents(layout: SnapshotLayout, offset: number, length: number, one: boolean): Extent[] {
  const out: Extent[] = [];
  for (const p of readPieces(layout, offset, length)) {
    const flags = p.zero ? HOLE_FLAGS : 0;
    const last = out[out.length - 1];
    if (last && last.flags === flags) last.length += p.length;
    else {
      if (one && last) break;
      out.push({ length: p.length, flags });
    }
  }
  return out;
}
