/**
 * All-zero detection (src/repo/format/zero.ts): it decides which ranges are never hashed or stored, so a
 * false "zero" would lose data. Every position of a single non-zero byte, runs of one non-zero value, views
 * into larger memory, and lengths around and beyond the shared run of zeros.
 */
import { describe, expect, it } from 'vitest';
import { isAllZero, zeroBuffer } from '../../../src/repo/format/zero.js';

const MiB = 1024 * 1024;

describe('isAllZero', () => {
  it('is true for zeros of any length, the empty range and the shared run included', () => {
    for (const n of [0, 1, 2, 4095, 4 * MiB - 1, 4 * MiB, 4 * MiB + 1, 9 * MiB]) expect(isAllZero(Buffer.alloc(n)), `${n} bytes`).toBe(true);
    expect(isAllZero(zeroBuffer(4 * MiB))).toBe(true);
    expect(isAllZero(zeroBuffer(100))).toBe(true);
  });

  it('is false for one non-zero byte wherever it is', () => {
    for (const n of [1, 2, 3, 4 * MiB, 4 * MiB + 7]) {
      for (const at of new Set([0, 1, Math.floor(n / 2), n - 2, n - 1].filter((i) => i >= 0 && i < n))) {
        const b = Buffer.alloc(n);
        b[at] = 0x80;
        expect(isAllZero(b), `${n} bytes, non-zero at ${at}`).toBe(false);
      }
    }
  });

  it('is false for a run of one non-zero value, and for zeros followed by one', () => {
    expect(isAllZero(Buffer.alloc(4 * MiB, 1))).toBe(false);
    const b = Buffer.alloc(4 * MiB);
    b.fill(0xff, 2 * MiB);
    expect(isAllZero(b)).toBe(false);
  });

  it('reads only the view it is given, as a Buffer or a plain Uint8Array', () => {
    const memory = new Uint8Array(3 * MiB).fill(7);
    memory.fill(0, MiB, 2 * MiB);
    expect(isAllZero(memory.subarray(MiB, 2 * MiB))).toBe(true);
    expect(isAllZero(Buffer.from(memory.buffer, MiB, MiB))).toBe(true);
    expect(isAllZero(memory.subarray(MiB - 1, 2 * MiB))).toBe(false);
    expect(isAllZero(memory.subarray(MiB, 2 * MiB + 1))).toBe(false);
  });
});
