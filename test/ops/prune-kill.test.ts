/**
 * prune killed at any point leaves a repository that checks clean. A prune child process with hundreds of
 * unreferenced chunks to delete (forgotten snapshots plus a crashed backup's leftovers) is SIGKILLed after
 * 1, about half, and all but a few deletions, and once more (the real CLI) at whatever point the first
 * deletions show on disk. After each kill: a fresh open checks clean; the killed host's own index relists
 * chunks on its next open and then checks clean too. Finally a prune finishes the job and every kept
 * snapshot restores byte-identical.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRepository } from '../../src/ops/check.js';
import { forget } from '../../src/ops/forget.js';
import type { Repository } from '../../src/repo/repository.js';
import { Cleanup, chunkFilesOnDisk, makeImage, PASSWORD } from '../helpers/engine-fixtures.js';
import { cliEnv, spawnOps, waitUntil } from '../helpers/ops-cli.js';
import { backupFile, countChunkFiles, fileHash, initRepo, openHost, repoEnv, restoredHash, strayChunks, writeImage } from '../helpers/ops-fixtures.js';

const CHILD = fileURLToPath(new URL('../helpers/ops-prune-child.ts', import.meta.url));
const STRAYS = 240;

const cleanup = new Cleanup();
let dir: string;
let repoDir: string;
let hostB: string;
let repo: Repository;
let kept: { id: string; hash: string };
let unreferencedAtStart: number;

/** Runs the prune child and SIGKILLs it once it reports `paused stopAfter`. */
async function pruneKilledAfter(stopAfter: number): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, repoDir, hostB, String(stopAfter)], {
    env: cliEnv({ DRIVESNAP_PASSWORD: PASSWORD }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (t: string) => {
    err += t;
  });
  const closed = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
  child.stdout.setEncoding('utf8').on('data', (t: string) => {
    out += t;
    if (out.includes(`paused ${stopAfter}\n`)) child.kill('SIGKILL');
  });
  const signal = await closed;
  expect(out, err).toContain(`paused ${stopAfter}`);
  expect(signal).toBe('SIGKILL');
}

async function expectCleanAfterKill(label: string): Promise<void> {
  // A host that never saw this repository: a fresh index built from the store alone.
  const fresh = await openHost(cleanup, repoDir, join(dir, `fresh-${label}.sqlite`));
  const r = await checkRepository(fresh);
  expect(r.problems).toEqual([]);
  expect(r.snapshots).toBe(1);
  await fresh.close();
  // The killed host: its index (left mid-prune) must not be trusted as is, and is not: it relists.
  const killedHost = await openHost(cleanup, repoDir, hostB);
  expect(killedHost.index.chunkCount()).toBe((await chunkFilesOnDisk(repoDir)).size);
  expect((await checkRepository(killedHost)).problems).toEqual([]);
  await killedHost.close();
}

beforeAll(async () => {
  dir = await cleanup.tempDir('drivesnap-prune-kill-');
  repoDir = join(dir, 'repo');
  hostB = join(dir, 'host-b.sqlite');
  repo = await initRepo(cleanup, repoDir, join(dir, 'host-a.sqlite'));
  const img = join(dir, 'disk.img');
  for (let v = 0; v < 4; v++) {
    await writeImage(img, makeImage([{ random: 10 * v + 1 }, 'zero', { text: 10 * v + 2 }]));
    const id = await backupFile(repo, img);
    kept = { id, hash: await fileHash(img) };
  }
  await strayChunks(repo, STRAYS, 'crashed-backup');
  await forget(repo, { last: 1 });
  unreferencedAtStart = (await checkRepository(repo)).unreferencedChunks;
  // Host B's index knows every chunk before the prunes start, as a host that backed up would.
  (await openHost(cleanup, repoDir, hostB)).close();
});
afterAll(() => cleanup.run());

describe('prune killed at random points', () => {
  it('starts with hundreds of unreferenced chunks', () => {
    expect(unreferencedAtStart).toBe(STRAYS + 6);
  });

  // Kill points as a share of what is left to delete: the first deletion, half way, all but a few.
  for (const [label, point] of [
    ['the first deletion', () => 1],
    ['half the deletions', (left: number) => Math.floor(left / 2)],
    ['all but a few deletions', (left: number) => left - 24],
  ] as const) {
    it(`killed after ${label}: the repository checks clean and resyncs`, async () => {
      const before = (await chunkFilesOnDisk(repoDir)).size;
      await pruneKilledAfter(point(before - 2));
      const after = (await chunkFilesOnDisk(repoDir)).size;
      // The kill landed mid-prune: something was deleted, not everything.
      expect(after).toBeLessThan(before);
      expect(after).toBeGreaterThan(2);
      await expectCleanAfterKill(label.replaceAll(" ", "-"));
    });
  }

  it('the CLI prune SIGKILLed once deletions show on disk leaves it clean too', async () => {
    await strayChunks(repo, STRAYS, 'second-crash');
    const before = (await chunkFilesOnDisk(repoDir)).size;
    const { child, done } = spawnOps(['prune'], repoEnv(repoDir, hostB));
    await waitUntil(async () => (await countChunkFiles(repoDir)) < before || child.exitCode !== null, 'prune to start deleting', 60_000, 5);
    child.kill('SIGKILL');
    await done;
    await expectCleanAfterKill('cli');
  });

  it('a prune after the kills finishes the job: only referenced chunks remain and the data restores', async () => {
    const { done } = spawnOps(['prune', '--json'], repoEnv(repoDir, hostB));
    const r = await done;
    expect(r.code).toBe(0);
    await repo.sync();
    const c = await checkRepository(repo, { readData: 1 });
    expect(c.problems).toEqual([]);
    expect(c.unreferencedChunks).toBe(0);
    // The kept snapshot: one random and one text range.
    expect((await chunkFilesOnDisk(repoDir)).size).toBe(2);
    expect(await restoredHash(repo, kept.id, dir)).toBe(kept.hash);
  });
});
