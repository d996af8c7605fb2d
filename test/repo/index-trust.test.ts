/**
 * The SQLite index is a cache, never trusted over the authenticated repository (issue 8, item 2). Each case
 * tampers the real `cache/index.sqlite` of a local repository (or an object in it) and runs the CLI:
 * restore and `restore --verify` use the manifest's table and size, `check` reports every cached fact that
 * differs and `check --repair-index` repairs it, a replaced manifest is refused, prune never trusts an
 * unproven table, and a backup does not commit a snapshot that references a chunk the store lost.
 */
import { cp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, runCli } from '../helpers/engine-cli.js';
import { Cleanup, PASSWORD, RANGE, chunkFilesOnDisk, makeImage } from '../helpers/engine-fixtures.js';

const cleanup = new Cleanup();
afterAll(() => cleanup.run());

/** Four distinct ranges and a short tail: a swap of two ids or a smaller size changes the bytes restored. */
const IMAGE = makeImage([{ text: 1 }, { random: 2 }, { text: 3 }, { random: 4 }], RANGE / 2);
const OTHER = makeImage([{ random: 5 }, { text: 6 }]);

let base: string;
let snapshotId: string;
let otherId: string;

function envOf(root: string): NodeJS.ProcessEnv {
  return cliEnv({
    DRIVESNAP_REPO: join(root, 'repo'),
    DRIVESNAP_PASSWORD: PASSWORD,
    DRIVESNAP_CONFIG: join(root, 'accounts.yaml'),
    DRIVESNAP_JOBS_DB: join(root, 'jobs.sqlite'),
    HOME: root,
  });
}

beforeAll(async () => {
  base = await cleanup.tempDir('drivesnap-index-trust-');
  await writeFile(join(base, 'accounts.yaml'), 'accounts: {}\n');
  await writeFile(join(base, 'image.bin'), IMAGE);
  await writeFile(join(base, 'other.bin'), OTHER);
  const env = envOf(base);
  expect((await runCli(['init'], env)).code).toBe(0);
  const a = await runCli(['backup', join(base, 'image.bin'), '--json'], env);
  expect(a.code, a.stderr).toBe(0);
  snapshotId = a.json.find((j) => j.event === 'snapshot')!.snapshot as string;
  const b = await runCli(['backup', join(base, 'other.bin'), '--json'], env);
  expect(b.code, b.stderr).toBe(0);
  otherId = b.json.find((j) => j.event === 'snapshot')!.snapshot as string;
});

/** A copy of the repository (with its index inside it, `cache/index.sqlite`) for one case to tamper. */
async function copyOf(name: string): Promise<{ root: string; env: NodeJS.ProcessEnv; index: string }> {
  const root = await cleanup.tempDir(`drivesnap-index-trust-${name}-`);
  await cp(base, root, { recursive: true });
  return { root, env: envOf(root), index: join(root, 'repo', 'cache', 'index.sqlite') };
}

function withDb(path: string, fn: (db: Database.Database) => void): void {
  const db = new Database(path);
  try {
    fn(db);
  } finally {
    db.close();
  }
}

function swapTwoIds(index: string, id: string): void {
  withDb(index, (db) => {
    const ids = db.prepare<[string], Buffer>('SELECT ids FROM snapshot_tables WHERE id = ?').pluck().get(id)!;
    const swapped = Buffer.concat([ids.subarray(32, 64), ids.subarray(0, 32), ids.subarray(64)]);
    db.prepare('UPDATE snapshot_tables SET ids = ? WHERE id = ?').run(swapped, id);
  });
}

function lowerSize(index: string, id: string): void {
  withDb(index, (db) => {
    db.prepare('UPDATE snapshots SET size = size - ?, chunk_count = chunk_count - 1 WHERE id = ?').run(RANGE, id);
    const ids = db.prepare<[string], Buffer>('SELECT ids FROM snapshot_tables WHERE id = ?').pluck().get(id)!;
    db.prepare('UPDATE snapshot_tables SET ids = ? WHERE id = ?').run(ids.subarray(0, ids.length - 32), id);
  });
}

const problemKinds = (r: { json: Record<string, unknown>[] }) => r.json.filter((j) => j.event === 'problem').map((j) => j.kind);

