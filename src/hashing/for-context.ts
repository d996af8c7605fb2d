/** The hash pool for a repository, kept apart from pool.ts so the pool and its worker load without the format code. */
import { type CodecContext, contextKeys } from '../repo/format/index.js';
import { nativeRangeIds } from './native.js';
import { HashPool } from './pool.js';

/** A pool computing the repository's chunk ids (chunkId): HMAC under its id key when encrypted, SHA-256 when plain. */
export function chunkIdPool(ctx: CodecContext, workers?: number): HashPool {
  return new HashPool({ key: contextKeys(ctx)?.idHmac, workers });
}

/** The repository's chunk ids through the native addon, or undefined without it (see native.ts). */
export function nativeChunkIds(ctx: CodecContext): ((data: Uint8Array) => Promise<Buffer>) | undefined {
  return nativeRangeIds(contextKeys(ctx)?.idHmac);
}
