/** AES-256-GCM through the addon against node:crypto's own, apart, in place and from shared memory. */
import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nativeGcmOpen, nativeGcmSeal } from '../../src/codec/active.js';

function reference(key: Buffer, nonce: Buffer, aad: Buffer, data: Buffer): Buffer {
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(aad);
  return Buffer.concat([c.update(data), c.final(), c.getAuthTag()]);
}

describe.skipIf(!nativeGcmSeal())('native AES-256-GCM sealing', () => {
  const key = randomBytes(32);
  const nonce = randomBytes(12);
  const aad = Buffer.from('DSCK header and object name');
  const data = randomBytes(3 * 1024 * 1024 + 5);
  const expected = reference(key, nonce, aad, data);
  const seal = () => nativeGcmSeal()!;

  it('writes what node:crypto writes: ciphertext, then the tag', async () => {
    const out = Buffer.alloc(data.length + 16);
    expect(await seal()(key, nonce, aad, data, out)).toBe(data.length + 16);
    expect(out.equals(expected)).toBe(true);
  });

  it('seals in place and reads ranges in shared memory', async () => {
    const inPlace = Buffer.alloc(data.length + 16);
    data.copy(inPlace);
    await seal()(key, nonce, aad, inPlace.subarray(0, data.length), inPlace);
    expect(inPlace.equals(expected)).toBe(true);
    const shared = Buffer.from(new SharedArrayBuffer(data.length));
    data.copy(shared);
    const out = Buffer.alloc(data.length + 16);
    await seal()(key, nonce, aad, shared, out);
    expect(out.equals(expected)).toBe(true);
  });

  it('opens in place what it sealed, and wipes the bytes when the tag fails', async () => {
    const sealed = Buffer.from(expected);
    expect(await nativeGcmOpen()!(key, nonce, aad, sealed, sealed.subarray(0, data.length))).toBe(data.length);
    expect(sealed.subarray(0, data.length).equals(data)).toBe(true);
    const altered = Buffer.from(expected);
    altered[100]! ^= 1;
    expect(await nativeGcmOpen()!(key, nonce, aad, altered, altered.subarray(0, data.length))).toBeNull();
    expect(altered.subarray(0, data.length).every((b) => b === 0)).toBe(true);
    const otherAad = Buffer.from(expected);
    expect(await nativeGcmOpen()!(key, nonce, Buffer.from('another name'), otherAad, Buffer.alloc(data.length))).toBeNull();
  });

  it('refuses a short output, a partial overlap and a wrong key length', () => {
    expect(() => seal()(key, nonce, aad, data, Buffer.alloc(data.length))).toThrow(/data.length \+ 16/);
    const both = Buffer.alloc(200);
    expect(() => seal()(key, nonce, aad, both.subarray(0, 100), both.subarray(50))).toThrow(/overlaps/);
    expect(() => seal()(key.subarray(0, 16), nonce, aad, data, Buffer.alloc(data.length + 16))).toThrow(/32 bytes/);
  });
});
