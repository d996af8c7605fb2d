/**
 * Thin wrappers over WebCrypto, for everything but chunk ids: AES-256-GCM sealing of envelopes, the plain
 * envelope's check hash, manifest and config MACs, key derivation. Chunk ids are hashed with node:crypto
 * (chunk.ts, and on worker threads for ranges in shared memory, src/hashing); the AES-GCM work on whole
 * chunks runs on the libuv threadpool through WebCrypto.
 */
import { webcrypto } from 'node:crypto';

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
