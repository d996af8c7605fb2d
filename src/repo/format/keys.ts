/**
 * The master key and the subkeys derived from it. One random master key per repository; every password
 * unlocks the same master key through its own key file (keyfile.ts), so passwords can be added and removed
 * without touching data.
 */
import { randomBytes } from 'node:crypto';
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
  /** AES-256-GCM key sealing chunk and snapshot objects. */
  readonly seal: CryptoKey;
  /** HMAC-SHA-256 key for chunk and snapshot ids. */
  readonly id: CryptoKey;
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
  const [seal, id, configMac] = await Promise.all([
    hkdfKey(master, SUBKEY_INFO.seal, { name: 'AES-GCM', length: 256 }),
    hkdfKey(master, SUBKEY_INFO.id, hmac),
    hkdfKey(master, SUBKEY_INFO.configMac, hmac),
  ]);
  return { seal, id, configMac };
}
