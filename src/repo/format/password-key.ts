/**
 * The key a password derives through scrypt (key files seal the master key under it: ./keyfile.ts), and the
 * bounds a reader puts on scrypt's parameters.
 *
 * A derivation costs ~0.1 s of one core, which every command that opens an encrypted repository used to wait
 * for after its modules had loaded. `deriveAhead` lets the command line start it first (src/cli/early-unlock.ts);
 * `passwordKey` then takes that result when it asks for exactly the same password, salt and parameters, and
 * derives afresh otherwise. Nothing here needs zod or the repository's modules, so it loads in no time.
 */
import { scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(scryptCallback) as (
  password: Buffer,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** Bounds a reader accepts, so a hostile key file cannot ask for unbounded memory or time. */
export const SCRYPT_LIMITS = { minN: 2 ** 10, maxN: 2 ** 20, maxR: 32, maxP: 16, maxMemory: 1024 ** 3 } as const;

export function scryptProblem(p: ScryptParams): string | undefined {
  const powerOfTwo = Number.isInteger(p.N) && p.N > 1 && (p.N & (p.N - 1)) === 0;
  if (!powerOfTwo || p.N < SCRYPT_LIMITS.minN || p.N > SCRYPT_LIMITS.maxN) {
    return `scrypt N must be a power of two from ${SCRYPT_LIMITS.minN} to ${SCRYPT_LIMITS.maxN}`;
  }
  if (!Number.isInteger(p.r) || p.r < 1 || p.r > SCRYPT_LIMITS.maxR) return `scrypt r must be 1..${SCRYPT_LIMITS.maxR}`;
  if (!Number.isInteger(p.p) || p.p < 1 || p.p > SCRYPT_LIMITS.maxP) return `scrypt p must be 1..${SCRYPT_LIMITS.maxP}`;
  if (128 * p.N * p.r > SCRYPT_LIMITS.maxMemory) return 'scrypt parameters need more than 1 GiB of memory';
  return undefined;
}

/** Derivations started ahead of their use, by salt and parameters; each is taken at most once. */
const ahead = new Map<string, { secret: Buffer; key: Promise<Buffer> }>();
/** A repository rarely has more key files than this; a directory full of them must not start a derivation each. */
const MAX_AHEAD = 4;

/** The 32-byte key `password` derives with `salt` and `params` (which the caller has checked). */
export function passwordKey(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const secret = passwordBytes(password);
  const slot = aheadSlot(salt, params);
  const started = ahead.get(slot);
  if (started !== undefined) {
    ahead.delete(slot);
    if (started.secret.length === secret.length && timingSafeEqual(started.secret, secret)) return started.key;
  }
  return derive(secret, salt, params);
}

/**
 * Starts the derivation a key file asks for, for a `passwordKey` call that may follow. The key file is only
 * peeked at (its `kdf` field); reading it properly, and every error, is openKeyFile's. Parameters out of
 * SCRYPT_LIMITS start nothing.
 */
export function deriveAhead(keyFile: Buffer, password: string): void {
  const kdf = peekKdf(keyFile);
  if (kdf === undefined || scryptProblem(kdf) !== undefined || ahead.size >= MAX_AHEAD) return;
  const salt = Buffer.from(kdf.salt, 'base64');
  const slot = aheadSlot(salt, kdf);
  if (ahead.has(slot)) return;
  const secret = passwordBytes(password);
  const key = derive(secret, salt, kdf);
  // Nobody may take it (another repository was opened after all): its failure is nobody's error.
  key.catch(() => {});
  ahead.set(slot, { secret, key });
}

/** How many derivations started ahead wait to be taken (for tests). */
export function derivationsAhead(): number {
  return ahead.size;
}

function derive(secret: Buffer, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const maxmem = 128 * params.N * params.r + 128 * params.r * params.p + 1024 * 1024;
  return scrypt(secret, salt, 32, { N: params.N, r: params.r, p: params.p, maxmem });
}

/** NFC, so that the same password typed on different systems gives the same bytes. */
function passwordBytes(password: string): Buffer {
  return Buffer.from(password.normalize('NFC'), 'utf8');
}

function aheadSlot(salt: Buffer, p: ScryptParams): string {
  return `${p.N}:${p.r}:${p.p}:${salt.toString('base64')}`;
}

function peekKdf(keyFile: Buffer): (ScryptParams & { salt: string }) | undefined {
  try {
    const kdf = (JSON.parse(keyFile.toString('utf8')) as { kdf?: Record<string, unknown> } | null)?.kdf;
    if (kdf?.type !== 'scrypt' || typeof kdf.salt !== 'string') return undefined;
    const { N, r, p, salt } = kdf;
    return typeof N === 'number' && typeof r === 'number' && typeof p === 'number' ? { N, r, p, salt } : undefined;
  } catch {
    return undefined;
  }
}
