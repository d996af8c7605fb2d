/**
 * Chunk ids through the native addon on libuv's thread pool: the same SHA-256 / HMAC-SHA-256 as rangeId,
 * read in place whatever memory the range is in, on every core, without the hash pool's worker threads
 * (each a V8 isolate of ~9 MiB RSS: measured, an incremental backup peaked at 113 MiB hashing on one thread
 * against 131 MiB with the two workers).
 */
import type { KeyObject } from 'node:crypto';
import { nativeHash } from '../codec/active.js';

/** The id function, or undefined when the addon is not in use (the hash pool then does the work). */
export function nativeRangeIds(key: KeyObject | undefined): ((data: Uint8Array) => Promise<Buffer>) | undefined {
  const hash = nativeHash();
  if (!hash) return undefined;
  const raw = key?.export();
  return (data) => hash(data, raw);
}
