/**
 * What a new repository's default gzip level (3) runs through on this host, written out rather than computed
 * by the code under test: libdeflate's 3 when the addon was built with it (the default), else
 * igzip's 3 (its best), else node:zlib's 3 (no addon, or DRIVESNAP_CODEC=zlib).
 */
import { isalCodec } from '../../src/codec/isal.js';

export function defaultLevelCodec(forcedZlib = false): string {
  if (!isalCodec || forcedZlib) return 'node:zlib L3';
  return isalCodec.deflater === 'libdeflate' ? 'libdeflate L3' : 'isal-igzip L3';
}

/** The same for level 2, which deflates through igzip in any build (inflating through libdeflate when built in). */
export function levelTwoCodec(forcedZlib = false): string {
  if (!isalCodec || forcedZlib) return 'node:zlib L2';
  return isalCodec.inflater === 'libdeflate' ? 'isal-igzip L2 + libdeflate inflate' : 'isal-igzip L2';
}
