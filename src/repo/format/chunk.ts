/**
 * Chunk objects: one per distinct non-zero range of a drive, stored as the gzip stream of the range (or the
 * range itself when gzip does not shrink it, decided from a sample for incompressible data) in an envelope (envelope.ts).
 */
import { rangeId } from '../../hashing/digest.js';
import { gunzip, gzipIfSmaller } from './compress.js';
import { type CodecContext, contextKeys } from './context.js';
import { envelopePayloadOffset, maxEnvelopeBytes, openEnvelope, sealEnvelope } from './envelope.js';
import { CorruptObjectError, FormatUsageError } from './errors.js';
import { chunkObjectName, ID_BYTES } from './ids.js';

export type ChunkEncoding = 'gzip' | 'raw';

/**
 * SHA-256 of the range in a plain repository, HMAC-SHA-256 under the id key in an encrypted one, with
 * node:crypto on the calling thread (no copy of the range). Repository.chunkId hashes ranges in shared memory
 * (the jobs' slot buffers) with the same function on worker threads instead (src/hashing).
 */
export async function chunkId(data: Uint8Array, ctx: CodecContext): Promise<Buffer> {
  return rangeId(data, contextKeys(ctx)?.idHmac);
}

function checkRange(data: Uint8Array, ctx: CodecContext): void {
  if (data.length === 0 || data.length > ctx.config.chunkSize) {
    throw new FormatUsageError(`a chunk holds 1..${ctx.config.chunkSize} bytes, got ${data.length}`);
  }
}

/** The longest chunk object of a repository with chunks of `chunkSize` bytes (a raw range, sealed). */
export function maxChunkObjectBytes(chunkSize: number): number {
  return maxEnvelopeBytes(chunkSize);
}

/**
 * The stored object for a range whose id the caller has already computed with chunkId. With `into` (at
 * least maxChunkObjectBytes long, reused by the caller) the object is a view of it: the range is compressed
 * straight to where the envelope's payload goes and sealed there, with no other buffer per chunk.
 */
export async function encodeChunk(data: Buffer, id: Buffer, ctx: CodecContext, into?: Buffer): Promise<Buffer> {
  checkRange(data, ctx);
  const keys = contextKeys(ctx);
  const name = chunkObjectName(id);
  const out = into && into.length >= maxChunkObjectBytes(data.length) ? into : undefined;
  // Raw when gzip would not shrink it; incompressible ranges are recognised from a sample (compress.ts).
  const compressed = await gzipIfSmaller(data, ctx.config.compression.level, out?.subarray(envelopePayloadOffset(keys)));
  return compressed ? sealEnvelope('chunk', name, compressed, false, keys, out) : sealEnvelope('chunk', name, data, true, keys, out);
}

/**
 * Authenticates the object and returns what it stores, without inflating it: the restore path sends a
 * gzip payload to the drive API as is (`Content-Encoding: gzip`).
 */
export async function openChunkPayload(
  object: Buffer,
  id: Buffer,
  ctx: CodecContext,
  /** The caller's own copy of the object (fresh from the store): it may be decrypted in place. */
  opts: { inPlace?: boolean } = {},
): Promise<{ encoding: ChunkEncoding; payload: Buffer }> {
  const opened = await openEnvelope('chunk', chunkObjectName(id), object, contextKeys(ctx), opts);
  return { encoding: opened.raw ? 'raw' : 'gzip', payload: opened.payload };
}

/** The range's bytes, after every check: envelope, gzip integrity, size, and the id against the content. */
export async function decodeChunk(object: Buffer, id: Buffer, ctx: CodecContext, opts: { inPlace?: boolean } = {}): Promise<Buffer> {
  const name = chunkObjectName(id);
  const { encoding, payload } = await openChunkPayload(object, id, ctx, opts);
  let data = payload;
  if (encoding === 'gzip') {
    try {
      data = await gunzip(payload, ctx.config.chunkSize);
    } catch (err) {
      throw new CorruptObjectError('chunk', name, `gzip stream is damaged or larger than a chunk`, { cause: err });
    }
  }
  if (data.length === 0 || data.length > ctx.config.chunkSize) {
    throw new CorruptObjectError('chunk', name, `holds ${data.length} bytes, a chunk holds 1..${ctx.config.chunkSize}`);
  }
  const actual = await chunkId(data, ctx);
  if (actual.length !== ID_BYTES || !actual.equals(id)) {
    throw new CorruptObjectError('chunk', name, 'content does not match its id');
  }
  return data;
}
