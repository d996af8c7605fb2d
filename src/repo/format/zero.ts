/** All-zero detection: ranges of zeros are never hashed or stored, so this runs on every range read. */
import { MiB } from '../../util/size.js';

const ZEROS = Buffer.alloc(4 * MiB);

/** memcmp against a zero buffer (~30 GB/s): cheap enough to run before hashing. */
export function isAllZero(data: Uint8Array): boolean {
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  for (let offset = 0; offset < bytes.length; offset += ZEROS.length) {
    const piece = bytes.subarray(offset, offset + ZEROS.length);
    if (!piece.equals(ZEROS.subarray(0, piece.length))) return false;
  }
  return true;
}
