/**
 * All-zero detection: ranges of zeros are never hashed or stored, so this runs on every range read. The one
 * shared buffer of zeros (a default-sized range) serves detection and zero-range writes alike.
 */
import { DEFAULT_CHUNK_SIZE } from './config.js';

const ZEROS = Buffer.alloc(DEFAULT_CHUNK_SIZE);

/** memcmp against a zero buffer (~30 GB/s): cheap enough to run before hashing. */
export function isAllZero(data: Uint8Array): boolean {
  // The shared run itself (what a file source returns for a hole): nothing to compare.
  if (data.buffer === ZEROS.buffer && data.byteOffset >= ZEROS.byteOffset && data.byteLength <= ZEROS.byteLength) return true;
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  for (let offset = 0; offset < bytes.length; offset += ZEROS.length) {
    const piece = bytes.subarray(offset, offset + ZEROS.length);
    if (!piece.equals(ZEROS.subarray(0, piece.length))) return false;
  }
  return true;
}

/** A read-only run of zeros (shared: never write into it). */
export function zeroBuffer(length: number): Buffer {
  return length <= ZEROS.length ? ZEROS.subarray(0, length) : Buffer.alloc(length);
}
