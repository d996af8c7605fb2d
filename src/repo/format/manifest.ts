/**
 * Snapshot manifests (`snapshots/<id>`): metadata plus the ordered table of chunk ids, one per range of the
 * drive, ZERO_ID for all-zero ranges. Plaintext layout:
 *
 *   metaLength (u32 big-endian) | metadata (UTF-8 JSON, metaLength bytes) | table (n x 32 bytes)
 *
 * The snapshot id is the hash of that plaintext (as chunk ids are), so a snapshot cannot change without
 * changing its name. The plaintext is gzip'd (or kept raw when that does not shrink it) and sealed in an
 * envelope like a chunk.
 */
import { z } from 'zod';
import { gunzip, gzip } from './compress.js';
import { type CodecContext, contextKeys } from './context.js';
import { hmacSha256, sha256 } from './crypto.js';
import { openEnvelope, sealEnvelope } from './envelope.js';
import { CorruptObjectError, FormatUsageError } from './errors.js';
import { ID_BYTES, snapshotObjectName } from './ids.js';

/** Marks an all-zero range. No range hashes to it: that would need a SHA-256 / HMAC preimage of zero. */
export const ZERO_ID: Buffer = Buffer.alloc(ID_BYTES);
const META_LENGTH_BYTES = 4;
/** Metadata is small; a larger length is damage, not a big snapshot. */
const MAX_META_BYTES = 16 * 1024 * 1024;

const count = z.number().int().min(0);
const metaSchema = z.object({
  driveUuid: z.string(),
  driveName: z.string(),
  accountName: z.string(),
  endpoint: z.string(),
  size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  chunkSize: z.number().int().min(1),
  time: z.string(),
  host: z.string(),
  tags: z.array(z.string()),
  parent: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable(),
  toolVersion: z.string(),
  counts: z.object({ zero: count, new: count, reused: count }),
  claimed: z.boolean(),
  extra: z.record(z.string(), z.unknown()),
});

export interface SnapshotMeta {
  driveUuid: string;
  driveName: string;
  /** The account's name in the user's remotes file. */
  accountName: string;
  /** The drive API's base URL (no credentials). */
  endpoint: string;
  /** Drive size in bytes. */
  size: number;
  /** Bytes per range; equals the repository's chunk size. */
  chunkSize: number;
  /** When the backup started, ISO 8601 UTC. */
  time: string;
  host: string;
  tags: string[];
  /** Id of the snapshot this one was made incrementally from, or null. */
  parent: string | null;
  toolVersion: string;
  /** Ranges that were all zero, stored anew, and already in the repository. Informational. */
  counts: { zero: number; new: number; reused: number };
  /** The drive was claimed by a running server during the backup, so it may not be crash-consistent. */
  claimed: boolean;
  /** Free-form data for later versions and users; readers ignore what they do not know. */
  extra: Record<string, unknown>;
}

export interface Manifest {
  meta: SnapshotMeta;
  /** rangeCount(meta.size, meta.chunkSize) ids of 32 bytes, packed; ZERO_ID for all-zero ranges. */
  table: Buffer;
}

/** A manifest as stored: also the exact metadata text its id covers, so a cached copy can be proven later. */
export interface StoredManifest extends Manifest {
  metaJson: string;
}

function manifestPlaintext(metaJson: string, table: Buffer): Buffer {
  const metaBytes = Buffer.from(metaJson, 'utf8');
  const length = Buffer.alloc(META_LENGTH_BYTES);
  length.writeUInt32BE(metaBytes.length);
  return Buffer.concat([length, metaBytes, table]);
}

async function idOfPlaintext(plain: Buffer, ctx: CodecContext): Promise<string> {
  const keys = contextKeys(ctx);
  return (keys ? await hmacSha256(keys.id, plain) : await sha256(plain)).toString('hex');
}

/**
 * Whether metadata text and a table are exactly what snapshot `id` holds: the id is the hash (or, encrypted,
 * the MAC) of them, so a copy kept outside the repository (the index) is proven without reading the store.
 */
export async function provesManifest(id: string, metaJson: string, table: Buffer, ctx: CodecContext): Promise<boolean> {
  return (await idOfPlaintext(manifestPlaintext(metaJson, table), ctx)) === id;
}