describe.each([
  ['two chunk ids swapped in the cached table', swapTwoIds],
  ['the cached size lowered', lowerSize],
])('%s', (name, tamper) => {
  it('restore --verify writes the snapshot byte for byte, and says the index was corrected', async () => {
    const c = await copyOf(name.replaceAll(' ', '-').slice(0, 20));
    tamper(c.index, snapshotId);
    const target = join(c.root, 'restored.bin');
    const r = await runCli(['restore', snapshotId, '--to-new', target, '--verify'], c.env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`the index's record of snapshot ${snapshotId.slice(0, 12)} differed from the repository`);
    expect((await readFile(target)).equals(IMAGE)).toBe(true);
  });

  it('check reports it (exit 1) and check --repair-index repairs it', async () => {
    const c = await copyOf(`check-${name.length}`);
    tamper(c.index, snapshotId);
    const r = await runCli(['check', '--read-data', '--json'], c.env);
    expect(r.code).toBe(1);
    expect(problemKinds(r)).toEqual(['index-wrong-snapshot']);
    const repair = await runCli(['check', '--repair-index', '--json'], c.env);
    expect(repair.code, repair.stderr).toBe(0);
    expect((await runCli(['check', '--json'], c.env)).code).toBe(0);
  });
});

it('a snapshot object replaced by another is refused, although the index still holds the original', async () => {
  const c = await copyOf('replaced');
  const objects = join(c.root, 'repo', 'snapshots');
  await writeFile(join(objects, snapshotId), await readFile(join(objects, otherId)));
  const target = join(c.root, 'restored.bin');
  const r = await runCli(['restore', snapshotId, '--to-new', target, '--json'], c.env);
  expect(r.code).toBe(1);
  expect(r.json.find((j) => 'error' in j)?.error).toMatchObject({ code: 'SNAPSHOT_CORRUPT' });
  await expect(stat(target)).rejects.toMatchObject({ code: 'ENOENT' });
});

it('prune keeps every chunk of a snapshot whose cached table was emptied', async () => {
  const c = await copyOf('prune');
  withDb(c.index, (db) => {
    const ids = db.prepare<[string], Buffer>('SELECT ids FROM snapshot_tables WHERE id = ?').pluck().get(snapshotId)!;
    db.prepare('UPDATE snapshot_tables SET ids = ? WHERE id = ?').run(Buffer.alloc(ids.length), snapshotId);
  });
  const before = await chunkFilesOnDisk(join(c.root, 'repo'));
  const r = await runCli(['prune'], c.env);
  expect(r.code, r.stderr).toBe(0);
  expect([...(await chunkFilesOnDisk(join(c.root, 'repo'))).keys()].sort()).toEqual([...before.keys()].sort());
  const restore = await runCli(['restore', snapshotId, '--to-new', join(c.root, 'restored.bin')], c.env);
  expect(restore.code, restore.stderr).toBe(0);
  expect((await readFile(join(c.root, 'restored.bin'))).equals(IMAGE)).toBe(true);
});

it('a backup reusing a chunk the index lists but the store lost stores it again: the new snapshot is whole', async () => {
  const c = await copyOf('lost-chunk');
  // Lose, behind drivesnap's back, a chunk of image.bin; then back up a new file holding that content.
  const chunks = join(c.root, 'repo', 'chunks');
  const before = await chunkFilesOnDisk(join(c.root, 'repo'));
  const copyPath = join(c.root, 'copy-of-image.bin');
  await writeFile(copyPath, IMAGE);
  // The chunk of image.bin's first range, read from the (as yet untampered) index.
  let lost = '';
  withDb(c.index, (db) => {
    lost = db.prepare<[string], Buffer>('SELECT ids FROM snapshot_tables WHERE id = ?').pluck().get(snapshotId)!.toString('hex', 0, 32);
  });
  expect(before.has(lost)).toBe(true);
  await rm(join(chunks, lost.slice(0, 2), lost));

  const b = await runCli(['backup', copyPath, '--json'], c.env);
  expect(b.code, b.stderr).toBe(0);
  expect(b.stderr).toContain('the index listed 1 chunk(s) the repository does not hold');
  expect((await chunkFilesOnDisk(join(c.root, 'repo'))).has(lost)).toBe(true);
  const newId = b.json.find((j) => j.event === 'snapshot')!.snapshot as string;
  const r = await runCli(['restore', newId, '--to-new', join(c.root, 'restored.bin')], c.env);
  expect(r.code, r.stderr).toBe(0);
  expect((await readFile(join(c.root, 'restored.bin'))).equals(IMAGE)).toBe(true);
  expect((await runCli(['check'], c.env)).code).toBe(0);
  expect(await readdir(join(c.root, 'repo', 'snapshots'))).toHaveLength(3);
});
