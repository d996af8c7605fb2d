/**
 * What a new repository's default gzip level (3) runs through on this host, written out rather than computed
 * by the code under test: libdeflate's 3 when the addon was built with it (the default), else
 * igzip's 3 (its best), else node:zlib's 3 (no addon, or DRIVESNAP_CODEC=zlib).
 */
import { isalCodec } from '../../src/codec/isal.js';

export function defaultLevelCodec(forcedZlib = false): string {
  if (!isalCodec || forcedZlib) return 'node:zlib L3';
  return isalCodec.deflater === 'libdeflate' ? 'libdeflate L3 + isal-igzip inflate' : 'isal-igzip L3';
}
