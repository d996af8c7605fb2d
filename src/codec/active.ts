/**
 * The process's gzip codec: the ISA-L addon's when it loads (deflating through libdeflate when built with it),
 * node:zlib otherwise. DRIVESNAP_CODEC (read through
 * ../config/env.ts) is interpreted here and only here: `zlib` forces the fallback, `isal` insists on ISA-L, unset or `auto` picks the best.
 */
import { CODEC_ENV, codecSetting } from '../config/env.js';
import { UsageError } from '../errors.js';
import { igzipCodec, isalAddon, isalCodec, isalUnavailableReason } from './isal.js';
import type { GzipCodec } from './types.js';
import { zlibCodec } from './zlib.js';

export { CODEC_ENV };
const SETTINGS = ['auto', 'isal', 'zlib'] as const;

/** A bad DRIVESNAP_CODEC: a usage error (exit code 2, one line). */
export class CodecSettingError extends UsageError {
  override name = 'CodecSettingError';
}

/** Pure: the codec for a DRIVESNAP_CODEC value, given what is available. */
export function selectCodec(setting: string | undefined, isal: GzipCodec | undefined, isalMissing = 'the ISA-L addon is not available'): GzipCodec {
  const value = (setting ?? '').trim().toLowerCase() || 'auto';
  if (value === 'zlib') return zlibCodec;
  if (value === 'isal') {
    if (!isal) throw new CodecSettingError(`${CODEC_ENV}=isal but ${isalMissing}; unset it to use node:zlib`);
    return isal;
  }
  if (value === 'auto') return isal ?? zlibCodec;
  throw new CodecSettingError(`${CODEC_ENV} must be one of ${SETTINGS.join(', ')}, got "${setting}"`);
}

let active: GzipCodec | undefined;

/** The codec every gzip in this process goes through (chosen on first use). */
export function activeCodec(): GzipCodec {
  active ??= selectCodec(codecSetting(), isalCodec, isalUnavailableReason);
  return active;
}

/**
 * The lowest repository level that deflates through libdeflate when the addon has it; below it, igzip.
 * Measured on the bench workload, libdeflate's level 3 (the default level) stores 1.08x borg zstd,3's
 * repository against igzip level 2's 1.18x, for about 3x the CPU of a full backup. libdeflate's level 2
 * stores 1.09x at only 7% less CPU than its 3 (one core, idle machine), so level 2 stays the fast choice
 * (igzip, 3.3x libdeflate 2's speed), and drive writes deflate at level 1.
 */
export const LIBDEFLATE_FROM_LEVEL = 3;

/**
 * The codec a repository level deflates through: the process's codec, except that an addon with libdeflate
 * deflates levels below LIBDEFLATE_FROM_LEVEL (`--compression-level 1` or 2, and drive writes at level 1)
 * through igzip.
 */
export function deflateCodec(level: number): GzipCodec {
  const codec = activeCodec();
  return codec === isalCodec ? (addonCodecAt(level) ?? codec) : codec;
}

/** The addon's codec for a repository level (see deflateCodec), in use or not; undefined without the addon. */
export function addonCodecAt(level: number): GzipCodec | undefined {
  return level < LIBDEFLATE_FROM_LEVEL ? igzipCodec : isalCodec;
}

/**
 * AES-256-GCM of `data` into `out` (ciphertext, then the 16-byte tag; `out` may be `data`'s own memory)
 * on the thread pool through the OpenSSL inside Node.js, allocating nothing; resolves the bytes written.
 * Undefined without the addon (or an addon built before it), and when DRIVESNAP_CODEC=zlib forces the
 * JavaScript paths: callers then use node:crypto.
 */
export function nativeGcmSeal(): ((key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, data: Uint8Array, out: Uint8Array) => Promise<number>) | undefined {
  const addon = isalAddon;
  if (!addon?.gcmSeal || activeCodec() !== isalCodec) return undefined;
  return (key, nonce, aad, data, out) => addon.gcmSeal!(key, nonce, aad, data, out);
}

/**
 * The reverse of nativeGcmSeal: opens ciphertext | tag into `out` (may be the sealed bytes' own memory);
 * resolves the length, or null when the tag does not verify (`out` then wiped). Undefined as nativeGcmSeal is.
 */
export function nativeGcmOpen(): ((key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array, out: Uint8Array) => Promise<number | null>) | undefined {
  const addon = isalAddon;
  if (!addon?.gcmOpen || activeCodec() !== isalCodec) return undefined;
  return (key, nonce, aad, sealed, out) => addon.gcmOpen!(key, nonce, aad, sealed, out);
}

/**
 * SHA-256 of `data`, or HMAC-SHA-256 under a 32-byte key, on the thread pool through the addon, reading
 * `data` where it lies (shared memory included). Undefined as nativeGcmSeal is.
 */
export function nativeHash(): ((data: Uint8Array, key?: Uint8Array) => Promise<Buffer>) | undefined {
  const addon = isalAddon;
  if (!addon?.hash || activeCodec() !== isalCodec) return undefined;
  return (data, key) => addon.hash!(data, key);
}

/** Page-aligned memory and its test, for O_DIRECT writes (src/engine/ends/direct-writes.ts). */
export interface DirectIo {
  alignedBuffer(size: number): Buffer;
  isAligned(data: Uint8Array): boolean;
}

/**
 * The addon's aligned allocation, or undefined as nativeGcmSeal is: without it, Node's allocator gives no
 * alignment, so jobs use plain buffers and every write goes through the page cache.
 */
export function nativeDirectIo(): DirectIo | undefined {
  const addon = isalAddon;
  if (!addon?.alignedBuffer || !addon.isAligned || activeCodec() !== isalCodec) return undefined;
  return { alignedBuffer: (size) => addon.alignedBuffer!(size), isAligned: (data) => addon.isAligned!(data) };
}
