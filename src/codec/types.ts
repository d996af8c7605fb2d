/**
 * A gzip implementation the repository and the engine can run on: the optional addon (deflate through
 * libdeflate or ISA-L's igzip, inflate through libdeflate or igzip), or node:zlib. All write and read plain gzip streams
 * (RFC 1952), so each reads what another wrote.
 */
export interface GzipCodec {
  /** What deflates and what inflates, in one: 'libdeflate', 'isal-igzip', 'node:zlib', 'isal-igzip + libdeflate inflate'. */
  readonly name: string;
  /** What deflates: 'libdeflate', 'isal-igzip' or 'node:zlib'. */
  readonly deflater: string;
  /** What inflates: 'libdeflate', 'isal-igzip' or 'node:zlib'. */
  readonly inflater: string;
  /**
   * A faster codec for the incompressibility sample (incompressible.ts), which asks whether slices shrink
   * and by how much, and for the ranges that sample shows compress poorly: igzip when libdeflate deflates
   * (on random slices ~4x libdeflate's speed). Absent: this one.
   */
  readonly sampler?: GzipCodec;
  /** The codec's own level for a repository gzip level (1..9). */
  nativeLevel(gzipLevel: number): number;
  /**
   * A gzip stream of `data` at the repository's gzip `level`, or undefined when the stream would be longer
   * than `maxOutput` bytes (the caller keeps the data raw). Without `maxOutput` it always returns a stream.
   * With `into`, the stream may be written there (ISA-L does; node:zlib allocates) and must fit in it, as if
   * `maxOutput` were at most `into.length`: the result is then a view of `into`, valid while the caller
   * keeps `into` for it.
   */
  gzip(data: Uint8Array, level: number, maxOutput?: number, into?: Buffer): Promise<Buffer | undefined>;
  /** Inflates a gzip stream, checking its CRC-32 and length; rejects beyond `maxOutput` bytes. */
  gunzip(data: Uint8Array, maxOutput: number): Promise<Buffer>;
  /**
   * The same inflated into `into` (at most its length; beyond it rejects) and resolves the bytes written:
   * a caller that reuses one buffer per range allocates nothing per range (ISA-L writes there directly;
   * node:zlib inflates and copies).
   */
  gunzipInto(data: Uint8Array, into: Buffer): Promise<number>;
}

/** What deflates (maybe with its level) and, when another library inflates, that one too. */
function describe(deflate: string, deflater: string, inflater: string): string {
  return deflater === inflater ? deflate : `${deflate} + ${inflater} inflate`;
}

/** A codec's name: 'libdeflate' when one library does both, 'isal-igzip + libdeflate inflate' when not. */
export function codecName(deflater: string, inflater: string): string {
  return describe(deflater, deflater, inflater);
}

/**
 * How a codec shows in `benchmark`, `stats` and --json summaries, with the level the deflater runs at:
 * "libdeflate L3", "isal-igzip L2 + libdeflate inflate".
 */
export function codecLabel(codec: GzipCodec, gzipLevel: number): string {
  return describe(`${codec.deflater} L${codec.nativeLevel(gzipLevel)}`, codec.deflater, codec.inflater);
}
