/**
 * Fixtures for the engine tests (issue 4): deterministic drive content built range by range, real emulators
 * with fixed accounts, real repositories (local, encrypted, S3) in temp dirs, and ways to look at what the
 * jobs did from outside: chunk objects on disk, a drive's own write counters, whole-drive reads.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../../src/api/client.js';
import type { BackupTarget } from '../../src/engine/jobs/backup.js';
import { type Emulator, type EmulatorAccount, type EmulatorOptions, startEmulator } from '../../src/emulator/index.js';
import { chunkId } from '../../src/repo/format/index.js';
import { Repository } from '../../src/repo/repository.js';
import { LocalStore } from '../../src/store/local.js';
import { cliEnv } from './engine-cli.js';
import { openStore } from '../../src/store/open.js';
import type { S3TestServer } from './s3-server.js';

export const MiB = 1024 * 1024;
export const RANGE = 4 * MiB;
export const CHEAP_SCRYPT = { N: 1024, r: 8, p: 1 };
export const PASSWORD = 'engine-test-password';

/** What one 4 MiB range holds. `dup` copies the content of another (earlier) range. */
export type RangeSpec =
  | 'zero'
  | { text: number } // compressible (4 bits of entropy a byte), seeded
  | { random: number } // incompressible, seeded
  | { dup: number };

/** Seeded keystream: fast, deterministic, incompressible. */
function keystream(seed: number, length: number): Buffer {
  const key = createHash('sha256').update(`engine-test-key-${seed}`).digest();
  const iv = createHash('md5').update(`engine-test-iv-${seed}`).digest();
  return createCipheriv('aes-256-ctr', key, iv).update(Buffer.alloc(length));
}

export function rangeContent(spec: Exclude<RangeSpec, { dup: number } | 'zero'>, length: number): Buffer {
  if ('random' in spec) return keystream(spec.random, length);
  const out = keystream(spec.text + 1_000_000, length);
  for (let i = 0; i < out.length; i++) out[i] = 0x61 + (out[i]! & 0x0f);
  return out;
}

/** An image of `specs.length` ranges; the last is `tail` bytes long when given (a partial range). */
export function makeImage(specs: RangeSpec[], tail?: number): Buffer {
  const size = (specs.length - 1) * RANGE + (tail ?? RANGE);
  const image = Buffer.alloc(size);
  specs.forEach((spec, i) => {
    const at = i * RANGE;
    const len = Math.min(RANGE, size - at);
    if (spec === 'zero') return;
    if ('dup' in spec) {
      image.copy(image, at, spec.dup * RANGE, spec.dup * RANGE + len);
      return;
    }
    rangeContent(spec, len).copy(image, at);
  });
  return image;
}

export function rangeOf(image: Buffer, i: number): Buffer {
  return image.subarray(i * RANGE, Math.min(image.length, (i + 1) * RANGE));
}

export function rangeCountOf(size: number): number {
  return Math.ceil(size / RANGE);
}

export function isZeroRange(data: Buffer): boolean {
  for (let i = 0; i < data.length; i++) if (data[i] !== 0) return false;
  return true;
}

/** Distinct non-zero ranges of an image (what a first backup must store), by content hash. */
export function distinctNonZero(image: Buffer): Set<string> {
  const set = new Set<string>();
  for (let i = 0; i < rangeCountOf(image.length); i++) {
    const r = rangeOf(image, i);
    if (!isZeroRange(r)) set.add(sha256(r));
  }
  return set;
}

export function nonZeroRanges(image: Buffer): number[] {
  const out: number[] = [];
  for (let i = 0; i < rangeCountOf(image.length); i++) if (!isZeroRange(rangeOf(image, i))) out.push(i);
  return out;
}

/** Indexes of ranges whose bytes differ between two images of one size. */
export function differingRanges(a: Buffer, b: Buffer): number[] {
  const out: number[] = [];
  for (let i = 0; i < rangeCountOf(a.length); i++) if (!rangeOf(a, i).equals(rangeOf(b, i))) out.push(i);
  return out;
}

export function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** The chunk table a correct backup of `image` has in `repo` (zero ranges: 32 zero bytes). */
export async function expectedTable(image: Buffer, repo: Repository): Promise<Buffer> {
  const n = rangeCountOf(image.length);
  const table = Buffer.alloc(n * 32);
  for (let i = 0; i < n; i++) {
    const r = rangeOf(image, i);
    if (!isZeroRange(r)) (await chunkId(r, repo.ctx)).copy(table, i * 32);
  }
  return table;
}

