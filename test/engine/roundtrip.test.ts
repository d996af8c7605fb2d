/**
 * Round trips through the parallel chunk engine for every source/sink pair, against a real emulator, real
 * repositories (plain, encrypted, S3) and real image files: what comes out is byte-identical to what went in.
 * The image has zero ranges, compressible and incompressible ranges, a duplicate range and a partial tail.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import type { Emulator } from '../../src/emulator/index.js';
import { driveSink, driveSource } from '../../src/engine/ends/drive.js';
import { openFileSink, openFileSource } from '../../src/engine/ends/file.js';
import { backup } from '../../src/engine/jobs/backup.js';
import { copy } from '../../src/engine/jobs/copy.js';
import { restore } from '../../src/engine/jobs/restore.js';
import { RepoIndex } from '../../src/repo/index-db.js';
import {
  ACCOUNT_B,
  apiClient,
  Cleanup,
  chunkNames,
  createDriveWith,
  differingRanges,
  distinctNonZero,
  driveTarget,
  emulator,
  expectedTable,
  fileTarget,
  localRepo,
  makeImage,
  nonZeroRanges,
  RANGE,
  type RangeSpec,
  readWholeDrive,
  rangeCountOf,
  s3Repo,
  type TestRepo,
  writeCounters,
  writeImageFile,
} from '../helpers/engine-fixtures.js';
import { startS3Server } from '../helpers/s3-server.js';

const SPECS: RangeSpec[] = [{ text: 1 }, 'zero', { random: 2 }, { dup: 0 }, { text: 5 }];
const TAIL = RANGE / 2 + 123;
const IMAGE = makeImage(SPECS, TAIL);
/** Different content of the same size: what an existing target holds before a restore or copy. */
const OTHER = makeImage([{ random: 90 }, { text: 91 }, 'zero', { random: 92 }, { random: 95 }], TAIL);

const cleanup = new Cleanup();
let emu: Emulator;
let a: ApiClient;
let work: string;
let sourceUuid: string;

beforeAll(async () => {
  emu = await emulator(cleanup);
  a = apiClient(cleanup, emu);
  work = await cleanup.tempDir();
  sourceUuid = await createDriveWith(a, 'source', IMAGE);
});
afterAll(() => cleanup.run());

async function backupDrive(t: TestRepo, c: ApiClient, uuid: string): Promise<string> {
  const size = (await c.driveInfo(uuid)).size;
  const source = driveSource({ api: c, uuid, size, description: `eh:${uuid}` });
  const result = await backup({ repo: t.repo, source, target: driveTarget(uuid, 'source', c.url) });
  // Sanity of the snapshot itself: its table is the one the content dictates.
  expect(t.repo.index.snapshotTable(result.snapshotId)!.equals(await expectedTable(IMAGE, t.repo))).toBe(true);
  return result.snapshotId;
}

function repoCases(kind: 'plain' | 'encrypted') {
  describe(`${kind} repository`, () => {
    let t: TestRepo;
    beforeAll(async () => {
      t = await localRepo(cleanup, kind === 'encrypted');
    });

    it('image file -> repo -> new file and -> existing file, byte-identical', async () => {
      const path = join(work, `${kind}-source.img`);
      await writeImageFile(path, IMAGE);
      const source = await openFileSource(path);
      const b = await backup({ repo: t.repo, source, target: fileTarget(path) }).finally(() => source.close());
      expect(b.progress.count('zero')).toBe(1);
      expect(b.progress.count('new')).toBe(distinctNonZero(IMAGE).size);
      expect(b.progress.count('unchanged')).toBe(1); // the duplicate range
      expect((await chunkNames(t.repo)).length).toBe(distinctNonZero(IMAGE).size);
      const snapshot = t.repo.resolveSnapshot(b.snapshotId);
      expect(snapshot.size).toBe(IMAGE.length);

      const fresh = join(work, `${kind}-restored-new.img`);
      const sink = await openFileSink(fresh, { create: { size: snapshot.size } });
      const r = await restore({ repo: t.repo, snapshot, sink, verify: true }).finally(() => sink.close());
      expect(r.verified?.ranges).toBe(rangeCountOf(IMAGE.length));
      expect(r.progress.count('zero-skipped')).toBe(1);
      expect((await readFile(fresh)).equals(IMAGE)).toBe(true);

      const existing = join(work, `${kind}-restored-existing.img`);
      await writeImageFile(existing, OTHER);
      const sink2 = await openFileSink(existing);
      expect(sink2.startsZeroed).toBe(false);
      await restore({ repo: t.repo, snapshot, sink: sink2 }).finally(() => sink2.close());
      expect((await readFile(existing)).equals(IMAGE)).toBe(true);
    });

    it('API drive -> repo -> new drive (starts zeroed) and -> existing drive, byte-identical', async () => {
      const id = await backupDrive(t, a, sourceUuid);
      const snapshot = t.repo.resolveSnapshot(id);

      const created = await a.createDrive({ name: `${kind}-restored-new`, size: snapshot.size });
      const before = await writeCounters(a, created.uuid);
      const sink = driveSink({ api: a, uuid: created.uuid, size: created.size, description: `eh:${kind}-new`, startsZeroed: true });
      const r = await restore({ repo: t.repo, snapshot, sink, verify: true });
      expect(r.verified?.ranges).toBe(rangeCountOf(IMAGE.length));
      expect((await readWholeDrive(a, created.uuid)).equals(IMAGE)).toBe(true);
      const after = await writeCounters(a, created.uuid);
      // Zero ranges are not written to a drive that starts zeroed: one write per non-zero range.
      expect(after.requests - before.requests).toBe(nonZeroRanges(IMAGE).length);

      const existingUuid = await createDriveWith(a, `${kind}-restored-existing`, OTHER);
      const sink2 = driveSink({ api: a, uuid: existingUuid, size: OTHER.length, description: `eh:${kind}-existing`, startsZeroed: false });
      await restore({ repo: t.repo, snapshot, sink: sink2, verify: true });
      expect((await readWholeDrive(a, existingUuid)).equals(IMAGE)).toBe(true);
    });
  });
}

