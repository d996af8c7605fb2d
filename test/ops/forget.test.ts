/**
 * forget: the retention policy is applied per drive with the reasons applyRetention gives, --dry-run
 * deletes nothing, an empty policy is refused (exit 2), and --prune then deletes the chunks only the
 * forgotten snapshots used.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRepository } from '../../src/ops/check.js';
import { forget } from '../../src/ops/forget.js';
import type { Repository } from '../../src/repo/repository.js';
import { Cleanup, chunkFilesOnDisk, makeImage, snapshotFilesOnDisk } from '../helpers/engine-fixtures.js';
import { backupFile, initRepo, repoEnv, snapshotAt, writeImage } from '../helpers/ops-fixtures.js';
import { runOps } from '../helpers/ops-cli.js';

const cleanup = new Cleanup();
let dir: string;
let indexPath: string;
let repo: Repository;
const ids: Record<string, string> = {};

beforeAll(async () => {
  dir = await cleanup.tempDir('drivesnap-forget-');
  indexPath = join(dir, 'index', 'index.sqlite');
  repo = await initRepo(cleanup, join(dir, 'repo'), indexPath);
  // Drive d1: two snapshots on 2 January; drive d2: one snapshot a day apart.
  for (const [key, time, drive] of [
    ['d1-jan1', '2025-01-01T10:00:00.000Z', 'd1'],
    ['d1-jan2-morning', '2025-01-02T10:00:00.000Z', 'd1'],
    ['d1-jan2-evening', '2025-01-02T18:00:00.000Z', 'd1'],
    ['d1-jan3', '2025-01-03T10:00:00.000Z', 'd1'],
    ['d2-jan1', '2025-01-01T09:00:00.000Z', 'd2'],
    ['d2-jan3', '2025-01-03T09:00:00.000Z', 'd2'],
  ] as const) {
    ids[key] = await snapshotAt(repo, { time, driveUuid: drive, driveName: `disk-${drive}` });
  }
});
afterAll(() => cleanup.run());

const reasonsOf = (r: Awaited<ReturnType<typeof forget>>) =>
  new Map(r.groups.flatMap((g) => [...g.keep, ...g.remove]).map((e) => [e.id, e.reasons]));

describe('forget', () => {
  it('--dry-run applies keep-daily per drive, gives the reasons, and deletes nothing', async () => {
    const before = (await snapshotFilesOnDisk(join(dir, 'repo'))).sort();
    const r = await forget(repo, { daily: 2 }, { dryRun: true });
    expect(r.dryRun).toBe(true);
    expect(r.groups.map((g) => g.group)).toEqual(['d1', 'd2']);
    const d1 = r.groups[0]!;
    expect(d1.keep.map((e) => e.id)).toEqual([ids['d1-jan3'], ids['d1-jan2-evening']]);
    expect(d1.remove.map((e) => e.id).sort()).toEqual([ids['d1-jan1'], ids['d1-jan2-morning']].sort());
    // Per drive: d2's 1 January snapshot is its second day, so it stays (pooled with d1 it would go).
    expect(r.groups[1]!.keep.map((e) => e.id)).toEqual([ids['d2-jan3'], ids['d2-jan1']]);
    const reasons = reasonsOf(r);
    expect(reasons.get(ids['d1-jan3']!)).toEqual(['daily 2025-01-03']);
    expect(reasons.get(ids['d1-jan2-evening']!)).toEqual(['daily 2025-01-02']);
    expect(reasons.get(ids['d1-jan2-morning']!)).toEqual([]);
    expect((await snapshotFilesOnDisk(join(dir, 'repo'))).sort()).toEqual(before);
    expect(repo.index.listSnapshots()).toHaveLength(6);
  });

  it('the CLI --dry-run --json reports the same decisions and leaves every manifest', async () => {
    const before = (await snapshotFilesOnDisk(join(dir, 'repo'))).sort();
    const r = await runOps(['forget', '--keep-daily', '2', '--dry-run', '--json'], repoEnv(join(dir, 'repo'), indexPath));
    expect(r.code).toBe(0);
    const result = r.json.find((j) => j.event === 'forget') as { removed: number; kept: number; dryRun: boolean };
    expect(result).toMatchObject({ removed: 2, kept: 4, dryRun: true });
    expect((await snapshotFilesOnDisk(join(dir, 'repo'))).sort()).toEqual(before);
  });

  it('an empty policy is refused with exit code 2 and deletes nothing', async () => {
    const r = await runOps(['forget'], repoEnv(join(dir, 'repo'), indexPath));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--keep-/);
    expect(await snapshotFilesOnDisk(join(dir, 'repo'))).toHaveLength(6);
  });

  it('forget deletes exactly the snapshots no rule keeps, per drive', async () => {
    const r = await forget(repo, { daily: 2 });
    expect(r.removed).toBe(2);
    const left = new Set(repo.index.listSnapshots().map((s) => s.id));
    expect(left).toEqual(new Set([ids['d1-jan3'], ids['d1-jan2-evening'], ids['d2-jan3'], ids['d2-jan1']]));
    const onDisk = new Set(await snapshotFilesOnDisk(join(dir, 'repo')));
    expect(onDisk).toEqual(left);
  });

  it('--group-by host pools the drives: keep-last 1 leaves one snapshot per host', async () => {
    const r = await forget(repo, { last: 1 }, { groupBy: ['host'], dryRun: true });
    expect(r.groups).toHaveLength(1);
    expect(r.groups[0]!.keep.map((e) => e.id)).toEqual([ids['d1-jan3']]);
    expect(r.groups[0]!.keep[0]!.reasons).toEqual(['last']);
  });

  it('forget --prune removes the forgotten snapshot and the chunks only it used', async () => {
    const img = join(dir, 'disk.img');
    await writeImage(img, makeImage([{ random: 1 }, { random: 2 }]));
    const first = await backupFile(repo, img);
    await writeImage(img, makeImage([{ random: 1 }, { random: 3 }]));
    const second = await backupFile(repo, img);
    const chunksBefore = (await chunkFilesOnDisk(join(dir, 'repo'))).size;
    const r = await runOps(['forget', '--keep-last', '1', '--prune', '--json'], repoEnv(join(dir, 'repo'), indexPath));
    expect(r.code).toBe(0);
    const prune = r.json.find((j) => j.event === 'prune') as { deleted: number };
    // Only range 1 of the first image ({random: 2}) is unreferenced once its snapshot is gone.
    expect(prune.deleted).toBe(1);
    expect((await chunkFilesOnDisk(join(dir, 'repo'))).size).toBe(chunksBefore - 1);
    const snaps = await snapshotFilesOnDisk(join(dir, 'repo'));
    expect(snaps).toContain(second);
    expect(snaps).not.toContain(first);
    await repo.sync();
    expect((await checkRepository(repo, { readData: 1 })).problems).toEqual([]);
  });
});
