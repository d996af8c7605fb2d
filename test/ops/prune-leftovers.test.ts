/**
 * A crash between a batched chunk put and its flush leaves temp files in a local repository; nothing names
 * them and listings skip them. `drivesnap prune` (under the exclusive lock, so no backup is writing) deletes
 * them once an hour old, and says so; `--dry-run` only counts them.
 */
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LEFTOVER_MIN_AGE_MS, TEMP_PREFIX } from '../../src/store/local.js';
import { Cleanup, makeImage } from '../helpers/engine-fixtures.js';
import { runOps } from '../helpers/ops-cli.js';
import { backupFile, initRepo, repoEnv, writeImage } from '../helpers/ops-fixtures.js';

const cleanup = new Cleanup();
let repoDir: string;
let env: NodeJS.ProcessEnv;
const STRAY = join('chunks', '7f', `${TEMP_PREFIX}0123456789abcdef`);

async function tempFiles(): Promise<string[]> {
  const entries = await readdir(repoDir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name.startsWith(TEMP_PREFIX)).map((e) => join(e.parentPath, e.name).slice(repoDir.length + 1));
}

beforeAll(async () => {
  const dir = await cleanup.tempDir('drivesnap-prune-leftovers-');
  repoDir = join(dir, 'repo');
  const indexPath = join(dir, 'index.sqlite');
  const repo = await initRepo(cleanup, repoDir, indexPath);
  const img = join(dir, 'disk.img');
  await writeImage(img, makeImage([{ random: 1 }, { text: 2 }]));
  await backupFile(repo, img);
  await repo.close();
  env = repoEnv(repoDir, indexPath);
});
afterAll(() => cleanup.run());

it('prune deletes the temp files an interrupted backup left, and --dry-run only counts them', async () => {
  await mkdir(join(repoDir, 'chunks', '7f'), { recursive: true });
  await writeFile(join(repoDir, STRAY), Buffer.alloc(1000, 1));
  const crashTime = new Date(Date.now() - LEFTOVER_MIN_AGE_MS - 60_000);
  await utimes(join(repoDir, STRAY), crashTime, crashTime);
  expect(await tempFiles()).toEqual([STRAY]);

  const dry = await runOps(['prune', '--dry-run', '--json'], env);
  expect(dry.code, dry.stderr).toBe(0);
  expect(dry.json.at(-1)).toMatchObject({ dryRun: true, deleted: 0, leftovers: { count: 1, bytes: 1000 } });
  expect(await tempFiles()).toEqual([STRAY]);

  const real = await runOps(['prune'], env);
  expect(real.code, real.stderr).toBe(0);
  expect(real.stdout).toContain('deleted 1 unfinished upload(s) of interrupted backups');
  expect(await tempFiles()).toEqual([]);

  const check = await runOps(['check', '--json'], env);
  expect(check.code, check.stderr).toBe(0);
});
