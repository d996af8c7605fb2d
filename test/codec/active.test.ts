import { describe, expect, it } from 'vitest';
import { CodecSettingError, selectCodec } from '../../src/codec/active.js';
import type { GzipCodec } from '../../src/codec/types.js';
import { zlibCodec } from '../../src/codec/zlib.js';

const isal: GzipCodec = { ...zlibCodec, name: 'isal-igzip' };

describe('DRIVESNAP_CODEC', () => {
  it('picks ISA-L when it is available and nothing is set (or auto)', () => {
    expect(selectCodec(undefined, isal)).toBe(isal);
    expect(selectCodec('', isal)).toBe(isal);
    expect(selectCodec('auto', isal)).toBe(isal);
    expect(selectCodec(' ISAL ', isal)).toBe(isal);
  });

  it('falls back to node:zlib when ISA-L is not available', () => {
    expect(selectCodec(undefined, undefined)).toBe(zlibCodec);
  });

  it('forces node:zlib with zlib, even when ISA-L is available', () => {
    expect(selectCodec('zlib', isal)).toBe(zlibCodec);
  });

  it('refuses isal without the addon, saying why, and unknown values, naming the valid ones', () => {
    expect(() => selectCodec('isal', undefined, 'the ISA-L addon is not built')).toThrow(
      new CodecSettingError('DRIVESNAP_CODEC=isal but the ISA-L addon is not built; unset it to use node:zlib'),
    );
    expect(() => selectCodec('zstd', isal)).toThrow('DRIVESNAP_CODEC must be one of auto, isal, zlib, got "zstd"');
  });
});
