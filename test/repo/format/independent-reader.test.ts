/**
 * A second reader written from docs/repository-format.md alone, with node:crypto and node:zlib's
 * synchronous primitives, reads what the codecs write. If the document and the code drift apart, this fails.
 */
import { createDecipheriv, createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { chunkId, encodeChunk, encodeManifest, SUBKEY_INFO } from '../../../src/repo/format/index.js';
import { CHUNK, encryptedContext, plainContext, sameBytes, subkey, textData } from './fixtures.js';

function readObject(object: Buffer, name: string, magic: string, sealKey?: Buffer): { raw: boolean; payload: Buffer } {
  expect(object.toString('latin1', 0, 4)).toBe(magic);
  expect(object[4]).toBe(1);
  const flags = object[5]!;
  expect(object.readUInt16BE(6)).toBe(0);
  const header = object.subarray(0, 8);
  if (sealKey) {
    expect(flags & 1).toBe(1);
    const nonce = object.subarray(8, 20);
    const tag = object.subarray(object.length - 16);
    const decipher = createDecipheriv('aes-256-gcm', sealKey, nonce);
    decipher.setAAD(Buffer.concat([header, Buffer.from(name, 'utf8')]));
    decipher.setAuthTag(tag);
    const payload = Buffer.concat([decipher.update(object.subarray(20, object.length - 16)), decipher.final()]);
    return { raw: (flags & 2) !== 0, payload };
  }
  expect(flags & 1).toBe(0);
  const end = object.length - 32;
  const inner = createHash('sha256').update(object.subarray(0, end)).digest();
  const check = createHash('sha256').update(name, 'utf8').update(Buffer.from([0])).update(inner).digest();
  expect(check.equals(object.subarray(end))).toBe(true);
  return { raw: (flags & 2) !== 0, payload: object.subarray(8, end) };
}

describe('an independent reader following the document', () => {
  it('reads a plain chunk', async () => {
    const ctx = plainContext();
    const data = textData(CHUNK - 100);
    const id = await chunkId(data, ctx);
    const name = `chunks/${id.toString('hex').slice(0, 2)}/${id.toString('hex')}`;
    const { raw, payload } = readObject(await encodeChunk(data, id, ctx), name, 'DSCK');
    const plain = raw ? payload : gunzipSync(payload);
    expect(sameBytes(plain, data)).toBe(true);
    expect(createHash('sha256').update(plain).digest().equals(id)).toBe(true);
  });

  it('reads an encrypted chunk with the HKDF seal subkey', async () => {
    const ctx = await encryptedContext();
    const data = textData(CHUNK);
    const id = await chunkId(data, ctx);
    const name = `chunks/${id.toString('hex').slice(0, 2)}/${id.toString('hex')}`;
    const object = await encodeChunk(data, id, ctx);
    const { raw, payload } = readObject(object, name, 'DSCK', subkey(ctx.master, SUBKEY_INFO.seal));
    expect(raw).toBe(false);
    expect(sameBytes(gunzipSync(payload), data)).toBe(true);
  });

  it('reads an encrypted manifest: u32 length, JSON metadata, then the packed id table', async () => {
    const ctx = await encryptedContext();
    const meta = {
      driveUuid: 'u',
      driveName: 'n',
      accountName: 'a',
      endpoint: 'https://e',
      size: 2 * CHUNK + 1,
      chunkSize: CHUNK,
      time: '2026-08-21T10:00:00.000Z',
      host: 'h',
      tags: [],
      parent: null,
      toolVersion: '0.1.0',
      counts: { zero: 1, new: 2, reused: 0 },
      claimed: true,
      extra: {},
    };
    const table = Buffer.alloc(3 * 32, 0xaa);
    table.fill(0, 32, 64);
    const { id, name, object } = await encodeManifest({ meta, table }, ctx);
    const { raw, payload } = readObject(object, name, 'DSSN', subkey(ctx.master, SUBKEY_INFO.seal));
    const plain = raw ? payload : gunzipSync(payload);
    const metaLength = plain.readUInt32BE(0);
    expect(JSON.parse(plain.toString('utf8', 4, 4 + metaLength))).toEqual(meta);
    expect(plain.subarray(4 + metaLength).equals(table)).toBe(true);
    expect(name).toBe(`snapshots/${id}`);
  });
});
