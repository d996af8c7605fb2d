/**
 * Chunks are stored batched and made durable together by the repository's flush: nothing durable (a
 * manifest, a checkpoint, an index row) may name a chunk before its flush has resolved, and a flush that
 * fails must leave nothing that names what it covered.
 */
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openFileSource } from '../../src/engine/ends/file.js';
import { backup, backupSnapshotMeta } from '../../src/engine/jobs/backup.js';
import { Repository } from '../../src/repo/repository.js';
import { StoreError } from '../../src/store/errors.js';
import { ForwardingStore } from '../../src/store/forwarding.js';
import { LocalStore } from '../../src/store/local.js';
import type { ObjectStore, PutOptions } from '../../src/store/types.js';
import {
  Cleanup,
  chunkFilesOnDisk,
  distinctNonZero,
  fileTarget,
  makeImage,
  RANGE,
  snapshotFilesOnDisk,
  writeImageFile,
} from '../helpers/engine-fixtures.js';
import { FaultyStore } from '../store/fault-injection.js';

const IMAGE = makeImage([{ text: 1 }, { random: 2 }, 'zero', { text: 3 }, { random: 4 }, { text: 5 }], RANGE - 100);

const cleanup = new Cleanup();
afterAll(() => cleanup.run());

/** Notes every manifest put while a batched put has not been flushed yet. */
class FlushOrder extends ForwardingStore {
  batchedPuts = 0;
  flushes = 0;
  readonly unflushed = new Set<string>();
  readonly namedTooEarly: string[] = [];

  override async put(name: string, data: Uint8Array, opts?: PutOptions): Promise<void> {
    if (name.startsWith('snapshots/') && this.unflushed.size > 0) this.namedTooEarly.push(name);
    await this.inner.put(name, data, opts);
    if (opts?.batched) {
      this.batchedPuts++;
      this.unflushed.add(name);
    }
  }

  override async flush(): Promise<void> {
    const covered = [...this.unflushed];
    await this.inner.flush();
    this.flushes++;
    for (const name of covered) this.unflushed.delete(name);
  }
}

async function repoOver(wrap: (local: LocalStore) => ObjectStore): Promise<{ repo: Repository; dir: string; image: string }> {
  const work = await cleanup.tempDir('drivesnap-durability-');
  const dir = join(work, 'repo');
  const repo = await Repository.init(wrap(new LocalStore(dir)), { encrypted: false, indexPath: () => join(work, 'index.sqlite') });
  cleanup.add(() => repo.close());
  const image = join(work, 'disk.img');
  await writeImageFile(image, IMAGE);
  return { repo, dir, image };
}

describe('chunk durability', () => {
  it('saveSnapshot flushes the chunks stored before it writes the manifest, and only then indexes them', async () => {
    let order!: FlushOrder;
    const { repo } = await repoOver((local) => (order = new FlushOrder(local)));
    const data = IMAGE.subarray(0, RANGE);
    const id = await repo.chunkId(data);
    await repo.putChunk(id, await repo.encodeChunk(data, id));
    // Held (a second range of the same content is not stored again), but not indexed before its flush.
    expect(repo.hasChunk(id)).toBe(true);
    expect(repo.index.hasChunk(id)).toBe(false);
    expect(await repo.missingChunks([id.toString('hex')])).toEqual([]);

    const table = Buffer.from(id);
    const meta = backupSnapshotMeta(fileTarget('disk.img'), { size: RANGE, chunkSize: RANGE, parent: null, counts: { zero: 0, new: 1, reused: 0 }, extra: {} });
    await repo.saveSnapshot(meta, table);
    expect(order.namedTooEarly).toEqual([]);
    expect(order.flushes).toBeGreaterThan(0);
    expect(repo.index.hasChunk(id)).toBe(true);
    expect((await repo.readChunk(id)).equals(data)).toBe(true);
  });

  it('a backup stores every new chunk batched, and names none before its flush', async () => {
    let order!: FlushOrder;
    const { repo, image } = await repoOver((local) => (order = new FlushOrder(local)));
    await backup({ repo, source: await openFileSource(image), target: fileTarget(image) });
    expect(order.batchedPuts).toBe(distinctNonZero(IMAGE).size);
    expect(order.namedTooEarly).toEqual([]);
    expect(order.unflushed.size).toBe(0);
  });

  it('a backup whose flush fails stores no snapshot, checkpoints nothing, indexes no chunk and leaves no object', async () => {
    const { repo, dir, image } = await repoOver(
      (local) => new FaultyStore(local, 1, () => new StoreError('STORE_IO', 'injected: the disk lost the batch'), new Set(['flush'])),
    );
    await expect(backup({ repo, source: await openFileSource(image), target: fileTarget(image) })).rejects.toThrow(/injected/);
    expect(repo.listSnapshots()).toEqual([]);
    expect(await snapshotFilesOnDisk(dir)).toEqual([]);
    expect(repo.index.chunkCount()).toBe(0);
    // The job's record may stay (a rerun resumes from it), but no range of the failed batch is in it.
    for (const key of repo.index.listJobs('backup:')) expect(repo.index.jobProgress(key).size).toBe(0);
    expect((await chunkFilesOnDisk(dir)).size).toBe(0);
    // Closing drops the staged files: the failed batch leaves nothing behind.
    await repo.close();
    const left = await readdir(join(dir, 'chunks'), { recursive: true, withFileTypes: true });
    expect(left.filter((e) => e.isFile()).map((e) => e.name)).toEqual([]);
  });

  it('a failed flush stops the backup from starting more ranges (none of them could be committed)', async () => {
    const { repo, image } = await repoOver(
      (local) => new FaultyStore(local, 1, () => new StoreError('STORE_IO', 'injected: the disk lost the batch'), new Set(['flush'])),
    );
    // One range of data, then holes: the first checkpoint batch (32 ranges) is reached at once, and fails.
    const ranges = 128;
    const file = await open(image, 'r+');
    await file.truncate(ranges * RANGE);
    await file.close();
    const source = await openFileSource(image);
    let reads = 0;
    const read = source.read.bind(source);
    source.read = (...args) => {
      reads++;
      return read(...args);
    };
    await expect(backup({ repo, source, target: fileTarget(image) })).rejects.toThrow(/injected/);
    // The batch's 32 ranges, and those in flight when it failed (concurrency 8), not the other 90-odd.
    expect(reads).toBeGreaterThanOrEqual(32);
    expect(reads).toBeLessThan(ranges / 2);
    expect(repo.listSnapshots()).toEqual([]);
  });
});
