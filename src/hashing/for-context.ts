/** The hash pool for a repository, kept apart from pool.ts so the pool and its worker load without the format code. */
import { type CodecContext, contextKeys } from '../repo/format/index.js';
import { HashPool } from './pool.js';

/** A pool computing the repository's chunk ids (chunkId): HMAC under its id key when encrypted, SHA-256 when plain. */
export function chunkIdPool(ctx: CodecContext, workers?: number): HashPool {
  return new HashPool({ key: contextKeys(ctx)?.idHmac, workers });
}
