/**
 * A gzip implementation the repository and the engine can run on: ISA-L's igzip through the optional addon,
 * or node:zlib. Both write and read plain gzip streams (RFC 1952), so either reads what the other wrote.
 */
export interface GzipCodec {
  /** 'isal-igzip' or 'node:zlib'. */
  readonly name: string;
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

/** How a codec shows in `benchmark`, `stats` and --json summaries: "isal-igzip L2". */
export function codecLabel(codec: GzipCodec, gzipLevel: number): string {
  return `${codec.name} L${codec.nativeLevel(gzipLevel)}`;
}