// ---- cleanup ------------------------------------------------------------------------------------------

/** Collects things to close and remove; `run()` undoes them in reverse order, ignoring nothing silently. */
export class Cleanup {
  private readonly steps: (() => Promise<unknown> | unknown)[] = [];
  add(step: () => Promise<unknown> | unknown): void {
    this.steps.push(step);
  }
  async tempDir(prefix = 'drivesnap-engine-'): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    this.add(() => rm(dir, { recursive: true, force: true }));
    return dir;
  }
  async run(): Promise<void> {
    const errors: unknown[] = [];
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      try {
        await step();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw errors[0];
  }
}

// ---- emulator and API ---------------------------------------------------------------------------------

export const ACCOUNT_A: EmulatorAccount = { user: 'aaaaaaaa-1111-4111-8111-111111111111', secret: 'secret-a' };
export const ACCOUNT_B: EmulatorAccount = { user: 'bbbbbbbb-2222-4222-8222-222222222222', secret: 'secret-b' };

export async function emulator(cleanup: Cleanup, opts: EmulatorOptions = {}): Promise<Emulator> {
  const emu = await startEmulator({ accounts: [ACCOUNT_A, ACCOUNT_B], ...opts });
  cleanup.add(() => emu.close());
  return emu;
}

/** A client with short backoff (the retry policy's shape is unchanged: 8 attempts). */
export function apiClient(cleanup: Cleanup, emu: Emulator, account: EmulatorAccount = ACCOUNT_A, url = emu.url): ApiClient {
  const c = new ApiClient({ url, user: account.user, secret: account.secret, retry: { baseDelayMs: 5, maxDelayMs: 50 } });
  cleanup.add(() => c.close());
  return c;
}

/** Creates a drive holding `data` (written raw in 4 MiB pieces). */
export async function createDriveWith(c: ApiClient, name: string, data: Buffer, size = data.length): Promise<string> {
  const d = await c.createDrive({ name, size });
  for (let at = 0; at < data.length; at += RANGE) {
    const piece = data.subarray(at, Math.min(data.length, at + RANGE));
    if (!isZeroRange(piece)) await c.writeDrive(d.uuid, at, piece, { encoding: 'raw' });
  }
  return d.uuid;
}

export async function readWholeDrive(c: ApiClient, uuid: string): Promise<Buffer> {
  const size = (await c.driveInfo(uuid)).size;
  return c.readDrive(uuid, 0, size);
}

/** The drive's own counters (`write:requests`, `write:bytes`), from its info. */
export async function writeCounters(c: ApiClient, uuid: string): Promise<{ requests: number; bytes: number }> {
  const info = await c.driveInfo(uuid);
  return { requests: info.writeRequests, bytes: info.writeBytes };
}

export function driveTarget(uuid: string, name: string, url: string): BackupTarget {
  return { driveUuid: uuid, driveName: name, account: 'eh', endpoint: url, claimed: false };
}

export function fileTarget(path: string): BackupTarget {
  return { driveUuid: `file:${path}`, driveName: path, account: 'file', endpoint: 'localhost', claimed: false };
}

// ---- repositories -------------------------------------------------------------------------------------

export type RepoKind = 'plain' | 'encrypted' | 's3';

export interface TestRepo {
  repo: Repository;
  /** The local repository directory (undefined for S3). */
  dir?: string;
  indexPath: string;
}

export async function localRepo(cleanup: Cleanup, encrypted: boolean): Promise<TestRepo> {
  const dir = await cleanup.tempDir('drivesnap-engine-repo-');
  const indexPath = join(dir, 'cache', 'index.sqlite');
  const repo = await Repository.init(new LocalStore(dir), {
    encrypted,
    password: encrypted ? PASSWORD : undefined,
    scrypt: CHEAP_SCRYPT,
    indexPath: () => indexPath,
  });
  cleanup.add(() => repo.close());
  return { repo, dir, indexPath };
}

