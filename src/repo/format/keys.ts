/**
 * The master key and the subkeys derived from it. One random master key per repository; every password
 * unlocks the same master key through its own key file (keyfile.ts), so passwords can be added and removed
 * without touching data.
 */
import { type KeyObject, createSecretKey, hkdfSync, randomBytes } from 'node:crypto';
import { type CryptoKey, hkdfKey } from './crypto.js';
import { FormatUsageError } from './errors.js';

export const MASTER_KEY_BYTES = 64;

/** HKDF `info` strings; changing one changes every id and seal, so they are part of the format. */
export const SUBKEY_INFO = {
  seal: 'drivesnap/v1/seal',
  id: 'drivesnap/v1/id',
  configMac: 'drivesnap/v1/config-mac',
} as const;

/** Imported, non-extractable keys: derived once per open, never per chunk. */
export interface RepoKeys {
  /**
   * AES-256-GCM key sealing chunk and snapshot objects, for node:crypto: it seals on the calling thread with
   * no copy of the payload, where WebCrypto copied it and allocated its output on a pool thread, whose malloc
   * arena then kept the freed 1-4 MiB blocks resident (measured: peak RSS of a full backup ~20 MiB lower).
   */
  readonly seal: KeyObject;
  /** HMAC-SHA-256 key for chunk and snapshot ids. */
  readonly id: CryptoKey;
  /**
   * The same id key for node:crypto's HMAC, which hashes a 4 MiB range in place at ~1.7 GB/s; WebCrypto
   * copies the range first and measured slower in aggregate (bench: 1.25 GB/s with all ranges in flight).
   */
  readonly idHmac: KeyObject;
  /** HMAC-SHA-256 key for the config object's MAC. */
  readonly configMac: CryptoKey;
}

export function newMasterKey(): Buffer {
  return randomBytes(MASTER_KEY_BYTES);
}

export async function deriveKeys(master: Buffer): Promise<RepoKeys> {
  if (master.length !== MASTER_KEY_BYTES) {
    throw new FormatUsageError(`a master key has ${MASTER_KEY_BYTES} bytes, got ${master.length}`);
  }
  const hmac = { name: 'HMAC', hash: 'SHA-256', length: 256 } as const;
  const [id, configMac] = await Promise.all([hkdfKey(master, SUBKEY_INFO.id, hmac), hkdfKey(master, SUBKEY_INFO.configMac, hmac)]);
  return { seal: secretSubkey(master, SUBKEY_INFO.seal), id, idHmac: secretSubkey(master, SUBKEY_INFO.id), configMac };
}

/** The same HKDF as hkdfKey (SHA-256, empty salt, the label as info), so both forms are one key. */
function secretSubkey(master: Buffer, info: string): KeyObject {
  const bytes = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), info, 32));
  const key = createSecretKey(bytes);
  bytes.fill(0);
  return key;
}
