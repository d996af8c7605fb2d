import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  chunkId,
  chunkObjectName,
  type CodecContext,
  decodeChunk,
  encodeChunk,
  FLAG_RAW,
  gzip,
  isAllZero,
  openChunkPayload,
  sealEnvelope,
  SUBKEY_INFO,
} from '../../../src/repo/format/index.js';
import { CHUNK, encryptedContext, flipByte, hmac, plainContext, sameBytes, sha256, subkey, textData } from './fixtures.js';

const contexts: [string, () => Promise<CodecContext>][] = [
  ['plain', async () => plainContext()],
  ['encrypted', () => encryptedContext()],
];

describe('chunk ids', () => {
  it('is the SHA-256 of the range in a plain repository', async () => {
    const data = textData(CHUNK);
    expect(await chunkId(data, plainContext())).toEqual(sha256(data));
  });

  it('is HMAC-SHA-256 under the HKDF id subkey in an encrypted one, not the bare SHA-256', async () => {
    const ctx = await encryptedContext();
    const data = textData(CHUNK);
    const id = await chunkId(data, ctx);
    expect(id).toEqual(hmac(subkey(ctx.master, SUBKEY_INFO.id), data));
    expect(id).not.toEqual(sha256(data));
  });

  it('differs between two encrypted repositories for the same range', async () => {
    const data = textData(1000);
    const a = await chunkId(data, await encryptedContext());
    const b = await chunkId(data, await encryptedContext());
    expect(a).not.toEqual(b);
  });

  it('names objects chunks/<2 hex>/<64 hex>', () => {
    const id = Buffer.from('ab'.padEnd(64, '0'), 'hex');
    expect(chunkObjectName(id)).toBe(`chunks/ab/ab${'0'.repeat(62)}`);
    expect(() => chunkObjectName(Buffer.alloc(31))).toThrow(/32 bytes/);
  });
});

describe('isAllZero', () => {
  it('is true only when every byte is zero, at any length', () => {
    expect(isAllZero(Buffer.alloc(CHUNK))).toBe(true);
    expect(isAllZero(Buffer.alloc(0))).toBe(true);
    expect(isAllZero(Buffer.alloc(CHUNK * 2 + 5))).toBe(true);
    const last = Buffer.alloc(CHUNK * 2 + 5);
    last[last.length - 1] = 1;
    expect(isAllZero(last)).toBe(false);
    const first = Buffer.alloc(CHUNK);
    first[0] = 0x80;
    expect(isAllZero(first)).toBe(false);
  });
});

describe.each(contexts)('chunk round trip (%s)', (_kind, makeContext) => {
  it('restores a compressible 4 MiB range, stored as gzip and much smaller', async () => {
    const ctx = await makeContext();
    const data = textData(CHUNK);
    const id = await chunkId(data, ctx);
    const object = await encodeChunk(data, id, ctx);
    expect(object.length).toBeLessThan(CHUNK / 3);
    expect(sameBytes(await decodeChunk(object, id, ctx), data)).toBe(true);
    const { encoding, payload } = await openChunkPayload(object, id, ctx);
    expect(encoding).toBe('gzip');
    expect(sameBytes(gunzipSync(payload), data)).toBe(true);
  });

  it('restores a last range shorter than the chunk size', async () => {
    const ctx = await makeContext();
    const data = textData(12_345, 7);
    const id = await chunkId(data, ctx);
    expect(sameBytes(await decodeChunk(await encodeChunk(data, id, ctx), id, ctx), data)).toBe(true);
  });

  it('stores incompressible data raw, flagged, and restores it', async () => {
    const ctx = await makeContext();
    const data = randomBytes(CHUNK);
    const id = await chunkId(data, ctx);
    const object = await encodeChunk(data, id, ctx);
    expect(object[5]! & FLAG_RAW).toBe(FLAG_RAW);
    expect(object.length).toBeLessThanOrEqual(CHUNK + 40);
    const { encoding, payload } = await openChunkPayload(object, id, ctx);
    expect(encoding).toBe('raw');
    expect(sameBytes(payload, data)).toBe(true);
    expect(sameBytes(await decodeChunk(object, id, ctx), data)).toBe(true);
  });

  it('refuses an empty range and one longer than the chunk size', async () => {
    const ctx = await makeContext();
    const id = Buffer.alloc(32, 1);
    await expect(encodeChunk(Buffer.alloc(0), id, ctx)).rejects.toMatchObject({ code: 'FORMAT_USAGE' });
    await expect(encodeChunk(Buffer.alloc(CHUNK + 1, 1), id, ctx)).rejects.toMatchObject({ code: 'FORMAT_USAGE' });
  });
});

