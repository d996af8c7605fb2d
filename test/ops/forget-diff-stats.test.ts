/**
 * diff and stats through the CLI on a known change: two snapshots of one 16 MiB image where range 1 gets
 * new content and range 2 goes from zeros to data. diff reports the one merged byte range 4..12 MiB and the
 * counts; stats reports logical, zero, distinct and stored bytes and the dedup ratio (28 MiB of non-zero
 * data over 20 MiB of distinct chunks = 1.4), and after forgetting the first snapshot, the smaller figures.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forget } from '../../src/ops/forget.js';
import type { Repository } from '../../src/repo/repository.js';
import { Cleanup, MiB, makeImage } from '../helpers/engine-fixtures.js';
import { runOps } from '../helpers/ops-cli.js';
import { backupFile, initRepo, repoEnv, writeImage } from '../helpers/ops-fixtures.js';

const cleanup = new Cleanup();
let dir: string;
let repo: Repository;
let env: NodeJS.ProcessEnv;
let s1: string;
let s2: string;

async function storedSizeOf(ids: string[]): Promise<number> {
  let total = 0;
  for (const hex of new Set(ids)) total += (await stat(join(dir, 'repo', 'chunks', hex.slice(0, 2), hex))).size;
  return total;
}

function nonZeroIds(table: Buffer): string[] {
  const ids: string[] = [];
  for (let i = 0; i < table.length; i += 32) {
    const hex = table.toString('hex', i, i + 32);
    if (/[^0]/.test(hex)) ids.push(hex);
  }
  return ids;
}

beforeAll(async () => {
  dir = await cleanup.tempDir('drivesnap-figures-');
  const indexPath = join(dir, 'index.sqlite');
  repo = await initRepo(cleanup, join(dir, 'repo'), indexPath);
  env = repoEnv(join(dir, 'repo'), indexPath);
  const img = join(dir, 'disk.img');
  await writeImage(img, makeImage([{ random: 1 }, { text: 2 }, 'zero', { random: 3 }]));
  s1 = await backupFile(repo, img);
  await writeImage(img, makeImage([{ random: 1 }, { text: 9 }, { random: 4 }, { random: 3 }]));
  s2 = await backupFile(repo, img);
});
afterAll(() => cleanup.run());

describe('diff and stats on a known change', () => {
  it('diff: ranges 1 and 2 changed, one merged byte range 4 MiB..12 MiB', async () => {
    const r = await runOps(['diff', s1.slice(0, 10), s2, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json[0]).toMatchObject({
      snapshot1: s1,
      snapshot2: s2,
      changes: [{ start: 4 * MiB, end: 12 * MiB, kind: 'changed' }],
      changedRanges: 2,
      unchangedRanges: 2,
      changedBytes: 8 * MiB,
      addedBytes: 0,
      removedBytes: 0,
    });
    const text = await runOps(['diff', s1, s2], env);
    expect(text.stdout).toMatch(/2 of 4 range\(s\) differ/);
  });

  it('stats: logical, zero, distinct and stored bytes and the dedup ratio', async () => {
    const r = await runOps(['stats', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const ids = [...nonZeroIds(repo.index.snapshotTable(s1)!), ...nonZeroIds(repo.index.snapshotTable(s2)!)];
    const stored = await storedSizeOf(ids);
    const st = r.json[0] as { repository: Record<string, number>; perDrive: Record<string, unknown>[] };
    expect(st.repository).toMatchObject({
      snapshots: 2,
      logicalBytes: 32 * MiB,
      zeroBytes: 4 * MiB,
      uniqueChunks: 5,
      uniqueLogicalBytes: 20 * MiB,
      storedBytes: stored,
      missingChunks: 0,
    });
    expect(st.repository.dedupRatio).toBeCloseTo(28 / 20, 10);
    expect(st.perDrive).toHaveLength(1);
    expect(st.perDrive[0]).toMatchObject({ snapshots: 2, logicalBytes: 32 * MiB, uniqueChunks: 5, storedBytes: stored });
  });

  it('stats after forgetting the first snapshot: only the second one counts', async () => {
    await forget(repo, { last: 1 });
    const r = await runOps(['stats', '--json'], env);
    const st = r.json[0] as { repository: Record<string, number> };
    expect(st.repository).toMatchObject({
      snapshots: 1,
      logicalBytes: 16 * MiB,
      zeroBytes: 0,
      uniqueChunks: 4,
      storedBytes: await storedSizeOf(nonZeroIds(repo.index.snapshotTable(s2)!)),
    });
    expect(st.repository.dedupRatio).toBe(1);
  });
});
