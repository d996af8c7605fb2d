/**
 * The chunk codec on both gzip paths: the process's codec (ISA-L when its addon is built, as in CI) and the
 * node:zlib fallback forced with DRIVESNAP_CODEC=zlib (modules loaded afresh under that setting).
 */
import { createDecipheriv, randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { levelTwoCodec } from '../../helpers/codec-labels.js';
import { SUBKEY_INFO } from '../../../src/repo/format/keys.js';
import { CHUNK, encryptedContext, plainContext, subkey, textData } from './fixtures.js';

type Format = typeof import('../../../src/repo/format/index.js');

function chunkTests(expectedLabel: () => string, load: () => Promise<Format>) {
  let f: Format;
  beforeAll(async () => {
    f = await load();
  });

  it('runs gzip through the expected codec', () => {
    expect(f.gzipCodecLabel(2)).toBe(expectedLabel());
  });

  it('stores a text-like range as a gzip stream any gunzip reads, and decodes it byte-exact', async () => {
    const ctx = plainContext();
    const data = textData(CHUNK);
    const id = await f.chunkId(data, ctx);
    const object = await f.encodeChunk(data, id, ctx);
    const { encoding, payload } = await f.openChunkPayload(object, id, ctx);
    expect(encoding).toBe('gzip');
    expect(gunzipSync(payload).equals(data)).toBe(true);
    expect((await f.decodeChunk(object, id, ctx)).equals(data)).toBe(true);
  });

  it('stores a random range raw, as is', async () => {
    const ctx = plainContext();
    const data = randomBytes(CHUNK);
    const id = await f.chunkId(data, ctx);
    const { encoding, payload } = await f.openChunkPayload(await f.encodeChunk(data, id, ctx), id, ctx);
    expect(encoding).toBe('raw');
    expect(payload.equals(data)).toBe(true);
  });

  it.each([
    ['text-like', () => textData(CHUNK, 3), 'gzip'],
    ['random', () => randomBytes(CHUNK), 'raw'],
  ] as const)('encodes a %s range into a reused buffer, sealed in place, that an independent AES-GCM reader opens', async (_kind, make, encoding) => {
    const ctx = await encryptedContext();
    const into = Buffer.alloc(f.maxChunkObjectBytes(CHUNK));
    for (const data of [make(), make()]) {
      const id = await f.chunkId(data, ctx);
      const object = await f.encodeChunk(data, id, ctx, into);
      expect(object.buffer === into.buffer).toBe(true);
      // header 8 | nonce 12 | ciphertext | tag 16, associated data header | name (docs/repository-format.md)
      const decipher = createDecipheriv('aes-256-gcm', subkey(ctx.master, SUBKEY_INFO.seal), object.subarray(8, 20));
      decipher.setAAD(Buffer.concat([object.subarray(0, 8), Buffer.from(f.chunkObjectName(id))]));
      decipher.setAuthTag(object.subarray(object.length - 16));
      const payload = Buffer.concat([decipher.update(object.subarray(20, object.length - 16)), decipher.final()]);
      expect(encoding === 'gzip' ? gunzipSync(payload).equals(data) : payload.equals(data)).toBe(true);
      expect((await f.decodeChunk(object, id, ctx)).equals(data)).toBe(true);
    }
  });

  it('opens an encrypted chunk in place when the caller owns the object, refusing an altered one', async () => {
    const ctx = await encryptedContext();
    const data = textData(CHUNK, 9);
    const id = await f.chunkId(data, ctx);
    const object = await f.encodeChunk(data, id, ctx);
    const copy = Buffer.from(object);
    const { payload } = await f.openChunkPayload(copy, id, ctx, { inPlace: true });
    expect(gunzipSync(payload).equals(data)).toBe(true);
    const altered = Buffer.from(object);
    altered[40]! ^= 1;
    await expect(f.openChunkPayload(altered, id, ctx, { inPlace: true })).rejects.toThrow(/authentication failed/);
    // Without inPlace the object is left as it was.
    const before = Buffer.from(object);
    await f.openChunkPayload(object, id, ctx);
    expect(object.equals(before)).toBe(true);
  });

  it('encodes into a reused buffer in a plain repository too', async () => {
    const ctx = plainContext();
    const into = Buffer.alloc(f.maxChunkObjectBytes(CHUNK));
    for (const data of [textData(CHUNK, 5), randomBytes(CHUNK)]) {
      const id = await f.chunkId(data, ctx);
      const object = await f.encodeChunk(data, id, ctx, into);
      expect(object.buffer === into.buffer).toBe(true);
      expect((await f.decodeChunk(object, id, ctx)).equals(data)).toBe(true);
    }
  });

  it("decodes a chunk whose gzip stream node:zlib wrote at level 9 (another host's codec)", async () => {
    const ctx = plainContext();
    const data = textData(CHUNK, 7);
    const id = await f.chunkId(data, ctx);
    const object = await f.sealEnvelope('chunk', f.chunkObjectName(id), gzipSync(data, { level: 9 }), false, undefined);
    expect((await f.decodeChunk(object, id, ctx)).equals(data)).toBe(true);
  });
}

describe('chunks on the process codec', () => {
  chunkTests(
    // The whole suite may itself run with the fallback forced.
    () => levelTwoCodec(process.env.DRIVESNAP_CODEC === 'zlib'),
    () => import('../../../src/repo/format/index.js'),
  );
});

describe('chunks on the node:zlib fallback (DRIVESNAP_CODEC=zlib)', () => {
  afterAll(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });
  chunkTests(
    () => 'node:zlib L2',
    async () => {
      vi.stubEnv('DRIVESNAP_CODEC', 'zlib');
      vi.resetModules();
      return import('../../../src/repo/format/index.js');
    },
  );
});
