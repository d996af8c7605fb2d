import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { codecOver, isalAddon, isalCodec, isalLevel, isalUnavailableReason, libdeflateLevel } from '../../src/codec/isal.js';
import { codecLabel, codecName, type GzipCodec } from '../../src/codec/types.js';
import { zlibCodec } from '../../src/codec/zlib.js';
import { textData } from '../repo/format/fixtures.js';
import { KINDS, MiB, SIZES } from './samples.js';

// CI installs libisal-dev where apt is available, so both codecs run there; elsewhere ISA-L skips, with why.
if (!isalCodec) console.warn(`ISA-L codec tests skipped: ${isalUnavailableReason}`);

// The addon's own codec (libdeflate deflating when built with it), and igzip deflating in the same addon.
const codecs: [string, GzipCodec | undefined][] = [
  [isalCodec?.name ?? 'addon', isalCodec],
  ['isal-igzip, deflating in an addon built with libdeflate', isalAddon?.compressor === 'libdeflate' ? codecOver(isalAddon, true) : undefined],
  ['node:zlib', zlibCodec],
];

describe.each(codecs)('%s codec', (_name, maybeCodec) => {
  const codec = maybeCodec!;
  describe.skipIf(!maybeCodec)('interchange with node:zlib', () => {
    for (const [kind, make] of KINDS) {
      for (const size of SIZES) {
        it(`${kind}, ${size} bytes: node:zlib reads its stream and it reads node:zlib's, byte-exact`, async () => {
          const data = make(size);
          for (const level of [2, 6]) {
            const stream = (await codec.gzip(data, level))!;
            expect(stream.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
            expect(gunzipSync(stream).equals(data)).toBe(true);
          }
          const fromZlib = gzipSync(data, { level: 6 });
          expect((await codec.gunzip(fromZlib, size)).equals(data)).toBe(true);
        });
      }
    }
  });

  describe.skipIf(!maybeCodec)('bounds and damage', () => {
    const data = textData(MiB);
    const stream = gzipSync(data);

    it('inflates to exactly the bound, and rejects a stream one byte larger than it', async () => {
      expect((await codec.gunzip(stream, data.length)).length).toBe(data.length);
      await expect(codec.gunzip(stream, data.length - 1)).rejects.toThrow();
    });

    it('rejects a stream whose CRC-32 does not match its content', async () => {
      const bad = Buffer.from(stream);
      bad[bad.length - 6]! ^= 1;
      await expect(codec.gunzip(bad, data.length)).rejects.toThrow();
    });

    it('rejects a truncated stream and bytes that are not gzip', async () => {
      await expect(codec.gunzip(stream.subarray(0, stream.length - 10), data.length)).rejects.toThrow();
      await expect(codec.gunzip(Buffer.from('not gzip at all'), data.length)).rejects.toThrow();
    });

    it('rejects a length trailer that does not match the content, and bytes after the last member', async () => {
      for (const delta of [-1, 1]) {
        const bad = Buffer.from(stream);
        bad.writeUInt32LE(data.length + delta, bad.length - 4);
        await expect(codec.gunzip(bad, data.length + 10)).rejects.toThrow();
        await expect(codec.gunzipInto(bad, Buffer.alloc(data.length + 10))).rejects.toThrow();
      }
      await expect(codec.gunzip(Buffer.concat([stream, Buffer.from('junk')]), data.length + 10)).rejects.toThrow();
    });

    it('inflates concatenated members back to back, as gunzip does', async () => {
      const two = Buffer.concat([gzipSync(data.subarray(0, 1000)), gzipSync(data.subarray(1000))]);
      expect((await codec.gunzip(two, data.length)).equals(data)).toBe(true);
    });

    it('inflates into a given buffer, leaving the bytes past the stream as they were', async () => {
      const into = Buffer.alloc(data.length + 100, 0xee);
      expect(await codec.gunzipInto(stream, into)).toBe(data.length);
      expect(into.subarray(0, data.length).equals(data)).toBe(true);
      expect(into.subarray(data.length).equals(Buffer.alloc(100, 0xee))).toBe(true);
      const two = Buffer.concat([gzipSync(data.subarray(0, 1000)), gzipSync(data.subarray(1000))]);
      expect(await codec.gunzipInto(two, into)).toBe(data.length);
      expect(into.subarray(0, data.length).equals(data)).toBe(true);
    });

    it('rejects, into a buffer, a stream longer than the buffer or damaged', async () => {
      await expect(codec.gunzipInto(stream, Buffer.alloc(data.length - 1))).rejects.toThrow();
      const bad = Buffer.from(stream);
      bad[bad.length - 6]! ^= 1;
      await expect(codec.gunzipInto(bad, Buffer.alloc(data.length))).rejects.toThrow();
      await expect(codec.gunzipInto(Buffer.from('not gzip at all'), Buffer.alloc(10))).rejects.toThrow();
    });

    it('gives up (undefined) when the stream would exceed maxOutput, and returns it when it fits', async () => {
      const full = (await codec.gzip(data, 1))!;
      expect(await codec.gzip(data, 1, full.length - 1)).toBeUndefined();
      expect((await codec.gzip(data, 1, full.length))!.equals(full)).toBe(true);
      expect(await codec.gzip(Buffer.alloc(0), 1, 0)).toBeUndefined();
    });
  });
});

describe('codec labels', () => {
  it('name the codec and the level it runs at', () => {
    expect(codecLabel(zlibCodec, 2)).toBe('node:zlib L2');
    const isalLike: GzipCodec = { ...zlibCodec, name: 'isal-igzip', deflater: 'isal-igzip', inflater: 'isal-igzip', nativeLevel: isalLevel };
    expect(codecLabel(isalLike, 2)).toBe(`isal-igzip L${isalLevel(2)}`);
  });

  it('name what deflates, at its level, and what inflates when another library does', () => {
    const libdeflateLike: GzipCodec = { ...zlibCodec, deflater: 'libdeflate', inflater: 'isal-igzip', nativeLevel: libdeflateLevel };
    expect(codecLabel(libdeflateLike, 4)).toBe('libdeflate L4 + isal-igzip inflate');
    expect(codecName('libdeflate', 'isal-igzip')).toBe('libdeflate + isal-igzip inflate');
    expect(codecName('node:zlib', 'node:zlib')).toBe('node:zlib');
  });

  it('passes repository gzip levels 1..9 to libdeflate as they are', () => {
    const levels = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    expect(levels.map(libdeflateLevel)).toEqual(levels);
  });

  it('maps every repository gzip level onto igzip 1..3, never lowering the level as gzip levels rise', () => {
    const levels = [1, 2, 3, 4, 5, 6, 7, 8, 9].map(isalLevel);
    expect(Math.min(...levels)).toBe(1);
    expect(Math.max(...levels)).toBe(3);
    expect(levels).toEqual([...levels].sort((a, b) => a - b));
  });
});

describe.skipIf(!isalCodec)('ISA-L gzip into a caller buffer', () => {
  it('writes the stream into the buffer, and resolves undefined when it does not fit', async () => {
    const codec = isalCodec!;
    const data = Buffer.from('drivesnap '.repeat(100_000));
    const into = Buffer.alloc(data.length);
    const out = (await codec.gzip(data, 2, undefined, into))!;
    expect(out.buffer === into.buffer).toBe(true);
    expect(gunzipSync(out).equals(data)).toBe(true);
    expect(await codec.gzip(data, 2, undefined, into.subarray(0, out.length - 1))).toBeUndefined();
    expect(await codec.gzip(data, 2, out.length - 1, into)).toBeUndefined();
    expect(await codec.gzip(data, 2, undefined, Buffer.alloc(0))).toBeUndefined();
  });
});

describe.skipIf(!isalAddon?.setMmapThreshold)('the allocator setting the addon makes on load', () => {
  it('fixes glibc mmap threshold where glibc runs, and refuses a size out of range', () => {
    const glibc = Boolean((process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime);
    expect(isalAddon!.setMmapThreshold!(1024 * 1024)).toBe(glibc);
    expect(() => isalAddon!.setMmapThreshold!(-1)).toThrow(/0..32 MiB/);
    expect(() => isalAddon!.setMmapThreshold!(64 * 1024 * 1024)).toThrow(/0..32 MiB/);
  });
});
