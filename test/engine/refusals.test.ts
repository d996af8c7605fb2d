
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import type { Emulator } from '../../src/emulator/index.js';
import { driveSink, driveSource } from '../../src/engine/ends/drive.js';
import { backup } from '../../src/engine/jobs/backup.js';
import { copy } from '../../src/engine/jobs/copy.js';
import { restore } from '../../src/engine/jobs/restore.js';
import { chunkObjectName } from '../../src/repo/format/index.js';
import { Repository } from '../../src/repo/repository.js';
import { LocalStore } from '../../src/store/local.js';
import {
  apiClient,
  Cleanup,
  createDriveWith,
  differingRanges,
  driveTarget,
  emulator,
  localRepo,
  makeImage,
  PASSWORD,
  RANGE,
  readWholeDrive,
  type TestRepo,
  writeCounters,
  emulatorCliEnv,
} from '../helpers/engine-fixtures.js';
import { type CliResult, runCli } from '../helpers/engine-cli.js';

const IMAGE = makeImage([{ text: 31 }, { random: 32 }, 'zero', { text: 33 }], RANGE / 4);
const OTHER = makeImage([{ random: 41 }, { text: 42 }, { text: 43 }, 'zero'], RANGE / 4);

const cleanup = new Cleanup();
let emu: Emulator;
let c: ApiClient;
let work: string;
let sourceUuid: string;

beforeAll(async () => {
  emu = await emulator(cleanup);
  c = apiClient(cleanup, emu);
  work = await cleanup.tempDir();
  sourceUuid = await createDriveWith(c, 'source', IMAGE);
});
afterAll(() => cleanup.run());

async function repoWithSnapshot(): Promise<{ t: TestRepo; snapshotId: string }> {
  const t = await localRepo(cleanup, true);
  const r = await backup({
    repo: t.repo,
    source: driveSource({ api: c, uuid: sourceUuid, size: IMAGE.length, description: 'eh:source' }),
    target: driveTarget(sourceUuid, 'source', emu.url),
  });
  return { t, snapshotId: r.snapshotId };
}

/** Runs `fn`, then checks that the drive's bytes and every write counter are as before. */
async function expectNothingWritten(uuid: string, fn: () => Promise<void>): Promise<void> {
  const bytes = await readWholeDrive(c, uuid);
  const counters = await writeCounters(c, uuid);
  const stats = emu.stats();
  await fn();
  expect(emu.stats().writeRequests).toBe(stats.writeRequests);
  expect(emu.stats().writeBytes).toBe(stats.writeBytes);
  expect(await writeCounters(c, uuid)).toEqual(counters);
  expect((await readWholeDrive(c, uuid)).equals(bytes)).toBe(true);
}

async function cli(args: string[], repoDir: string): Promise<CliResult> {
  return runCli([...args, '--json'], await emulatorCliEnv(emu, work, { DRIVESNAP_REPO: repoDir }));
}

function errorCode(r: CliResult): unknown {
  return (r.json.find((j) => 'error' in j)?.error as { code?: string } | undefined)?.code;
}