/** The metadata of a proven manifest text, validated as a decoded manifest's is. */
export function parseManifestMeta(metaJson: string, name: string): SnapshotMeta {
  let raw: unknown;
  try {
    raw = JSON.parse(metaJson);
  } catch (err) {
    throw new CorruptObjectError('snapshot', name, 'metadata is not JSON', { cause: err });
  }
  const parsed = metaSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CorruptObjectError('snapshot', name, `metadata field ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  return parsed.data;
}

export function rangeCount(size: number, chunkSize: number): number {
  if (!Number.isSafeInteger(size) || size < 0 || !Number.isSafeInteger(chunkSize) || chunkSize <= 0) {
    throw new FormatUsageError(`cannot split ${size} bytes into ranges of ${chunkSize}`);
  }
  return Math.ceil(size / chunkSize);
}

/** The id of range `index` (a view into the table, not a copy). */
export function tableEntry(table: Buffer, index: number): Buffer {
  return table.subarray(index * ID_BYTES, (index + 1) * ID_BYTES);
}

export async function encodeManifest(
  m: Manifest,
  ctx: CodecContext,
): Promise<{ id: string; name: string; object: Buffer; metaJson: string }> {
  const keys = contextKeys(ctx);
  const meta = metaSchema.safeParse(m.meta);
  if (!meta.success) {
    const issue = meta.error.issues[0];
    throw new FormatUsageError(`snapshot metadata field ${issue?.path.join('.')}: ${issue?.message}`);
  }
  if (m.meta.chunkSize !== ctx.config.chunkSize) {
    throw new FormatUsageError(`snapshot chunk size ${m.meta.chunkSize} differs from the repository's ${ctx.config.chunkSize}`);
  }
  const ranges = rangeCount(m.meta.size, m.meta.chunkSize);
  if (m.table.length !== ranges * ID_BYTES) {
    throw new FormatUsageError(`the table of a ${m.meta.size}-byte drive holds ${ranges} ids, got ${m.table.length} bytes`);
  }
  const metaJson = JSON.stringify(m.meta);
  const plain = manifestPlaintext(metaJson, m.table);
  const id = await idOfPlaintext(plain, ctx);
  const name = snapshotObjectName(id);
  const compressed = await gzip(plain, ctx.config.compression.level);
  const raw = compressed.length >= plain.length;
  const object = await sealEnvelope('snapshot', name, raw ? plain : compressed, raw, keys);
  return { id, name, object, metaJson };
}

export async function decodeManifest(object: Buffer, id: string, ctx: CodecContext): Promise<StoredManifest> {
  const keys = contextKeys(ctx);
  const name = snapshotObjectName(id);
  const corrupt = (reason: string, cause?: unknown) => new CorruptObjectError('snapshot', name, reason, { cause });
  const opened = await openEnvelope('snapshot', name, object, keys);
  let plain = opened.payload;
  if (!opened.raw) {
    try {
      plain = await gunzip(opened.payload);
    } catch (err) {
      throw corrupt('gzip stream is damaged', err);
    }
  }
  if ((await idOfPlaintext(plain, ctx)) !== id) throw corrupt('content does not match its id');

  if (plain.length < META_LENGTH_BYTES) throw corrupt('too short to hold metadata');
  const metaLength = plain.readUInt32BE(0);
  if (metaLength > MAX_META_BYTES || META_LENGTH_BYTES + metaLength > plain.length) {
    throw corrupt(`metadata length ${metaLength} is out of bounds`);
  }
  const metaJson = plain.toString('utf8', META_LENGTH_BYTES, META_LENGTH_BYTES + metaLength);
  const meta = parseManifestMeta(metaJson, name);
  if (meta.chunkSize !== ctx.config.chunkSize) {
    throw corrupt(`chunk size ${meta.chunkSize} differs from the repository's ${ctx.config.chunkSize}`);
  }
  const table = plain.subarray(META_LENGTH_BYTES + metaLength);
  const ranges = rangeCount(meta.size, meta.chunkSize);
  if (table.length !== ranges * ID_BYTES) {
    throw corrupt(`table holds ${table.length} bytes, a ${meta.size}-byte drive needs ${ranges * ID_BYTES}`);
  }
  return { meta, table, metaJson };
}
