/**
 * Thin wrappers over WebCrypto for the small objects (manifest and config MACs, key files, key derivation),
 * and over node:crypto for the work on whole chunks: AES-256-GCM sealing of envelopes and the plain
 * envelope's check hash run on the calling thread without copying the payload (WebCrypto copies it, and
 * allocates its output on a pool thread). Chunk ids are hashed with node:crypto too (chunk.ts, and on
 * worker threads for ranges in shared memory, src/hashing).
 */
import { createCipheriv, createDecipheriv, createHash, type KeyObject, webcrypto } from 'node:crypto';
import { nativeGcmOpen, nativeGcmSeal } from '../../codec/active.js';

export type CryptoKey = webcrypto.CryptoKey;
const subtle = webcrypto.subtle;

export const GCM_NONCE_BYTES = 12;
export const GCM_TAG_BYTES = 16;

/**
 * WebCrypto refuses views on a SharedArrayBuffer (the jobs' slot buffers, shared with the hash pool's
 * workers): those are copied into ordinary memory first, as WebCrypto copies its input anyway.
 */
function unshared(data: Uint8Array): Uint8Array {
  return data.buffer instanceof SharedArrayBuffer ? Uint8Array.prototype.slice.call(data) : data;
}

/** SHA-256 with node:crypto: no copy of `data`, shared memory included. */
export function sha256Sync(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

/**
 * AES-256-GCM: writes the ciphertext and then the 16-byte tag into `out` at `at` (room for plaintext.length
 * + 16 bytes; `plaintext` may already lie there, sealed in place) and returns the end offset. Through the
 * native addon on the thread pool when it is in use (no allocation), else node:crypto on this thread.
 */
export async function aesGcmSealInto(key: KeyObject, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, out: Buffer, at: number): Promise<number> {
  const native = nativeGcmSeal();
  if (native) return at + (await native(key.export(), nonce, aad, plaintext, out.subarray(at)));
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG_BYTES });
  cipher.setAAD(aad);
  let end = at + cipher.update(plaintext).copy(out, at);
  end += cipher.final().copy(out, end);
  return end + cipher.getAuthTag().copy(out, end);
}

/**
 * AES-256-GCM open of ciphertext | tag; undefined when the tag does not verify. `inPlace`: the caller owns
 * `sealed` and lets the plaintext overwrite it (through the addon, no allocation; the result is then a view
 * of `sealed`); else node:crypto allocates the plaintext.
 */
export async function aesGcmOpen(key: KeyObject, nonce: Uint8Array, sealed: Buffer, aad: Uint8Array, inPlace = false): Promise<Buffer | undefined> {
  if (sealed.length < GCM_TAG_BYTES) return undefined;
  const end = sealed.length - GCM_TAG_BYTES;
  const native = inPlace ? nativeGcmOpen() : undefined;
  if (native) {
    const n = await native(key.export(), nonce, aad, sealed, sealed.subarray(0, end));
    return n === null ? undefined : sealed.subarray(0, n);
  }
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: GCM_TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(end));
  const plain = decipher.update(sealed.subarray(0, end));
  try {
    decipher.final();
  } catch {
    // Never hand out bytes whose tag failed.
    plain.fill(0);
    return undefined;
  }
  // In place as promised, so a caller reusing `sealed` sees the same on either path.
  return inPlace ? sealed.subarray(0, plain.copy(sealed)) : plain;
}

export async function sha256(data: Uint8Array): Promise<Buffer> {
  return Buffer.from(await subtle.digest('SHA-256', unshared(data)));
}

export async function hmacSha256(key: CryptoKey, data: Uint8Array): Promise<Buffer> {
  return Buffer.from(await subtle.sign('HMAC', key, unshared(data)));
}

/** AES-256-GCM: returns ciphertext followed by the 16-byte tag. */
export async function gcmSeal(key: CryptoKey, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Promise<Buffer> {
  const sealed = await subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: aad, tagLength: 128 }, key, unshared(plaintext));
  return Buffer.from(sealed);
}

/** AES-256-GCM open; resolves undefined when the tag does not verify (wrong key, altered data or AAD). */
export async function gcmOpen(
  key: CryptoKey,
  nonce: Uint8Array,
  sealed: Uint8Array,
  aad: Uint8Array,
): Promise<Buffer | undefined> {
  try {
    const plain = await subtle.decrypt({ name: 'AES-GCM', iv: nonce, additionalData: aad, tagLength: 128 }, key, unshared(sealed));
    return Buffer.from(plain);
  } catch {
    return undefined;
  }
}

export async function importAesKey(raw: Uint8Array): Promise<CryptoKey> {
  return subtle.importKey('raw', raw, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
}

/** HKDF-SHA-256 with an empty salt (the master key is already uniformly random), 32-byte output. */
export async function hkdfKey(
  master: Uint8Array,
  info: string,
  use: { name: 'AES-GCM'; length: 256 } | { name: 'HMAC'; hash: 'SHA-256'; length: 256 },
): Promise<CryptoKey> {
  const base = await subtle.importKey('raw', master, 'HKDF', false, ['deriveKey']);
  const usages: webcrypto.KeyUsage[] = use.name === 'AES-GCM' ? ['encrypt', 'decrypt'] : ['sign', 'verify'];
  return subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: Buffer.from(info, 'utf8') },
    base,
    use,
    false,
    usages,
  );
}
