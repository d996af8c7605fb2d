/** The chunk id of a range, the one computation behind chunkId (src/repo/format/chunk.ts) and the pool's workers. */
import { createHash, createHmac, type KeyObject } from 'node:crypto';

export function rangeId(data: Uint8Array, key: KeyObject | undefined): Buffer {
  return key ? createHmac('sha256', key).update(data).digest() : createHash('sha256').update(data).digest();
}
