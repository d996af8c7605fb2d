/**
 * check finds every kind of damage planted behind the repository's back, and exits 1: a missing chunk, a
 * corrupt chunk (only with --read-data), a corrupt manifest, and a stale index (the index lists a chunk
 * deleted without a prune); `check --repair-index` fixes the stale index. Each case runs the real CLI on
 * its own copy of one repository (and of its index).
 */
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cleanup, makeImage } from '../helpers/engine-fixtures.js';
import { runOps } from '../helpers/ops-cli.js';
import { backupFile, initRepo, repoEnv, strayChunks, writeImage } from '../helpers/ops-fixtures.js';

const cleanup = new Cleanup();
let base: string;
let work: string;
let snapshots: string[];
/** A chunk both snapshots reference, and one only the second does. */
let shared: string;
let stray: string;

const chunkPath = (root: string, hex: string) => join(root, 'repo', 'chunks', hex.slice(0, 2), hex);

async function flipByte(path: string, at: (length: number) => number): Promise<void> {
  const data = await readFile(path);
  const i = at(data.length);
  data[i] = data[i]! ^ 0x5a;
  await writeFile(path, data);
}

/** A fresh copy of the base repository and its index, for one case to damage. */
async function copyOf(name: string): Promise<string> {
  const root = join(work, name);
  await cp(base, root, { recursive: true });
  return root;
}

function check(root: string, ...args: string[]) {
  return runOps(['check', '--json', ...args], repoEnv(join(root, 'repo'), join(root, 'index.sqlite')));
}

const kinds = (r: { json: Record<string, unknown>[] }) => r.json.filter((j) => j.event === 'problem').map((j) => j.kind);

beforeAll(async () => {
  base = await cleanup.tempDir('drivesnap-check-base-');
  work = await cleanup.tempDir('drivesnap-check-work-');
  const repo = await initRepo(cleanup, join(base, 'repo'), join(base, 'index.sqlite'));
  const img = join(work, 'disk.img');
  await writeImage(img, makeImage([{ random: 1 }, { text: 2 }, 'zero']));
  const s1 = await backupFile(repo, img);
  await writeImage(img, makeImage([{ random: 1 }, { text: 3 }, 'zero']));
  const s2 = await backupFile(repo, img);
  snapshots = [s1, s2];
  shared = repo.index.snapshotTable(s1)!.toString('hex', 0, 32);
  stray = (await strayChunks(repo, 1, 'stray'))[0]!.toString('hex');
  // Close so the index's WAL is folded into the file before the copies are taken.
  await repo.close();
});
afterAll(() => cleanup.run());

describe.concurrent('check finds planted damage', () => {
  it('an undamaged repository checks clean, with --read-data too (exit 0)', async () => {
    const root = await copyOf('clean');
    const r = await check(root, '--read-data');
    expect(r.code).toBe(0);
    expect(kinds(r)).toEqual([]);
  });

  it('a missing chunk: chunk-missing, exit 1', async () => {
    const root = await copyOf('missing');
    await rm(chunkPath(root, shared));
    const r = await check(root);
    expect(r.code).toBe(1);
    expect(kinds(r)).toContain('chunk-missing');
    // Both snapshots use it: each is named.
    const named = r.json.filter((j) => j.kind === 'chunk-missing').map((j) => j.object);
    expect(named.sort()).toEqual(snapshots.map((s) => `snapshots/${s}`).sort());
  });

  it('a corrupt chunk passes the structural check but --read-data finds it: chunk-corrupt, exit 1', async () => {
    const root = await copyOf('corrupt-chunk');
    await flipByte(chunkPath(root, shared), (n) => Math.floor(n / 2));
    const structural = await check(root);
    expect(structural.code).toBe(0);
    const r = await check(root, '--read-data');
    expect(r.code).toBe(1);
    expect(r.json.filter((j) => j.event === 'problem').map((j) => [j.kind, j.object])).toEqual([
      ['chunk-corrupt', `chunks/${shared.slice(0, 2)}/${shared}`],
    ]);
  });

  it('a corrupt manifest: manifest-unreadable, exit 1', async () => {
    const root = await copyOf('corrupt-manifest');
    await flipByte(join(root, 'repo', 'snapshots', snapshots[1]!), (n) => n - 20);
    const r = await check(root);
    expect(r.code).toBe(1);
    expect(r.json.filter((j) => j.event === 'problem').map((j) => [j.kind, j.object])).toEqual([
      ['manifest-unreadable', `snapshots/${snapshots[1]}`],
    ]);
  });

  it('a stale index (a chunk deleted behind its back): index-stale-chunk, exit 1; --repair-index fixes it', async () => {
    const root = await copyOf('stale-index');
    await rm(chunkPath(root, stray));
    const r = await check(root);
    expect(r.code).toBe(1);
    expect(kinds(r)).toEqual(['index-stale-chunk']);
    const repaired = await check(root, '--repair-index');
    expect(repaired.code).toBe(0);
    expect(kinds(repaired)).toEqual([]);
    const again = await check(root);
    expect(again.code).toBe(0);
  });
});