repoCases('plain');
repoCases('encrypted');

describe('S3 repository', () => {
  it('API drive -> S3 repo (encrypted) -> new drive, byte-identical', async () => {
    const s3 = await startS3Server();
    cleanup.add(() => s3.close());
    const t = await s3Repo(cleanup, s3, 'engine/roundtrip');
    const id = await backupDrive(t, a, sourceUuid);
    expect((await chunkNames(t.repo)).length).toBe(distinctNonZero(IMAGE).size);
    const snapshot = t.repo.resolveSnapshot(id);
    const created = await a.createDrive({ name: 's3-restored', size: snapshot.size });
    const sink = driveSink({ api: a, uuid: created.uuid, size: created.size, description: 'eh:s3-restored', startsZeroed: true });
    await restore({ repo: t.repo, snapshot, sink, verify: true });
    expect((await readWholeDrive(a, created.uuid)).equals(IMAGE)).toBe(true);
  });
});

describe('copy', () => {
  let jobs: RepoIndex;
  beforeAll(async () => {
    jobs = RepoIndex.open(join(await cleanup.tempDir(), 'jobs.sqlite'));
    cleanup.add(() => jobs.close());
  });

  it('image file -> new drive and -> existing drive', async () => {
    const path = join(work, 'copy-source.img');
    await writeImageFile(path, IMAGE);
    const source = await openFileSource(path);
    try {
      const created = await a.createDrive({ name: 'copy-file-new', size: IMAGE.length });
      const sink = driveSink({ api: a, uuid: created.uuid, size: created.size, description: 'eh:copy-file-new', startsZeroed: true });
      const r = await copy({ source, sink, jobs, verify: true });
      expect(r.progress.count('zero-skipped')).toBe(1);
      expect(r.progress.count('written')).toBe(nonZeroRanges(IMAGE).length);
      expect((await readWholeDrive(a, created.uuid)).equals(IMAGE)).toBe(true);

      const existing = await createDriveWith(a, 'copy-file-existing', OTHER);
      const sink2 = driveSink({ api: a, uuid: existing, size: OTHER.length, description: 'eh:copy-file-existing', startsZeroed: false });
      await copy({ source, sink: sink2, jobs, verify: true });
      expect((await readWholeDrive(a, existing)).equals(IMAGE)).toBe(true);
    } finally {
      await source.close();
    }
  });

  it('drive -> drive across two accounts of one emulator', async () => {
    const b = apiClient(cleanup, emu, ACCOUNT_B);
    const created = await b.createDrive({ name: 'copy-of-a', size: IMAGE.length });
    const source = driveSource({ api: a, uuid: sourceUuid, size: IMAGE.length, description: 'a:source' });
    const sink = driveSink({ api: b, uuid: created.uuid, size: created.size, description: 'b:copy-of-a', startsZeroed: true });
    await copy({ source, sink, jobs, verify: true });
    expect((await readWholeDrive(b, created.uuid)).equals(IMAGE)).toBe(true);
    // Account A's source drive was only read.
    expect((await readWholeDrive(a, sourceUuid)).equals(IMAGE)).toBe(true);
  });

  it('drive -> existing drive on a second emulator', async () => {
    const emu2 = await emulator(cleanup);
    const c2 = apiClient(cleanup, emu2);
    const target = await createDriveWith(c2, 'remote-existing', OTHER);
    const source = driveSource({ api: a, uuid: sourceUuid, size: IMAGE.length, description: 'one:source' });
    const sink = driveSink({ api: c2, uuid: target, size: OTHER.length, description: 'two:remote-existing', startsZeroed: false });
    const r = await copy({ source, sink, jobs, verify: true });
    // Every range differs here, zero ones included (the target does not start zeroed).
    expect(differingRanges(IMAGE, OTHER).length).toBe(rangeCountOf(IMAGE.length));
    expect(r.progress.count('written')).toBe(rangeCountOf(IMAGE.length));
    expect((await readWholeDrive(c2, target)).equals(IMAGE)).toBe(true);
  });

  it('drive -> new image file', async () => {
    const path = join(work, 'copy-download.img');
    const source = driveSource({ api: a, uuid: sourceUuid, size: IMAGE.length, description: 'eh:source' });
    const sink = await openFileSink(path, { create: { size: IMAGE.length } });
    try {
      await copy({ source, sink, jobs, verify: true });
    } finally {
      await sink.close();
    }
    expect((await readFile(path)).equals(IMAGE)).toBe(true);
  });
});
