/**
 * `--drive` names an image file the way `backup` recorded it (issue 8, item 10): backups record a file by
 * its absolute path, so a relative path (or `file:` form) given to restore, diff or snapshots is resolved
 * the same way before matching.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cliEnv, runCli } from '../helpers/engine-cli.js';
import { Cleanup, PASSWORD, RANGE, makeImage } from '../helpers/engine-fixtures.js';

/** The CLI children run in the project root: a path relative to it is what a user in that directory types. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ONE = makeImage([{ text: 1 }, { random: 2 }], RANGE / 4);
const TWO = makeImage([{ random: 3 }]);

const cleanup = new Cleanup();
let dir: string;
let env: NodeJS.ProcessEnv;
let relOne: string;

beforeAll(async () => {
  dir = await cleanup.tempDir('drivesnap-drive-paths-');
  await writeFile(join(dir, 'one.bin'), ONE);
  await writeFile(join(dir, 'two.bin'), TWO);
  await writeFile(join(dir, 'accounts.yaml'), 'accounts: {}\n');
  env = cliEnv({
    DRIVESNAP_REPO: join(dir, 'repo'),
    DRIVESNAP_PASSWORD: PASSWORD,
    DRIVESNAP_CONFIG: join(dir, 'accounts.yaml'),
    DRIVESNAP_JOBS_DB: join(dir, 'jobs.sqlite'),
    HOME: dir,
  });
  relOne = `./${relative(ROOT, join(dir, 'one.bin'))}`;
  expect((await runCli(['init'], env)).code).toBe(0);
  for (const file of [relOne, join(dir, 'two.bin')]) {
    const b = await runCli(['backup', file], env);
    expect(b.code, b.stderr).toBe(0);
  }
});
afterAll(() => cleanup.run());

it('restore latest --drive with a relative path, a file: path and an absolute path finds the snapshot', async () => {
  for (const [i, drive] of [relOne, `file:${relOne.slice(2)}`, join(dir, 'one.bin')].entries()) {
    const target = join(dir, `restored-${i}.bin`);
    const r = await runCli(['restore', 'latest', '--drive', drive, '--to', target], env);
    expect(r.code, `${drive}: ${r.stderr}`).toBe(0);
    expect((await readFile(target)).equals(ONE)).toBe(true);
  }
});

it('snapshots --drive and diff --drive with a relative path', async () => {
  const s = await runCli(['snapshots', '--drive', relOne, '--json'], env);
  expect(s.code, s.stderr).toBe(0);
  const rows = JSON.parse(s.stdout.trim().split('\n').at(-1)!) as { driveName: string }[];
  expect(rows.map((r) => r.driveName)).toEqual([join(dir, 'one.bin')]);
  const d = await runCli(['diff', 'latest', 'latest', '--drive', relOne, '--json'], env);
  expect(d.code, d.stderr).toBe(0);
});
