/**
 * The optional N-API addon in native/isal (built by `npm ci` when libisal-dev is installed; see
 * scripts/build-native.mjs): deflate and inflate through libdeflate (built in from native/libdeflate; smaller
 * chunks, faster inflate), the fast levels 1-2 deflating through ISA-L's igzip; igzip only when built with
 * DRIVESNAP_LIBDEFLATE=0. Loading is attempted once; when the addon is
 * missing or does not load (say, libisal2 was removed after the build), `isalCodec` is undefined and the
 * reason says why.
 */
import { createRequire } from 'node:module';
import { packagePath } from '../util/package-root.js';
import { codecName, type GzipCodec } from './types.js';

/** The addon's deflate: at its compressor's own levels (0..maxLevel); null when it does not fit. */
interface AddonGzip {
  (data: Uint8Array, level: number, maxOutput: number): Promise<Buffer | null>;
  /** Deflates into `into` (no allocation); resolves the length, null when it does not fit. */
  (data: Uint8Array, level: number, maxOutput: number, into: Uint8Array): Promise<number | null>;
}

export interface IsalAddon {
  /** Through `compressor`. */
  gzip: AddonGzip;
  /** Through igzip at its levels 0..3 whatever `compressor` is; absent from an addon built before it was added. */
  igzip?: AddonGzip;
  /** What `gzip` runs: 'libdeflate' or 'isal-igzip'; absent from an addon built before libdeflate (igzip). */
  compressor?: string;
  /** What `gunzip` runs: 'libdeflate' or 'isal-igzip'; absent from an addon built before it was added (igzip). */
  inflater?: string;
  /** libdeflate's version, when `compressor` is libdeflate. */
  libdeflateVersion?: string;
  gunzip(data: Uint8Array, maxOutput: number): Promise<Buffer>;
  /** Inflates into `into` (no allocation); resolves the length. */
  gunzip(data: Uint8Array, maxOutput: number, into: Uint8Array): Promise<number>;
  /** `compressor`'s top level. */
  maxLevel: number;
  /** AES-256-GCM into `out` (ciphertext, then the tag); absent from an addon built before it was added. */
  gcmSeal?(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, data: Uint8Array, out: Uint8Array): Promise<number>;
  /** Its reverse (null: the tag does not verify); absent from an addon built before it was added. */
  gcmOpen?(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array, out: Uint8Array): Promise<number | null>;
  /** SHA-256, or HMAC-SHA-256 under a 32-byte key; absent from an addon built before it was added. */
  hash?(data: Uint8Array, key?: Uint8Array): Promise<Buffer>;
  /**
   * lseek(SEEK_DATA) on the thread pool: next data offset, -1 only a hole follows, -2 unknown; absent from an
   * older addon (one built before it went to the thread pool answers at once, with a number).
   */
  nextData?(fd: number, offset: number): Promise<number> | number;
  /** glibc's M_MMAP_THRESHOLD, fixed; absent from an addon built before it was added. */
  setMmapThreshold?(bytes: number): boolean;
  /** A Buffer over page-aligned memory (for O_DIRECT); absent from an addon built before it was added. */
  alignedBuffer?(size: number): Buffer;
  /** True when the view starts on a page boundary; absent from an addon built before it was added. */
  isAligned?(data: Uint8Array): boolean;
}

/** From the package root, so it holds from src/, dist/ and the bundle alike. */
const ADDON_PATH = packagePath('native', 'isal', 'build', 'Release', 'drivesnap_isal.node');

/**
 * Repository gzip level (zlib's 1..9) to igzip's 1..3: 1 and 2 as they are, 3 and up to igzip's best.
 * Measured on the bench workload's non-zero 4 MiB blocks (test/codec/measure-gzip.ts, one thread): igzip 2
 * runs as fast as igzip 1 (532 against 538 MB/s) for a 1.3% smaller output, so the repository default 2
 * runs at igzip 2, 4x zlib's speed; igzip 3 is 0.7% larger than zlib 2 at twice zlib's speed.
 */
export function isalLevel(gzipLevel: number): number {
  return Math.min(Math.max(gzipLevel, 1), 3);
}

export const LIBDEFLATE_MAX_LEVEL = 12;

/**
 * Repository gzip level to libdeflate's: the same number, libdeflate's 1..9 following zlib's scale (each
 * smaller and faster than zlib's at the number; 10..12, beyond zlib's, are not repository levels).
 */
export function libdeflateLevel(gzipLevel: number): number {
  return Math.min(Math.max(gzipLevel, 1), LIBDEFLATE_MAX_LEVEL);
}

