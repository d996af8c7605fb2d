/** Object ids and the names objects are stored under. */
import { FormatUsageError } from './errors.js';

export const ID_BYTES = 32;
const HEX_ID_RE = /^[0-9a-f]{64}$/;

export const CONFIG_OBJECT = 'config';
export const KEYS_PREFIX = 'keys/';
export const CHUNKS_PREFIX = 'chunks/';
export const SNAPSHOTS_PREFIX = 'snapshots/';

export function isHexId(text: string): boolean {
  return HEX_ID_RE.test(text);
}

export function idToHex(id: Uint8Array): string {
  if (id.length !== ID_BYTES) throw new FormatUsageError(`an object id has ${ID_BYTES} bytes, got ${id.length}`);
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex');
}

export function hexToId(hex: string): Buffer {
  if (!isHexId(hex)) throw new FormatUsageError(`not an object id (64 lowercase hex digits): ${hex.slice(0, 80)}`);
  return Buffer.from(hex, 'hex');
}

/** `chunks/<first 2 hex>/<64 hex>`: 256 directories keep local stores and S3 listings evenly spread. */
export function chunkObjectName(id: Uint8Array): string {
  const hex = idToHex(id);
  return `${CHUNKS_PREFIX}${hex.slice(0, 2)}/${hex}`;
}

export function snapshotObjectName(idHex: string): string {
  if (!isHexId(idHex)) throw new FormatUsageError(`not a snapshot id (64 lowercase hex digits): ${idHex.slice(0, 80)}`);
  return `${SNAPSHOTS_PREFIX}${idHex}`;
}

export function keyObjectName(idHex: string): string {
  if (!isHexId(idHex)) throw new FormatUsageError(`not a key id (64 lowercase hex digits): ${idHex.slice(0, 80)}`);
  return `${KEYS_PREFIX}${idHex}`;
}
