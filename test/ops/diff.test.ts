import { describe, expect, it } from 'vitest';
import { DrivesnapError } from '../../src/errors.js';
import { diffTables } from '../../src/ops/diff.js';
import { MiB } from '../../src/util/size.js';
import { table } from './tables.js';

const cs = 4; // a 4-byte chunk size keeps the byte arithmetic readable

describe('diffTables', () => {
  it('reports nothing for identical snapshots', () => {
    const a = { table: table(1, 2, 0), size: 10, chunkSize: cs };
    expect(diffTables(a, { ...a, table: table(1, 2, 0) })).toEqual({
      changes: [],
      changedRanges: 0,
      unchangedRanges: 3,
      changedBytes: 0,
      addedBytes: 0,
      removedBytes: 0,
    });
  });

  it('merges adjacent changed ranges and keeps separate ones apart', () => {
    const a = { table: table(1, 2, 3, 4, 5), size: 20, chunkSize: cs };
    const b = { table: table(1, 9, 9, 4, 0), size: 20, chunkSize: cs };
    expect(diffTables(a, b)).toMatchObject({
      changes: [
        { start: 4, end: 12, kind: 'changed' },
        { start: 16, end: 20, kind: 'changed' },
      ],
      changedRanges: 3,
      unchangedRanges: 2,
      changedBytes: 12,
    });
  });

  it('counts the partial last range exactly when the drive grows', () => {
    const a = { table: table(1, 2, 3), size: 10, chunkSize: cs }; // ranges 4, 4, 2 bytes
    const b = { table: table(1, 2, 5, 6), size: 16, chunkSize: cs };
    expect(diffTables(a, b)).toEqual({
      changes: [
        { start: 8, end: 10, kind: 'changed' },
        { start: 10, end: 16, kind: 'added' },
      ],
      changedRanges: 2,
      unchangedRanges: 2,
      changedBytes: 2,
      addedBytes: 6,
      removedBytes: 0,
    });
  });

  it('sees a zero last range that grew as added bytes only', () => {
    const a = { table: table(1, 2, 0), size: 10, chunkSize: cs };
    const b = { table: table(1, 2, 0), size: 12, chunkSize: cs };
    expect(diffTables(a, b)).toMatchObject({
      changes: [{ start: 10, end: 12, kind: 'added' }],
      changedRanges: 1,
      unchangedRanges: 2,
      changedBytes: 0,
      addedBytes: 2,
    });
  });

  it('reports removed bytes when the drive shrinks', () => {
    const a = { table: table(1, 2, 3, 4), size: 16, chunkSize: cs };
    const b = { table: table(1, 9), size: 6, chunkSize: cs };
    expect(diffTables(a, b)).toEqual({
      changes: [
        { start: 4, end: 6, kind: 'changed' },
        { start: 6, end: 16, kind: 'removed' },
      ],
      changedRanges: 3,
      unchangedRanges: 1,
      changedBytes: 2,
      addedBytes: 0,
      removedBytes: 10,
    });
  });

  it('treats data turned to zeros as changed', () => {
    const a = { table: table(7), size: 4, chunkSize: cs };
    expect(diffTables(a, { ...a, table: table(0) }).changes).toEqual([{ start: 0, end: 4, kind: 'changed' }]);
  });

  it('works in real 4 MiB chunks with a one-byte last range', () => {
    const size = 2 * 4 * MiB + 1;
    const a = { table: table(1, 2, 3), size, chunkSize: 4 * MiB };
    const b = { table: table(1, 2, 4), size, chunkSize: 4 * MiB };
    expect(diffTables(a, b)).toMatchObject({
      changes: [{ start: 8 * MiB, end: 8 * MiB + 1, kind: 'changed' }],
      changedBytes: 1,
    });
  });

  it('refuses a table whose length does not match the drive size', () => {
    const good = { table: table(1, 2), size: 8, chunkSize: cs };
    const bad = { table: table(1, 2), size: 9, chunkSize: cs };
    expect(() => diffTables(good, bad)).toThrow(DrivesnapError);
    expect(() => diffTables(good, bad)).toThrow(/second snapshot: chunk table has 64 bytes, a 9-byte drive needs 96/);
    expect(() => diffTables(bad, good)).toThrow(expect.objectContaining({ code: 'MANIFEST_INVALID' }));
  });

  it('refuses snapshots with different chunk sizes', () => {
    const a = { table: table(1, 2), size: 8, chunkSize: 4 };
    const b = { table: table(1), size: 8, chunkSize: 8 };
    expect(() => diffTables(a, b)).toThrow(expect.objectContaining({ code: 'DIFF_CHUNK_SIZE_MISMATCH' }));
  });
});
