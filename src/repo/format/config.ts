/**
 * The `config` object: plain JSON a person can read, holding no secret. In an encrypted repository it
 * carries a MAC under a key derived from the master key, so altering it (say, to turn encryption off or
 * change the chunk size) is detected once a password is known.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { MiB } from '../../util/size.js';
import { MAX_GZIP_LEVEL, MIN_GZIP_LEVEL } from './compress.js';
import { hmacSha256 } from './crypto.js';
import { CorruptObjectError, FormatUsageError, RepoVersionError } from './errors.js';
import { CONFIG_OBJECT } from './ids.js';
import type { RepoKeys } from './keys.js';

export const REPO_FORMAT_VERSION = 1;
export const DEFAULT_CHUNK_SIZE = 4 * MiB;
/**
 * The gzip level of new repositories (each keeps its own in its config): the one place to change it.
 * 3 deflates through libdeflate when the addon has it (LIBDEFLATE_FROM_LEVEL in src/codec/active.ts): on the
 * bench workload (full of base.img, then incremental; encrypted) it stores 1.08x borg zstd,3's repository,
 * within the 1.10x target, where igzip's level 2 stores 1.18x for a third of the full backup's CPU
 * (docs/repository-format.md, "Compression level"). `init --compression-level 2` is the fast choice.
 */
export const DEFAULT_COMPRESSION_LEVEL = 3;
const MIN_CHUNK_SIZE = 64 * 1024;
const MAX_CHUNK_SIZE = 64 * MiB;

export interface RepoConfig {
  version: 1;
  /** 64 lowercase hex digits, random at init. */
  id: string;
  chunkSize: number;
  idHash: 'sha256' | 'hmac-sha256';
  compression: { type: 'gzip'; level: number };
  encryption: 'aes-256-gcm' | 'none';
}

const configSchema = z
  .object({
    version: z.literal(REPO_FORMAT_VERSION),
    id: z.string().regex(/^[0-9a-f]{64}$/),
    chunkSize: z
      .number()
      .int()
      .min(MIN_CHUNK_SIZE)
      .max(MAX_CHUNK_SIZE)
      .refine((n) => (n & (n - 1)) === 0, 'must be a power of two'),
    idHash: z.enum(['sha256', 'hmac-sha256']),
    compression: z.object({ type: z.literal('gzip'), level: z.number().int().min(MIN_GZIP_LEVEL).max(MAX_GZIP_LEVEL) }),
    encryption: z.enum(['aes-256-gcm', 'none']),
    mac: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional(),
  })
  .refine((c) => (c.encryption === 'none') === (c.idHash === 'sha256'), {
    message: 'idHash must be sha256 without encryption and hmac-sha256 with it',
  });

export function newConfig(opts: { encrypted: boolean; compressionLevel?: number }): RepoConfig {
  const level = opts.compressionLevel ?? DEFAULT_COMPRESSION_LEVEL;
  if (!Number.isInteger(level) || level < MIN_GZIP_LEVEL || level > MAX_GZIP_LEVEL) {
    throw new FormatUsageError(`compression level must be ${MIN_GZIP_LEVEL}..${MAX_GZIP_LEVEL}, got ${level}`);
  }
  return {
    version: REPO_FORMAT_VERSION,
    id: randomBytes(32).toString('hex'),
    chunkSize: DEFAULT_CHUNK_SIZE,
    idHash: opts.encrypted ? 'hmac-sha256' : 'sha256',
    compression: { type: 'gzip', level },
    encryption: opts.encrypted ? 'aes-256-gcm' : 'none',
  };
}

/**
 * The bytes the MAC covers: a compact JSON array of the fields in a fixed order, independent of how the
 * object's JSON is spaced or ordered. Every string in it is [a-z0-9-], so no escaping rules matter.
 */
export function configMacInput(cfg: RepoConfig): Buffer {
  const fields = [cfg.version, cfg.id, cfg.chunkSize, cfg.idHash, cfg.compression.type, cfg.compression.level, cfg.encryption];
  return Buffer.from(JSON.stringify(fields), 'utf8');
}

export async function encodeConfig(cfg: RepoConfig, keys?: RepoKeys): Promise<Buffer> {
  const checked = validate(cfg);
  const encrypted = checked.encryption !== 'none';
  if (encrypted && !keys) throw new FormatUsageError('an encrypted repository config needs the keys to compute its MAC');
  if (!encrypted && keys) throw new FormatUsageError('a plain repository config takes no keys');
  const json: RepoConfig & { mac?: string } = { ...checked };
  if (keys) json.mac = (await hmacSha256(keys.configMac, configMacInput(checked))).toString('hex');
  return Buffer.from(`${JSON.stringify(json, null, 2)}\n`, 'utf8');
}

function validate(raw: unknown): RepoConfig & { mac?: string } {
  const version = (raw as { version?: unknown } | null)?.version;
  if (typeof version === 'number' && version > REPO_FORMAT_VERSION) {
    throw new RepoVersionError(CONFIG_OBJECT, version, REPO_FORMAT_VERSION);
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CorruptObjectError('config', CONFIG_OBJECT, `field ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  return parsed.data;
}

function parse(buf: Buffer): RepoConfig & { mac?: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(buf.toString('utf8'));
  } catch {
    throw new CorruptObjectError('config', CONFIG_OBJECT, 'not JSON');
  }
  return validate(raw);
}

function strip(cfg: RepoConfig & { mac?: string }): RepoConfig {
  const { mac: _mac, ...rest } = cfg;
  return rest;
}

/** Parses and validates without checking the MAC: tells whether a password is needed before one is known. */
export function peekConfig(buf: Buffer): RepoConfig {
  return strip(parse(buf));
}

/**
 * Parses and validates; with keys, also checks the MAC. Keys mean the caller holds an encrypted
 * repository's password, so the MAC is required whatever the config says: a config edited to read
 * `encryption: none` must not switch a client to writing plaintext.
 */
export async function decodeConfig(buf: Buffer, keys?: RepoKeys): Promise<RepoConfig> {
  const cfg = parse(buf);
  if (keys) {
    if (!cfg.mac) throw new CorruptObjectError('config', CONFIG_OBJECT, 'the MAC is missing');
    const expected = await hmacSha256(keys.configMac, configMacInput(cfg));
    if (!expected.equals(Buffer.from(cfg.mac, 'hex'))) {
      throw new CorruptObjectError('config', CONFIG_OBJECT, 'the MAC does not match: the config was altered');
    }
  }
  return strip(cfg);
}
