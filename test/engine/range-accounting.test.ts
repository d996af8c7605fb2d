/**
 * The engine's own guard against a job that skipped ranges (issue 8, item 1): whatever the caller passes,
 * a backup commits no snapshot and a restore, copy or verification reports no success unless every range
 * of the drive was accounted for. A NaN concurrency (what yargs once made of `--concurrency abc`) starts
 * no worker at all: it is the simplest way to make a job visit no range.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openFileSink, openFileSource } from '../../src/engine/ends/file.js';
import { backup } from '../../src/engine/jobs/backup.js';
import { copy } from '../../src/engine/jobs/copy.js';
import { restore } from '../../src/engine/jobs/restore.js';
import { verifyTarget } from '../../src/engine/jobs/verify.js';
import { Cleanup, RANGE, fileTarget, localRepo, makeImage, snapshotNames, writeImageFile } from '../helpers/engine-fixtures.js';

const IMAGE = makeImage([{ text: 1 }, { random: 2 }, 'zero', { text: 3 }], RANGE / 2);
const cleanup = new Cleanup();
let work: string;
let imagePath: string;

beforeAll(async () => {
  work = await cleanup.tempDir();
  imagePath = join(work, 'img.bin');
  await writeImageFile(imagePath, IMAGE);
});
afterAll(() => cleanup.run());

it('a backup that visits no range commits no snapshot and fails as an internal error', async () => {
  const t = await localRepo(cleanup, false);
  const source = await openFileSource(imagePath);
  cleanup.add(() => source.close());
  const run = backup({ repo: t.repo, source, target: fileTarget(imagePath), concurrency: Number.NaN });
  await expect(run).rejects.toMatchObject({ code: 'RANGES_UNACCOUNTED', exitCode: 1 });
  expect(await snapshotNames(t.repo)).toEqual([]);
  expect(t.repo.index.listSnapshots()).toEqual([]);
});

it('a restore or copy that visits no range does not report success', async () => {
  const t = await localRepo(cleanup, false);
  const source = await openFileSource(imagePath);
  cleanup.add(() => source.close());
  const { snapshotId } = await backup({ repo: t.repo, source, target: fileTarget(imagePath) });
  const snapshot = t.repo.resolveSnapshot(snapshotId);

  const restored = join(work, 'restored.bin');
  const sink = await openFileSink(restored, { create: { size: IMAGE.length } });
  cleanup.add(() => sink.close());
  await expect(restore({ repo: t.repo, snapshot, sink, concurrency: Number.NaN })).rejects.toMatchObject({ code: 'RANGES_UNACCOUNTED' });

  const copied = join(work, 'copied.bin');
  const copySink = await openFileSink(copied, { create: { size: IMAGE.length } });
  cleanup.add(() => copySink.close());
  await expect(copy({ source, sink: copySink, concurrency: Number.NaN })).rejects.toMatchObject({ code: 'RANGES_UNACCOUNTED' });
  expect((await stat(copied)).size).toBe(IMAGE.length);
});

it('a verification that reads no range does not say the target matches', async () => {
  const sink = await openFileSink(imagePath);
  cleanup.add(() => sink.close());
  const run = verifyTarget({ sink, size: IMAGE.length, chunkSize: RANGE, concurrency: Number.NaN, expected: () => true });
  await expect(run).rejects.toMatchObject({ code: 'RANGES_UNACCOUNTED' });
  expect((await readFile(imagePath)).equals(IMAGE)).toBe(true);
});
