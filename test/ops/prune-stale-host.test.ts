/**
 * A host whose index remembers a chunk that prune deleted does not skip uploading it. Two hosts (two index
 * files on one repository): host A backs up; host B forgets A's snapshot and prunes, deleting its chunks;
 * host A, still open and still remembering those chunks, backs up the same content again. The prune's
 * new generation makes A relist before trusting its index, so the new snapshot is complete.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRepository } from '../../src/ops/check.js';
import { forget } from '../../src/ops/forget.js';
import { prune } from '../../src/ops/prune.js';
import type { Repository } from '../../src/repo/repository.js';
import { Cleanup, chunkFilesOnDisk, makeImage } from '../helpers/engine-fixtures.js';
import { backupFile, fileHash, initRepo, openHost, restoredHash, writeImage } from '../helpers/ops-fixtures.js';

const cleanup = new Cleanup();
let dir: string;
let hostA: Repository;
let hostB: Repository;
const X = makeImage([{ random: 1 }, { text: 2 }]);
const Y = makeImage([{ random: 3 }, { text: 4 }]);
let xChunks: Buffer[];

beforeAll(async () => {
  dir = await cleanup.tempDir('drivesnap-stale-host-');
  hostA = await initRepo(cleanup, join(dir, 'repo'), join(dir, 'host-a.sqlite'));
  hostB = await openHost(cleanup, join(dir, 'repo'), join(dir, 'host-b.sqlite'));
});
afterAll(() => cleanup.run());

describe('a host with a stale index after another host prunes', () => {
  it('host B deletes the chunks of the snapshot host A made, while A still remembers them', async () => {
    const img = join(dir, 'disk.img');
    await writeImage(img, X);
    const first = await backupFile(hostA, img);
    const table = hostA.index.snapshotTable(first)!;
    xChunks = [table.subarray(0, 32), table.subarray(32, 64)];
    await writeImage(img, Y);
    await backupFile(hostA, img);

    const f = await forget(hostB, { last: 1 });
    expect(f.removed).toBe(1);
    const p = await prune(hostB);
    expect(p.deleted).toBe(2);
    const onDisk = await chunkFilesOnDisk(join(dir, 'repo'));
    for (const id of xChunks) {
      expect(onDisk.has(id.toString('hex'))).toBe(false);
      // The scenario: host A's index still says the repository holds it.
      expect(hostA.index.hasChunk(id)).toBe(true);
    }
  });

  it('host A backs X up again: the chunks are uploaded, the snapshot is complete and restores', async () => {
    const img = join(dir, 'disk.img');
    await writeImage(img, X);
    const again = await backupFile(hostA, img);
    const onDisk = await chunkFilesOnDisk(join(dir, 'repo'));
    for (const id of xChunks) expect(onDisk.has(id.toString('hex'))).toBe(true);
    // Host B learns of the new snapshot as any host does: by syncing (open does it).
    await hostB.sync();
    const c = await checkRepository(hostB, { readData: 1 });
    expect(c.problems).toEqual([]);
    expect(await restoredHash(hostB, again, dir)).toBe(await fileHash(img));
  });
});