describe.each(contexts)('chunk damage is detected (%s)', (_kind, makeContext) => {
  async function stored(ctx: CodecContext, seed = 1) {
    const data = textData(100_000, seed);
    const id = await chunkId(data, ctx);
    return { data, id, object: await encodeChunk(data, id, ctx) };
  }

  it.each([
    ['magic', 0],
    ['flags', 5],
    ['reserved byte', 7],
    ['first payload byte', 8],
    ['middle byte', 5000],
    ['last byte (tag or check)', -1],
  ])('a flipped %s fails with CHUNK_CORRUPT on both read paths', async (_what, index) => {
    const ctx = await makeContext();
    const { id, object } = await stored(ctx);
    const damaged = flipByte(object, index);
    await expect(decodeChunk(damaged, id, ctx)).rejects.toMatchObject({ code: 'CHUNK_CORRUPT', exitCode: 1 });
    await expect(openChunkPayload(damaged, id, ctx)).rejects.toMatchObject({ code: 'CHUNK_CORRUPT' });
  });

  it('a newer object version is refused with REPO_VERSION', async () => {
    const ctx = await makeContext();
    const { id, object } = await stored(ctx);
    const newer = Buffer.from(object);
    newer[4] = 2;
    await expect(decodeChunk(newer, id, ctx)).rejects.toMatchObject({ code: 'REPO_VERSION' });
  });

  it('an object swapped for another (A read under B’s id) fails, naming B’s object', async () => {
    const ctx = await makeContext();
    const a = await stored(ctx, 1);
    const b = await stored(ctx, 2);
    const err = await decodeChunk(a.object, b.id, ctx).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CHUNK_CORRUPT' });
    expect((err as Error).message).toContain(chunkObjectName(b.id));
    await expect(openChunkPayload(a.object, b.id, ctx)).rejects.toMatchObject({ code: 'CHUNK_CORRUPT' });
  });

  it.each([0, 5, 8, 30, -1])('a truncated object (cut to %i bytes from its end or start) fails', async (cut) => {
    const ctx = await makeContext();
    const { id, object } = await stored(ctx);
    const truncated = cut < 0 ? object.subarray(0, object.length + cut) : object.subarray(0, cut);
    await expect(decodeChunk(truncated, id, ctx)).rejects.toMatchObject({ code: 'CHUNK_CORRUPT' });
  });

  it('a well-sealed object whose gzip stream is damaged fails on decode, never returning data', async () => {
    const ctx = await makeContext();
    const data = textData(100_000);
    const id = await chunkId(data, ctx);
    const gz = await gzip(data, 6);
    const badGzip = flipByte(gz, gz.length - 6); // inside the CRC-32 trailer
    const object = await sealEnvelope('chunk', chunkObjectName(id), badGzip, false, ctx.keys);
    await expect(decodeChunk(object, id, ctx)).rejects.toMatchObject({ code: 'CHUNK_CORRUPT' });
    await expect(decodeChunk(object, id, ctx)).rejects.toThrow(/gzip/);
  });

  it('a well-sealed object whose content does not match its id fails on decode', async () => {
    const ctx = await makeContext();
    const id = await chunkId(textData(1000, 1), ctx);
    const object = await sealEnvelope('chunk', chunkObjectName(id), textData(1000, 2), true, ctx.keys);
    await expect(decodeChunk(object, id, ctx)).rejects.toThrow(/does not match its id/);
  });

  it('a gzip stream inflating beyond the chunk size is refused', async () => {
    const ctx = await makeContext();
    const id = Buffer.alloc(32, 3);
    const bomb = await gzip(Buffer.alloc(CHUNK + 1, 1), 1);
    const object = await sealEnvelope('chunk', chunkObjectName(id), bomb, false, ctx.keys);
    await expect(decodeChunk(object, id, ctx)).rejects.toMatchObject({ code: 'CHUNK_CORRUPT' });
  });
});

describe('plain and encrypted objects do not mix', () => {
  it('an encrypted repository refuses a plain object under a valid name, and the reverse', async () => {
    const plain = plainContext();
    const enc = await encryptedContext();
    const data = textData(5000);
    const encId = await chunkId(data, enc);
    const plantedPlain = await encodeChunk(data, encId, plain);
    await expect(decodeChunk(plantedPlain, encId, enc)).rejects.toThrow(/not encrypted but the repository is/);
    const plainId = await chunkId(data, plain);
    const encObject = await encodeChunk(data, plainId, enc);
    await expect(decodeChunk(encObject, plainId, plain)).rejects.toThrow(/encrypted but the repository is not/);
  });

  it('an object sealed under another repository’s keys fails authentication', async () => {
    const a = await encryptedContext();
    const b = await encryptedContext();
    const data = textData(5000);
    const id = await chunkId(data, a);
    const object = await encodeChunk(data, id, a);
    await expect(decodeChunk(object, id, b)).rejects.toThrow(/authentication failed/);
  });

  it('a context that mixes encrypted config and missing keys is a usage error', async () => {
    const enc = await encryptedContext();
    await expect(chunkId(Buffer.from('x'), { config: enc.config })).rejects.toMatchObject({ code: 'FORMAT_USAGE' });
    await expect(chunkId(Buffer.from('x'), { config: plainContext().config, keys: enc.keys })).rejects.toMatchObject({
      code: 'FORMAT_USAGE',
    });
  });
});

describe('encrypted objects hide their content', () => {
  it('uses a fresh nonce per object, so the same range never gives the same bytes', async () => {
    const ctx = await encryptedContext();
    const data = textData(CHUNK);
    const id = await chunkId(data, ctx);
    const one = await encodeChunk(data, id, ctx);
    const two = await encodeChunk(data, id, ctx);
    expect(one.subarray(8, 20)).not.toEqual(two.subarray(8, 20));
    expect(one.includes(data.subarray(0, 64))).toBe(false);
    // The gzip stream a plain repository would store must not show through (64 bytes: no chance match).
    const gz = await gzip(data, ctx.config.compression.level);
    expect(one.includes(gz.subarray(0, 64))).toBe(false);
    expect(one.includes(gz.subarray(gz.length - 64))).toBe(false);
  });
});
