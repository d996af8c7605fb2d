/** Shared test material: contexts for both repository kinds and data that compresses like real drives. */
import { createHash, createHmac, hkdfSync } from 'node:crypto';
import { type CodecContext, deriveKeys, newConfig, newMasterKey } from '../../../src/repo/format/index.js';

export const CHUNK = 4 * 1024 * 1024;

export function plainContext(): CodecContext {
  return { config: newConfig({ encrypted: false }) };
}

export async function encryptedContext(master = newMasterKey()): Promise<CodecContext & { master: Buffer }> {
  return { config: newConfig({ encrypted: true }), keys: await deriveKeys(master), master };
}

/** Subkey bytes computed with node:crypto's own HKDF, independently of the code under test. */
export function subkey(master: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), Buffer.from(info, 'utf8'), 32));
}

export function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

export function hmac(key: Buffer, data: Uint8Array): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** Log-like text: compresses several-fold, as file system contents mostly do. */
export function textData(bytes: number, seed = 1): Buffer {
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; length < bytes; i++) {
    const line = `${seed}:${i} INFO worker-${(i * 7919) % 97} processed request ${(i * 104729) % 100003} in ${i % 311} ms\n`;
    parts.push(line);
    length += line.length;
  }
  return Buffer.from(parts.join(''), 'utf8').subarray(0, bytes);
}

export function flipByte(buf: Buffer, index: number): Buffer {
  const copy = Buffer.from(buf);
  const at = index < 0 ? copy.length + index : index;
  copy[at] = copy[at]! ^ 0x01;
  return copy;
}

/** Byte equality by memcmp: vitest's deep equality walks a 4 MiB buffer element by element, far too slowly. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}
