/**
 * The format's gzip, through the process's codec (src/codec): the addon when it is built (deflate through
 * ISA-L's igzip at levels 1-2, libdeflate at 3-9 (igzip at 3-4 for ranges whose sample shrinks only a little:
 * ../../codec/incompressible.ts), inflate through libdeflate: both built into the addon),
 * node:zlib otherwise. Each writes plain gzip streams and reads any.
 */
import { constants as bufferConstants } from 'node:buffer';
import { activeCodec, deflateCodec } from '../../codec/active.js';
import { gzipIfSmaller as gzipIfSmallerWith } from '../../codec/incompressible.js';
import { codecLabel } from '../../codec/types.js';

export const MIN_GZIP_LEVEL = 1;
export const MAX_GZIP_LEVEL = 9;

export async function gzip(data: Uint8Array, level: number): Promise<Buffer> {
  return (await deflateCodec(level).gzip(data, level))!;
}

/**
 * The gzip stream of `data` when it is shorter than `data`, else undefined: the caller stores the range raw.
 * Incompressible ranges are recognised from a sample, without compressing the whole of them. With
 * `scratch` (reused by the caller) the stream may be a view of it.
 */
export function gzipIfSmaller(data: Uint8Array, level: number, scratch?: Buffer): Promise<Buffer | undefined> {
  return gzipIfSmallerWith(deflateCodec(level), data, level, scratch);
}

/**
 * Inflates a gzip stream and checks its CRC-32 and length trailer. `maxOutput` bounds the result, so a
 * damaged or hostile stream cannot inflate into gigabytes.
 */
export function gunzip(data: Uint8Array, maxOutput: number = bufferConstants.MAX_LENGTH): Promise<Buffer> {
  return activeCodec().gunzip(data, maxOutput);
}

/**
 * Inflates into `into` and returns the filled part of it: a caller reusing one buffer per range allocates
 * nothing per range. Rejects beyond `into.length` bytes, like gunzip's `maxOutput`.
 */
export async function gunzipInto(data: Uint8Array, into: Buffer): Promise<Buffer> {
  const n = await activeCodec().gunzipInto(data, into);
  return n === into.length ? into : into.subarray(0, n);
}

/** The codec gzip and gunzip run through: "libdeflate", "isal-igzip" or "node:zlib". */
export function gzipCodecName(): string {
  return activeCodec().name;
}

/** The codec and level gzip runs at, for display: "libdeflate L3", "isal-igzip L2 + libdeflate inflate", "node:zlib L2". */
export function gzipCodecLabel(level: number): string {
  return codecLabel(deflateCodec(level), level);
}
