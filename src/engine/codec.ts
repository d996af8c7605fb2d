/**
 * The engine's view of the format's compression and zero detection (src/repo/format): inflated bodies must
 * come out exactly the range's length. Inflate runs through the process's codec (ISA-L when its addon is
 * built, node:zlib otherwise; src/codec). Drive writes deflate through the format's gzipIfSmaller (./ends/drive.ts).
 */
import { DrivesnapError } from '../errors.js';
import { gunzip, gunzipInto } from '../repo/format/compress.js';

/** For --json summaries: the codec name ("isal-igzip", "node:zlib") and, at a level, "isal-igzip L2". */
export { gzipCodecLabel, gzipCodecName } from '../repo/format/compress.js';
export { isAllZero, zeroBuffer } from '../repo/format/zero.js';

/** Inflates at most `rawLength` bytes (a damaged stream cannot balloon) and insists on exactly that many. */
export async function gunzipBody(data: Buffer, rawLength: number): Promise<Buffer> {
  const out = await gunzip(data, rawLength).catch((err: unknown) => {
    throw new DrivesnapError('BODY_CORRUPT', `a gzip body does not inflate to its ${rawLength}-byte range: ${(err as Error).message}`);
  });
  if (out.length !== rawLength) {
    throw new DrivesnapError('BODY_LENGTH', `a gzip body expanded to ${out.length} bytes, expected ${rawLength}`);
  }
  return out;
}

/**
 * gunzipBody into `into` (the range's reused buffer, at least `rawLength` long): no 4 MiB allocation per
 * range, which cost a restore page faults and V8 major collections (measured: ~27% of its CPU).
 */
export async function gunzipBodyInto(data: Buffer, rawLength: number, into: Buffer): Promise<Buffer> {
  const out = await gunzipInto(data, into.subarray(0, rawLength)).catch((err: unknown) => {
    throw new DrivesnapError('BODY_CORRUPT', `a gzip body does not inflate to its ${rawLength}-byte range: ${(err as Error).message}`);
  });
  if (out.length !== rawLength) {
    throw new DrivesnapError('BODY_LENGTH', `a gzip body expanded to ${out.length} bytes, expected ${rawLength}`);
  }
  return out;
}
