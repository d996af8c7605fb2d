/**
 * All-zero detection: ranges of zeros are never hashed or stored, so this runs on every range read. The one
 * shared buffer of zeros (a default-sized range) serves detection and zero-range writes alike.
 */
import { DEFAULT_CHUNK_SIZE } from './config.js';

const ZEROS = Buffer.alloc(DEFAULT_CHUNK_SIZE);

/**
 * Zero when the first byte is and every byte equals the next: one memcmp of the range against itself shifted
 * by a byte, whose two streams share cache lines, so memory is read once (comparing with a separate run of
 * zeros read it twice: measured 1.7-2.7x slower on 4 MiB ranges). Data exits at its first change.
 */
export function isAllZero(data: Uint8Array): boolean {
  // The shared run itself (what a file source returns for a hole): nothing to compare.
  if (data.buffer === ZEROS.buffer && data.byteOffset >= ZEROS.byteOffset && data.byteLength <= ZEROS.byteLength) return true;
  if (data.byteLength === 0) return true;
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return bytes[0] === 0 && bytes.subarray(0, bytes.length - 1).equals(bytes.subarray(1));
}

/** A read-only run of zeros (shared: never write into it). */
export function zeroBuffer(length: number): Buffer {
  return length <= ZEROS.length ? ZEROS.subarray(0, length) : Buffer.alloc(length);
}
