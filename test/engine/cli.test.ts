
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import { LocalStore } from '../../src/store/local.js';
import { Repository } from '../../src/repo/repository.js';
import {
  Cleanup,
  cliWorld,
  expectedTable,
  makeImage,
  PASSWORD,
  RANGE,
  readWholeDrive,
  snapshotNames,
} from '../helpers/engine-fixtures.js';
import { type CliResult, runCli } from '../helpers/engine-cli.js';

const IMAGE = makeImage([{ text: 51 }, 'zero', { random: 52 }, { text: 53 }], RANGE / 2);

const cleanup = new Cleanup();
let c: ApiClient;
let work: string;
let repoDir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  ({ c, work, repoDir, env } = await cliWorld(cleanup, { encrypted: true, driveName: 'web', image: IMAGE }));
});
afterAll(() => cleanup.run());

const errorOf = (r: CliResult) => r.json.find((j) => 'error' in j)?.error as { code?: string; message?: string } | undefined;

async function openRepo(): Promise<Repository> {
  const repo = await Repository.open(new LocalStore(repoDir), { password: PASSWORD, indexPath: () => join(work, 'check-index.sqlite') });
  cleanup.add(() => repo.close());
  return repo;
}

it('backup eh:web, then restore latest --to-new eh:copy --verify, with --json: exit 0 and a byte-identical drive', async () => {
  const b = await runCli(['backup', 'eh:web', '--json'], env);
  expect(b.code, b.stderr).toBe(0);
  const snap = b.json.find((j) => j.event === 'snapshot');
  expect(snap).toMatchObject({ location: 'eh:web', rangesTotal: 4, counts: { new: 3, zero: 1 } });
  const snapshotId = snap!.snapshot as string;
  expect(snapshotId).toMatch(/^[0-9a-f]{64}$/);

  const repo = await openRepo();
  const row = repo.resolveSnapshot(snapshotId);
  expect(row.driveName).toBe('web');
  expect((await repo.loadManifest(snapshotId)).table.equals(await expectedTable(IMAGE, repo))).toBe(true);

  const r = await runCli(['restore', 'latest', '--to-new', 'eh:copy', '--verify', '--json'], env);
  expect(r.code, r.stderr).toBe(0);
  const result = r.json.find((j) => j.snapshot === snapshotId);
  expect(result).toMatchObject({ target: 'eh:copy', created: true, verified: 4, counts: { written: 3, 'zero-skipped': 1 } });
  expect(result!.codec).toMatch(/^(isal-igzip|libdeflate|node:zlib)$/);
  const copyUuid = result!.drive as string;
  expect((await readWholeDrive(c, copyUuid)).equals(IMAGE)).toBe(true);
  expect((await c.driveInfo(copyUuid)).name).toBe('copy');
});

it('exit 2 for a bad DRIVESNAP_CODEC, before any work', async () => {
  const r = await runCli(['restore', 'latest', '--to-new', 'eh:never-made', '--json'], { ...env, DRIVESNAP_CODEC: 'zstd' });
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('DRIVESNAP_CODEC must be one of');
  expect((await c.listDriveInfo()).some((d) => d.name === 'never-made')).toBe(false);
});

it('exit 2 for bad usage (restore with no target), with a USAGE error line', async () => {
  const r = await runCli(['restore', 'latest', '--json'], env);
  expect(r.code).toBe(2);
  expect(errorOf(r)?.code).toBe('USAGE');
});

it('exit 10 for a missing repository', async () => {
  const r = await runCli(['backup', 'eh:web', '--json'], { ...env, DRIVESNAP_REPO: join(work, 'no-such-repo') });
  expect(r.code).toBe(10);
  expect(errorOf(r)?.code).toBe('REPO_NOT_FOUND');
});

it('exit 12 for a wrong password, and the password is not echoed', async () => {
  const r = await runCli(['backup', 'eh:web', '--json'], { ...env, DRIVESNAP_PASSWORD: 'not-the-password' });
  expect(r.code).toBe(12);
  expect(errorOf(r)?.code).toBe('WRONG_PASSWORD');
  expect(r.stdout + r.stderr).not.toContain('not-the-password');
});

it('exit 3 when one of two drives fails: the other is backed up', async () => {
  const repo = await openRepo();
  const before = (await snapshotNames(repo)).length;
  const r = await runCli(['backup', 'eh:web', 'eh:no-such-drive', '--json'], env);
  expect(r.code, r.stderr).toBe(3);
  expect(r.json.filter((j) => j.event === 'snapshot').map((j) => j.location)).toEqual(['eh:web']);
  expect(r.json.filter((j) => j.event === 'error').map((j) => [j.location, j.code])).toEqual([['eh:no-such-drive', 'DRIVE_NOT_FOUND']]);
  expect((await snapshotNames(repo)).length).toBe(before + 1);
});