describe('restore', () => {
  let t: TestRepo;
  let snapshotId: string;
  beforeAll(async () => {
    ({ t, snapshotId } = await repoWithSnapshot());
  });

  it('onto a target smaller than the snapshot: TARGET_TOO_SMALL, nothing written', async () => {
    const small = await createDriveWith(c, 'small', OTHER.subarray(0, IMAGE.length - 1));
    await expectNothingWritten(small, async () => {
      const sink = driveSink({ api: c, uuid: small, size: IMAGE.length - 1, description: 'eh:small', startsZeroed: false });
      await expect(restore({ repo: t.repo, snapshot: t.repo.resolveSnapshot(snapshotId), sink })).rejects.toMatchObject({
        code: 'TARGET_TOO_SMALL',
      });
    });
  });

  describe('onto a drive claimed by a running server', () => {
    let claimed: string;
    let server: string;
    beforeAll(async () => {
      // Differs from the snapshot in range 0 only.
      const content = Buffer.from(IMAGE);
      OTHER.copy(content, 0, 0, RANGE);
      expect(differingRanges(IMAGE, content)).toEqual([0]);
      claimed = await createDriveWith(c, 'claimed', content);
      server = (await c.createServer({ name: 'vm', cpu: 1000, mem: 512, 'ide:0:0': claimed, boot: 'ide:0:0' })).uuid;
      cleanup.add(() => c.stopServer(server).catch(() => undefined));
      expect((await c.driveInfo(claimed)).claimed.length).toBe(1);
    });

    it('is refused with DRIVE_CLAIMED (exit 1), nothing written', async () => {
      t.repo.index.close();
      await expectNothingWritten(claimed, async () => {
        const r = await cli(['restore', snapshotId, '--to', 'eh:claimed'], t.dir!);
        expect(r.code).toBe(1);
        expect(errorCode(r)).toBe('DRIVE_CLAIMED');
      });
    });

    it('--force passes the check: a target that already matches is restored with no write', async () => {
      const same = await createDriveWith(c, 'claimed-same', IMAGE);
      const s2 = (await c.createServer({ name: 'vm2', cpu: 1000, mem: 512, 'ide:0:0': same })).uuid;
      cleanup.add(() => c.stopServer(s2).catch(() => undefined));
      await expectNothingWritten(same, async () => {
        const r = await cli(['restore', snapshotId, '--to', 'eh:claimed-same', '--force'], t.dir!);
        expect(r.code, r.stderr).toBe(0);
        const result = r.json.find((j) => j.snapshot === snapshotId && j.counts);
        expect(result?.counts).toEqual({ 'in-place': 4 });
      });
    });
  });
});

describe('restore of a snapshot whose chunk was deleted', () => {
  it('deleted as a prune deletes (generation advanced): SNAPSHOT_INCOMPLETE before writing anything', async () => {
    const { t, snapshotId } = await repoWithSnapshot();
    const target = await createDriveWith(c, 'incomplete-a', OTHER);
    const table = t.repo.index.snapshotTable(snapshotId)!;
    await t.repo.store.delete(chunkObjectName(table.subarray(3 * 32, 4 * 32)));
    await t.repo.advanceGeneration();
    // A process opening the repository now (as the CLI does) syncs its index with the store.
    const repo = await Repository.open(new LocalStore(t.dir!), { password: PASSWORD, indexPath: () => t.indexPath });
    cleanup.add(() => repo.close());
    await expectNothingWritten(target, async () => {
      const sink = driveSink({ api: c, uuid: target, size: OTHER.length, description: 'eh:incomplete-a', startsZeroed: false });
      await expect(restore({ repo, snapshot: repo.resolveSnapshot(snapshotId), sink, concurrency: 1 })).rejects.toMatchObject({
        code: 'SNAPSHOT_INCOMPLETE',
      });
    });
  });

  // The index still lists the chunk: the pre-flight check must ask the store, or the ranges before the
  // missing one are written first and the job fails mid-way (RANGES_FAILED) - as it did before the fix.
  it('deleted from the store behind the index: SNAPSHOT_INCOMPLETE before writing anything', async () => {
    const { t, snapshotId } = await repoWithSnapshot();
    const target = await createDriveWith(c, 'incomplete-b', OTHER);
    expect(differingRanges(IMAGE, OTHER).length).toBe(4);
    const table = t.repo.index.snapshotTable(snapshotId)!;
    // The last range's chunk: the ranges before it would be written first if the check trusted the index.
    await t.repo.store.delete(chunkObjectName(table.subarray(3 * 32, 4 * 32)));
    await expectNothingWritten(target, async () => {
      const sink = driveSink({ api: c, uuid: target, size: OTHER.length, description: 'eh:incomplete-b', startsZeroed: false });
      await expect(restore({ repo: t.repo, snapshot: t.repo.resolveSnapshot(snapshotId), sink, concurrency: 1 })).rejects.toMatchObject({
        code: 'SNAPSHOT_INCOMPLETE',
      });
    });
  });
});

describe('copy', () => {
  it('onto a smaller target: TARGET_TOO_SMALL, nothing written', async () => {
    const small = await createDriveWith(c, 'copy-small', OTHER.subarray(0, IMAGE.length - RANGE));
    await expectNothingWritten(small, async () => {
      await expect(
        copy({
          source: driveSource({ api: c, uuid: sourceUuid, size: IMAGE.length, description: 'eh:source' }),
          sink: driveSink({ api: c, uuid: small, size: IMAGE.length - RANGE, description: 'eh:copy-small', startsZeroed: false }),
        }),
      ).rejects.toMatchObject({ code: 'TARGET_TOO_SMALL' });
    });
  });
});
