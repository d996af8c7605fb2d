/**
 * Fixtures for the ops tests (forget, prune, check, diff, stats, run): image files backed up in process,
 * snapshots at chosen times, restores compared with what was backed up, and the CLI's environment.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openFileSink, openFileSource } from '../../src/engine/ends/file.js';
import { backup } from '../../src/engine/jobs/backup.js';
import { restore } from '../../src/engine/jobs/restore.js';
import { encodeChunk, chunkId, type SnapshotMeta } from '../../src/repo/format/index.js';
import { Repository } from '../../src/repo/repository.js';
import { LocalStore } from '../../src/store/local.js';
import { CHEAP_SCRYPT, type Cleanup, fileTarget, PASSWORD, sha256 } from './engine-fixtures.js';
import { cliEnv } from './engine-cli.js';

export { PASSWORD } from './engine-fixtures.js';

/** Opens another "host" on the same repository directory: its own index file. */
export async function openHost(cleanup: Cleanup, dir: string, indexPath: string): Promise<Repository> {
  const repo = await Repository.open(new LocalStore(dir), { password: PASSWORD, indexPath: () => indexPath });
  cleanup.add(() => repo.close());
  return repo;
}

export async function initRepo(cleanup: Cleanup, dir: string, indexPath: string): Promise<Repository> {
  const repo = await Repository.init(new LocalStore(dir), { encrypted: true, password: PASSWORD, scrypt: CHEAP_SCRYPT, indexPath: () => indexPath });
  cleanup.add(() => repo.close());
  return repo;
}

/** Backs up the image file at `path` (as the drive `file:<path>`); returns the snapshot id. */
export async function backupFile(repo: Repository, path: string, tags: string[] = []): Promise<string> {
  const source = await openFileSource(path);
  try {
    return (await backup({ repo, source, target: fileTarget(path), tags, concurrency: 4 })).snapshotId;
  } finally {
    await source.close();
  }
}

/** Restores a snapshot into a new file and returns the file's SHA-256. */
export async function restoredHash(repo: Repository, snapshotId: string, dir: string): Promise<string> {
  const row = repo.resolveSnapshot(snapshotId);
  const path = join(dir, `restore-${snapshotId.slice(0, 12)}-${Math.random().toString(16).slice(2)}.img`);
  const sink = await openFileSink(path, { create: { size: row.size } });
  try {
    await restore({ repo, snapshot: row, sink, concurrency: 4 });
  } finally {
    await sink.close();
  }
  return sha256(await readFile(path));
}

export async function fileHash(path: string): Promise<string> {
  return sha256(await readFile(path));
}

/** A snapshot of an all-zero drive at a chosen time: what retention sees, without moving any data. */
export async function snapshotAt(
  repo: Repository,
  o: { time: string; driveUuid: string; driveName?: string; host?: string; tags?: string[]; size?: number },
): Promise<string> {
  const chunkSize = repo.config.chunkSize;
  const size = o.size ?? chunkSize;
  const n = Math.ceil(size / chunkSize);
  const meta: SnapshotMeta = {
    driveUuid: o.driveUuid,
    driveName: o.driveName ?? o.driveUuid,
    accountName: 'eh',
    endpoint: 'http://127.0.0.1/',
    size,
    chunkSize,
    time: o.time,
    host: o.host ?? 'host-a',
    tags: o.tags ?? [],
    parent: null,
    toolVersion: 'test',
    counts: { zero: n, new: 0, reused: 0 },
    claimed: false,
    extra: {},
  };
  return repo.saveSnapshot(meta, Buffer.alloc(n * 32));
}

/** Stores `count` small chunks no snapshot references (what crashed backups leave behind). */
export async function strayChunks(repo: Repository, count: number, seed: string): Promise<Buffer[]> {
  const ids: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const data = Buffer.from(`${seed}-${i}-`.repeat(20));
    const id = await chunkId(data, repo.ctx);
    const object = await encodeChunk(data, id, repo.ctx);
    await repo.putChunk(id, object);
    ids.push(id);
  }
  // Durable and indexed, as a backup killed after its checkpoints' flush leaves them.
  await repo.flushChunks();
  return ids;
}

/** Environment for a CLI child on this repository and index. */
export function repoEnv(dir: string, indexPath: string, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return cliEnv({ DRIVESNAP_REPO: dir, DRIVESNAP_PASSWORD: PASSWORD, DRIVESNAP_INDEX: indexPath, ...extra });
}

export async function writeImage(path: string, data: Buffer): Promise<void> {
  await writeFile(path, data);
}

/** Chunk object files in a local repository, counted by name only (cheap enough to poll). */
export async function countChunkFiles(repoDir: string): Promise<number> {
  const { readdir } = await import('node:fs/promises');
  let n = 0;
  let subdirs: string[] = [];
  try {
    subdirs = await readdir(join(repoDir, 'chunks'));
  } catch {
    return 0;
  }
  for (const sub of subdirs) {
    for (const name of await readdir(join(repoDir, 'chunks', sub)).catch(() => [] as string[])) if (/^[0-9a-f]{64}$/.test(name)) n++;
  }
  return n;
}
