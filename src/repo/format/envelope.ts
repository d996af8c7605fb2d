/**
 * The envelope every chunk and snapshot object is stored in:
 *
 *   header (8 bytes) = magic (4) | version (1) | flags (1) | reserved (2, zero)
 *   plain:     header | payload | check (32)         check = SHA-256(name | 0x00 | SHA-256(header | payload))
 *   encrypted: header | nonce (12) | AES-256-GCM(payload) | tag (16), associated data = header | name
 *
 * Binding the object's name means an object copied or renamed to another name fails to open, and the
 * header (flags included) cannot be altered. The plain check is no MAC (anyone can recompute it); it
 * catches bit rot and misplaced objects without inflating the payload.
 */
import { randomFillSync } from 'node:crypto';
import { aesGcmOpen, aesGcmSealInto, GCM_NONCE_BYTES, GCM_TAG_BYTES, sha256Sync } from './crypto.js';
import { CorruptObjectError, RepoVersionError } from './errors.js';
import type { RepoKeys } from './keys.js';

export const HEADER_BYTES = 8;
export const OBJECT_VERSION = 1;
export const PLAIN_CHECK_BYTES = 32;
export const MAGIC = { chunk: 'DSCK', snapshot: 'DSSN' } as const;
export const FLAG_ENCRYPTED = 0x01;
export const FLAG_RAW = 0x02;
const KNOWN_FLAGS = FLAG_ENCRYPTED | FLAG_RAW;

export type EnvelopeKind = keyof typeof MAGIC;

export interface OpenedEnvelope {
  /** True when the payload is the data itself, false when it is a gzip stream of it. */
  raw: boolean;
  payload: Buffer;
}

function header(kind: EnvelopeKind, flags: number): Buffer {
  const h = Buffer.alloc(HEADER_BYTES);
  h.write(MAGIC[kind], 0, 'latin1');
  h[4] = OBJECT_VERSION;
  h[5] = flags;
  return h;
}

function associatedData(head: Uint8Array, name: string): Buffer {
  return Buffer.concat([head, Buffer.from(name, 'utf8')]);
}

function plainCheck(headAndPayload: Uint8Array, name: string): Buffer {
  const inner = sha256Sync(headAndPayload);
  return sha256Sync(Buffer.concat([Buffer.from(name, 'utf8'), Buffer.from([0]), inner]));
}

/** Where the payload starts in an envelope: encodeChunk compresses straight there. */
export function envelopePayloadOffset(keys: RepoKeys | undefined): number {
  return HEADER_BYTES + (keys ? GCM_NONCE_BYTES : 0);
}

/** The longest envelope of a payload of `payloadBytes`, encrypted or plain. */
export function maxEnvelopeBytes(payloadBytes: number): number {
  return HEADER_BYTES + Math.max(GCM_NONCE_BYTES + GCM_TAG_BYTES, PLAIN_CHECK_BYTES) + payloadBytes;
}

/**
 * The object of `payload`; with `into` (at least maxEnvelopeBytes(payload.length) long, reused by the
 * caller) it is laid out there and the result is a view of `into`. The payload may already lie in `into` at
 * envelopePayloadOffset: it is then sealed in place.
 */
export async function sealEnvelope(
  kind: EnvelopeKind,
  name: string,
  payload: Uint8Array,
  raw: boolean,
  keys: RepoKeys | undefined,
  into?: Buffer,
): Promise<Buffer> {
  const flags = (keys ? FLAG_ENCRYPTED : 0) | (raw ? FLAG_RAW : 0);
  const head = header(kind, flags);
  const outBuffer = (size: number) => (into && into.length >= size ? into.subarray(0, size) : Buffer.allocUnsafeSlow(size));
  if (keys) {
    const out = outBuffer(HEADER_BYTES + GCM_NONCE_BYTES + payload.length + GCM_TAG_BYTES);
    head.copy(out, 0);
    const nonce = randomFillSync(out.subarray(HEADER_BYTES, HEADER_BYTES + GCM_NONCE_BYTES));
    const end = await aesGcmSealInto(keys.seal, nonce, payload, associatedData(head, name), out, HEADER_BYTES + GCM_NONCE_BYTES);
    return end === out.length ? out : out.subarray(0, end);
  }
  // One copy of the payload, laid out so header|payload is contiguous for hashing.
  const out = outBuffer(HEADER_BYTES + payload.length + PLAIN_CHECK_BYTES);
  head.copy(out, 0);
  out.set(payload, HEADER_BYTES);
  const check = plainCheck(out.subarray(0, HEADER_BYTES + payload.length), name);
  check.copy(out, HEADER_BYTES + payload.length);
  return out;
}

/** Checks magic, version, flags, then the GCM tag or plain check; never returns unverified bytes. */
export async function openEnvelope(
  kind: EnvelopeKind,
  name: string,
  object: Buffer,
  keys: RepoKeys | undefined,
  /** The caller's own copy of the object: it may be decrypted in place (the payload is then a view of it). */
  opts: { inPlace?: boolean } = {},
): Promise<OpenedEnvelope> {
  const corrupt = (reason: string) => new CorruptObjectError(kind, name, reason);
  if (object.length < HEADER_BYTES) throw corrupt(`truncated: ${object.length} bytes, shorter than the header`);
  if (object.toString('latin1', 0, 4) !== MAGIC[kind]) throw corrupt(`not a ${kind} object: bad magic`);
  const version = object[4]!;
  if (version > OBJECT_VERSION) throw new RepoVersionError(name, version, OBJECT_VERSION);
  if (version < 1) throw corrupt(`bad version ${version}`);
  const flags = object[5]!;
  if ((flags & ~KNOWN_FLAGS) !== 0 || object[6] !== 0 || object[7] !== 0) throw corrupt('unknown flags set in the header');
  const encrypted = (flags & FLAG_ENCRYPTED) !== 0;
  const raw = (flags & FLAG_RAW) !== 0;
  // Refusing a plain object in an encrypted repository stops an attacker from planting unauthenticated data.
  if (encrypted && !keys) throw corrupt('the object is encrypted but the repository is not');
  if (!encrypted && keys) throw corrupt('the object is not encrypted but the repository is');
  const head = object.subarray(0, HEADER_BYTES);

  if (keys) {
    if (object.length < HEADER_BYTES + GCM_NONCE_BYTES + GCM_TAG_BYTES) throw corrupt(`truncated: ${object.length} bytes`);
    const nonce = object.subarray(HEADER_BYTES, HEADER_BYTES + GCM_NONCE_BYTES);
    const sealed = object.subarray(HEADER_BYTES + GCM_NONCE_BYTES);
    const payload = await aesGcmOpen(keys.seal, nonce, sealed, associatedData(head, name), opts.inPlace);
    if (!payload) {
      throw corrupt('authentication failed: the object was altered, truncated, or stored under another name');
    }
    return { raw, payload };
  }
  if (object.length < HEADER_BYTES + PLAIN_CHECK_BYTES) throw corrupt(`truncated: ${object.length} bytes`);
  const end = object.length - PLAIN_CHECK_BYTES;
  const check = plainCheck(object.subarray(0, end), name);
  if (!check.equals(object.subarray(end))) {
    throw corrupt('checksum mismatch: the object was altered, truncated, or stored under another name');
  }
  return { raw, payload: object.subarray(HEADER_BYTES, end) };
}
