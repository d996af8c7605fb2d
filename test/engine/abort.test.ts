/**
 * The job runner's stop: a job whose AbortSignal fires part-way starts no new range, lets those in flight
 * finish and checkpoints them, releases its lock, commits nothing, and throws INTERRUPTED (exit 130); the
 * same job run again resumes from those checkpoints and ends as an uninterrupted run would. In process,
 * against real files and a real repository, for backup, restore and copy.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFileSink, openFileSource } from '../../src/engine/ends/file.js';
import { backup } from '../../src/engine/jobs/backup.js';
import { copy } from '../../src/engine/jobs/copy.js';
import { restore } from '../../src/engine/jobs/restore.js';
import type { Progress } from '../../src/engine/progress.js';
import { DrivesnapError, ExitCode } from '../../src/errors.js';
import { RepoIndex } from '../../src/repo/index-db.js';
import { listLocks } from '../../src/repo/locks.js';
import { LocalStore } from '../../src/store/local.js';
import { Cleanup, expectedTable, fileTarget, localRepo, makeImage, type RangeSpec, snapshotFilesOnDisk, type TestRepo, writeImageFile } from '../helpers/engine-fixtures.js';

const RANGES = 12;
const STOP_AFTER = 3;
const IMAGE = makeImage(Array.from({ length: RANGES }, (_, i): RangeSpec => (i % 4 === 3 ? 'zero' : { random: 700 + i })));

const cleanup = new Cleanup();
let t: TestRepo;
let work: string;
let imagePath: string;
beforeAll(async () => {
  t = await localRepo(cleanup, true);
  work = await cleanup.tempDir();
  imagePath = join(work, 'disk.img');
  await writeImageFile(imagePath, IMAGE);
});
afterAll(() => cleanup.run());

/** An AbortController fired once the job reports STOP_AFTER ranges done; the listener to give the job. */
function stopPartWay(): { signal: AbortSignal; onProgress: (p: Progress) => void } {
  const controller = new AbortController();
  return {
    signal: controller.signal,
    onProgress: (p) => {
      if (p.snapshot().rangesDone >= STOP_AFTER) controller.abort();
    },
  };
}

async function expectInterrupted(job: Promise<unknown>): Promise<void> {
  const err = await job.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DrivesnapError);
  expect((err as DrivesnapError).code).toBe('INTERRUPTED');
  expect((err as DrivesnapError).exitCode).toBe(ExitCode.interrupted);
}

const noLocks = async () => expect(await listLocks(new LocalStore(t.dir!))).toEqual([]);

describe('a job whose signal fires part-way', () => {
  let snapshotId: string;

  it('backup: INTERRUPTED, no lock, no manifest; the rerun resumes and commits the uninterrupted table', async () => {
    const source = await openFileSource(imagePath);
    try {
      await expectInterrupted(backup({ repo: t.repo, source, target: fileTarget(imagePath), concurrency: 2, ...stopPartWay() }));
      await noLocks();
      expect(await snapshotFilesOnDisk(t.dir!)).toEqual([]);
      const rerun = await backup({ repo: t.repo, source, target: fileTarget(imagePath), concurrency: 2 });
      expect(rerun.progress.count('resumed')).toBeGreaterThanOrEqual(STOP_AFTER);
      expect(rerun.progress.count('resumed')).toBeLessThan(RANGES);
      expect((await t.repo.loadManifest(rerun.snapshotId)).table.equals(await expectedTable(IMAGE, t.repo))).toBe(true);
      snapshotId = rerun.snapshotId;
    } finally {
      await source.close();
    }
    await noLocks();
  });

  it('restore: INTERRUPTED, no lock; the rerun resumes and the file is byte-identical', async () => {
    const target = join(work, 'restored.img');
    const snapshot = t.repo.resolveSnapshot(snapshotId);
    const first = await openFileSink(target, { create: { size: IMAGE.length } });
    try {
      await expectInterrupted(restore({ repo: t.repo, snapshot, sink: first, concurrency: 2, ...stopPartWay() }));
    } finally {
      await first.close();
    }
    await noLocks();
    const sink = await openFileSink(target);
    try {
      const rerun = await restore({ repo: t.repo, snapshot, sink, concurrency: 2, verify: true });
      expect(rerun.progress.count('resumed')).toBeGreaterThanOrEqual(STOP_AFTER);
      expect(rerun.verified?.ranges).toBe(RANGES);
    } finally {
      await sink.close();
    }
    expect((await readFile(target)).equals(IMAGE)).toBe(true);
    await noLocks();
  });

  it('copy: INTERRUPTED; the rerun resumes from the jobs database and the copy is byte-identical', async () => {
    const jobs = RepoIndex.open(join(work, 'jobs.sqlite'));
    cleanup.add(() => jobs.close());
    const target = join(work, 'copied.img');
    const source = await openFileSource(imagePath);
    try {
      const first = await openFileSink(target, { create: { size: IMAGE.length } });
      try {
        await expectInterrupted(copy({ source, sink: first, jobs, concurrency: 2, ...stopPartWay() }));
      } finally {
        await first.close();
      }
      const sink = await openFileSink(target);
      try {
        const rerun = await copy({ source, sink, jobs, concurrency: 2 });
        expect(rerun.progress.count('resumed')).toBeGreaterThanOrEqual(STOP_AFTER);
      } finally {
        await sink.close();
      }
    } finally {
      await source.close();
    }
    expect((await readFile(target)).equals(IMAGE)).toBe(true);
  });

  it('a signal fired before the job starts: INTERRUPTED at once, nothing read or written', async () => {
    const source = await openFileSource(imagePath);
    const controller = new AbortController();
    controller.abort();
    let updates = 0;
    try {
      await expectInterrupted(
        backup({ repo: t.repo, source, target: fileTarget(imagePath), signal: controller.signal, onProgress: () => updates++ }),
      );
    } finally {
      await source.close();
    }
    expect(updates).toBe(0);
    expect(await snapshotFilesOnDisk(t.dir!)).toHaveLength(1);
    await noLocks();
  });
});