/** The addon's level for a repository gzip level, by what deflates. */
function levelFor(deflater: string): (gzipLevel: number) => number {
  return deflater === 'libdeflate' ? libdeflateLevel : isalLevel;
}

function load(): { addon?: IsalAddon; reason?: string } {
  try {
    return { addon: createRequire(import.meta.url)(ADDON_PATH) as IsalAddon };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      reason: code === 'MODULE_NOT_FOUND' ? 'the ISA-L addon is not built (apt-get install libisal-dev, then npm ci)' : `the ISA-L addon does not load: ${(err as Error).message.split('\n')[0]}`,
    };
  }
}

const loaded = load();

/**
 * Buffers of 1 MiB and more (chunk objects read from the repository, ranges) are mmap'd and go back to the
 * kernel when freed, instead of glibc's adaptive threshold serving them from the heap after the first
 * freed 4 MiB block. Measured on a restore of the 2 GiB workload to a file (medians of 4): peak RSS
 * 166.5 -> 154.3 MiB, CPU unchanged (ratio 1.01). The jobs reuse their range and object buffers, so
 * few such buffers are allocated per range. Set once, on loading the addon; a no-op without it.
 */
const MMAP_AT_LEAST = 1024 * 1024;
loaded.addon?.setMmapThreshold?.(MMAP_AT_LEAST);
// glibc's trim threshold stays at its default. Keeping 32 MiB of freed heap (for undici's 64 KiB socket
// buffers) no longer pays since drive reads bypass undici (src/api/direct-read.ts): through the emulator
// (4 runs each, full backup, restore to a new drive, copy between accounts) it cost 2-5 MiB of peak RSS
// and saved no CPU (medians 6.32/1.65/5.19 s with it, 6.32/1.57/5.01 s without).

/** The addon itself, at its compressor's own levels: for the benchmarks only; everything else uses `isalCodec`. */
export const isalAddon: IsalAddon | undefined = loaded.addon;

/** Why the ISA-L codec is unavailable, when it is. */
export const isalUnavailableReason: string | undefined = loaded.reason;

/** The addon's codec (deflate through libdeflate when built in, else igzip), or undefined without the addon. */
export const isalCodec: GzipCodec | undefined = loaded.addon && codecOver(loaded.addon);

/** The addon's codec deflating through igzip even when libdeflate is built in (see deflateCodec in ./active.ts). */
export const igzipCodec: GzipCodec | undefined = loaded.addon && (isalCodec?.deflater === 'isal-igzip' ? isalCodec : codecOver(loaded.addon, true));

/**
 * A codec over the addon. `useIgzip` deflates through igzip even when libdeflate is built in (benchmarks
 * compare the two); otherwise through the addon's own compressor.
 */
export function codecOver(addon: IsalAddon, useIgzip = false): GzipCodec {
  const deflate = useIgzip ? (addon.igzip ?? addon.gzip) : addon.gzip;
  // An addon built before libdeflate names no compressor: igzip.
  const deflater = useIgzip ? 'isal-igzip' : (addon.compressor ?? 'isal-igzip');
  const inflater = addon.inflater ?? 'isal-igzip';
  const nativeLevel = levelFor(deflater);
  // The sample only asks whether slices shrink: igzip answers that several times faster than libdeflate.
  const sampler = deflater !== 'isal-igzip' && addon.igzip ? codecOver(addon, true) : undefined;
  return {
    name: codecName(deflater, inflater),
    deflater,
    inflater,
    ...(sampler && { sampler }),
    nativeLevel,
    async gzip(data, level, maxOutput, into) {
      if (!into) return (await deflate(data, nativeLevel(level), maxOutput ?? -1)) ?? undefined;
      const bound = Math.min(maxOutput ?? into.length, into.length);
      // An addon built before gzip took `into` ignores it and resolves a buffer (the .node file outlives a git pull).
      const n = (await deflate(data, nativeLevel(level), bound, into)) as number | Buffer | null;
      if (n === null) return undefined;
      return typeof n === 'number' ? into.subarray(0, n) : n;
    },
    gunzip: (data, maxOutput) => addon.gunzip(data, maxOutput),
    // An addon built before gunzip took `into` inflates and copies (the .node file outlives a git pull).
    gunzipInto: async (data, into) => {
      if (into.length === 0) return (await addon.gunzip(data, 1)).copy(into);
      const n = (await addon.gunzip(data, into.length, into)) as number | Buffer;
      return typeof n === 'number' ? n : n.copy(into);
    },
  };
}
