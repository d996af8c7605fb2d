/**
 * Key files (`keys/<id>`): the master key sealed under a key derived from one password with scrypt. Several
 * key files means several passwords. Adding, listing and removing them is the repository layer's job.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { z } from 'zod';
import { GCM_NONCE_BYTES, gcmOpen, gcmSeal, importAesKey } from './crypto.js';
import { CorruptObjectError, FormatUsageError, RepoVersionError, WrongPasswordError } from './errors.js';
import { keyObjectName } from './ids.js';
import { MASTER_KEY_BYTES } from './keys.js';
import { type ScryptParams, passwordKey, scryptProblem } from './password-key.js';

export { SCRYPT_LIMITS, type ScryptParams } from './password-key.js';

export const KEY_FILE_VERSION = 1;
/** ~0.1-0.3 s and 32 MiB on a current core: costly to guess, cheap enough to type a password. */
export const DEFAULT_SCRYPT = { N: 2 ** 15, r: 8, p: 1 } as const;
const SALT_BYTES = 32;
/** Fixed associated data: binds the sealed master key to this format and its version. */
const KEY_FILE_AAD = Buffer.from('drivesnap key file v1', 'utf8');

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);
const keyFileSchema = z.object({
  version: z.literal(KEY_FILE_VERSION),
  created: z.string(),
  host: z.string(),
  user: z.string(),
  kdf: z.object({
    type: z.literal('scrypt'),
    N: z.number().int(),
    r: z.number().int(),
    p: z.number().int(),
    salt: base64,
  }),
  sealed: z.object({ type: z.literal('aes-256-gcm'), nonce: base64, data: base64 }),
});
type KeyFileJson = z.infer<typeof keyFileSchema>;

export interface KeyFileInfo {
  /** Hex SHA-256 of the key file's bytes; the object is `keys/<id>`. */
  id?: string;
  created: string;
  host: string;
  user: string;
}

function keyFileId(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}

export async function makeKeyFile(
  master: Buffer,
  password: string,
  opts: { scrypt?: ScryptParams; host?: string; user?: string; created?: Date } = {},
): Promise<{ id: string; name: string; body: Buffer }> {
  if (master.length !== MASTER_KEY_BYTES) {
    throw new FormatUsageError(`a master key has ${MASTER_KEY_BYTES} bytes, got ${master.length}`);
  }
  const params = opts.scrypt ?? DEFAULT_SCRYPT;
  const problem = scryptProblem(params);
  if (problem) throw new FormatUsageError(problem);
  const salt = randomBytes(SALT_BYTES);
  const nonce = randomBytes(GCM_NONCE_BYTES);
  const wrapKey = await importAesKey(await passwordKey(password, salt, params));
  const sealed = await gcmSeal(wrapKey, nonce, master, KEY_FILE_AAD);
  const json: KeyFileJson = {
    version: KEY_FILE_VERSION,
    created: (opts.created ?? new Date()).toISOString(),
    host: opts.host ?? hostname(),
    user: opts.user ?? currentUser(),
    kdf: { type: 'scrypt', N: params.N, r: params.r, p: params.p, salt: salt.toString('base64') },
    sealed: { type: 'aes-256-gcm', nonce: nonce.toString('base64'), data: sealed.toString('base64') },
  };
  const body = Buffer.from(`${JSON.stringify(json, null, 2)}\n`, 'utf8');
  const id = keyFileId(body);
  return { id, name: keyObjectName(id), body };
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return '';
  }
}

/** `object` names the key file in errors: its object name in the repository (a damaged file's content hash is not its name). */
function parseKeyFile(body: Buffer, object: string): KeyFileJson {
  let raw: unknown;
  try {
    raw = JSON.parse(body.toString('utf8'));
  } catch {
    throw new CorruptObjectError('key file', object, 'not JSON');
  }
  const version = (raw as { version?: unknown } | null)?.version;
  if (typeof version === 'number' && version > KEY_FILE_VERSION) throw new RepoVersionError(object, version, KEY_FILE_VERSION);
  const parsed = keyFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CorruptObjectError('key file', object, `field ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  const problem = scryptProblem(parsed.data.kdf);
  if (problem) throw new CorruptObjectError('key file', object, problem);
  return parsed.data;
}

/**
 * Returns the master key; throws WrongPasswordError when the password does not open this key file.
 * `object` is the file's name in the repository, for errors; it defaults to the name its content would have.
 */
export async function openKeyFile(body: Buffer, password: string, object = keyObjectName(keyFileId(body))): Promise<Buffer> {
  const file = parseKeyFile(body, object);
  const salt = Buffer.from(file.kdf.salt, 'base64');
  const nonce = Buffer.from(file.sealed.nonce, 'base64');
  const sealed = Buffer.from(file.sealed.data, 'base64');
  if (nonce.length !== GCM_NONCE_BYTES) {
    throw new CorruptObjectError('key file', object, 'nonce is not 12 bytes');
  }
  const wrapKey = await importAesKey(await passwordKey(password, salt, file.kdf));
  const master = await gcmOpen(wrapKey, nonce, sealed, KEY_FILE_AAD);
  if (!master) throw new WrongPasswordError();
  if (master.length !== MASTER_KEY_BYTES) {
    throw new CorruptObjectError('key file', object, 'sealed master key has the wrong length');
  }
  return master;
}

/** What `key list` shows; needs no password. `object` as for openKeyFile. */
export function describeKeyFile(body: Buffer, object = keyObjectName(keyFileId(body))): KeyFileInfo {
  const file = parseKeyFile(body, object);
  return { id: keyFileId(body), created: file.created, host: file.host, user: file.user };
}