export async function s3Repo(cleanup: Cleanup, s3: S3TestServer, prefix: string): Promise<TestRepo> {
  const indexDir = await cleanup.tempDir('drivesnap-engine-s3index-');
  const indexPath = join(indexDir, 'index.sqlite');
  const store = openStore(`s3://${s3.bucket}/${prefix}`, {
    endpoint: s3.endpoint,
    region: s3.region,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  const repo = await Repository.init(store, { encrypted: true, password: PASSWORD, scrypt: CHEAP_SCRYPT, indexPath: () => indexPath });
  cleanup.add(() => repo.close());
  return { repo, indexPath };
}

/** Chunk objects of a repository, listed through its store (every backend). */
export async function chunkNames(repo: Repository): Promise<string[]> {
  const names: string[] = [];
  for await (const o of repo.store.list('chunks/')) names.push(o.name);
  return names.sort();
}

export async function snapshotNames(repo: Repository): Promise<string[]> {
  const names: string[] = [];
  for await (const o of repo.store.list('snapshots/')) names.push(o.name);
  return names.sort();
}

/** Chunk object files in a local repository directory, read from disk (temp files excluded), with inodes. */
export async function chunkFilesOnDisk(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const root = join(dir, 'chunks');
  let subdirs: string[];
  try {
    subdirs = await readdir(root);
  } catch {
    return out;
  }
  for (const sub of subdirs) {
    for (const name of await readdir(join(root, sub))) {
      if (!/^[0-9a-f]{64}$/.test(name)) continue;
      out.set(name, (await stat(join(root, sub, name))).ino);
    }
  }
  return out;
}

export async function snapshotFilesOnDisk(dir: string): Promise<string[]> {
  try {
    return (await readdir(join(dir, 'snapshots'))).filter((n) => !n.startsWith('.'));
  } catch {
    return [];
  }
}

export async function writeImageFile(path: string, data: Buffer): Promise<void> {
  await writeFile(path, data);
}

/**
 * The environment of a CLI child process run against `emu` as account A (the `eh` account), with its
 * state (jobs database, an empty accounts file, HOME) inside `work`. `vars` adds or overrides variables.
 */
export async function emulatorCliEnv(emu: Emulator, work: string, vars: Record<string, string | undefined> = {}): Promise<NodeJS.ProcessEnv> {
  const config = join(work, 'config.yaml');
  await writeFile(config, '');
  return cliEnv({
    HOME: work,
    EHURI: emu.url,
    EHAUTH: `${ACCOUNT_A.user}:${ACCOUNT_A.secret}`,
    DRIVESNAP_PASSWORD: PASSWORD,
    DRIVESNAP_JOBS_DB: join(work, 'jobs.sqlite'),
    DRIVESNAP_CONFIG: config,
    ...vars,
  });
}

/** What an in-process test of drive jobs works on: an emulator, a client of its account A, a plain local repository, a work directory. */
export interface ApiWorld {
  emu: Emulator;
  c: ApiClient;
  t: TestRepo;
  work: string;
  /** The clients by account, as run-select and the orchestrator take them: always account A's. */
  clients: { get(account: string): Promise<ApiClient> };
}

export async function apiWorld(cleanup: Cleanup): Promise<ApiWorld> {
  const emu = await emulator(cleanup);
  const c = apiClient(cleanup, emu);
  const t = await localRepo(cleanup, false);
  const work = await cleanup.tempDir();
  return { emu, c, t, work, clients: { get: async () => c } };
}

/** What a CLI test of drive jobs works on: an emulator, a client of its account A, and a local repository. */
export interface CliWorld {
  emu: Emulator;
  c: ApiClient;
  work: string;
  repoDir: string;
  env: NodeJS.ProcessEnv;
}

/**
 * An emulator with the drive `driveName` holding `image`, a local repository (closed here: the CLI
 * children open it), and the environment a CLI child needs to use both.
 */
export async function cliWorld(cleanup: Cleanup, o: { encrypted: boolean; driveName: string; image: Buffer }): Promise<CliWorld> {
  const emu = await emulator(cleanup);
  const c = apiClient(cleanup, emu);
  const work = await cleanup.tempDir();
  const t = await localRepo(cleanup, o.encrypted);
  await t.repo.close();
  await createDriveWith(c, o.driveName, o.image);
  const env = await emulatorCliEnv(emu, work, { DRIVESNAP_REPO: t.dir! });
  return { emu, c, work, repoDir: t.dir!, env };
}
