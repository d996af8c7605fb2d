/**
 * `clone` uses the API's server-side imaging inside one account and falls back to a copy across accounts;
 * `backup --all ACCOUNT: --tag-filter T` backs up exactly the account's drives carrying the tag.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import type { Emulator } from '../../src/emulator/index.js';
import { cliEnv, runCli } from '../helpers/engine-cli.js';
import { ACCOUNT_A, ACCOUNT_B, Cleanup, apiClient, createDriveWith, emulator, makeImage, readWholeDrive } from '../helpers/engine-fixtures.js';

const cleanup = new Cleanup();
afterAll(() => cleanup.run());

const IMAGE = makeImage([{ text: 7 }, 'zero', { random: 8 }], 1024 * 1024);
let emu: Emulator;
let a: ApiClient;
let b: ApiClient;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  emu = await emulator(cleanup);
  a = apiClient(cleanup, emu, ACCOUNT_A);
  b = apiClient(cleanup, emu, ACCOUNT_B);
  const dir = await cleanup.tempDir('drivesnap-clone-');
  await writeFile(join(dir, 'accounts.yaml'), `accounts:\n  b:\n    url: ${emu.url}\n    user: ${ACCOUNT_B.user}\n    secretEnv: B_SECRET\n`);
  env = cliEnv({
    EHURI: emu.url,
    EHAUTH: `${ACCOUNT_A.user}:${ACCOUNT_A.secret}`,
    B_SECRET: ACCOUNT_B.secret,
    DRIVESNAP_CONFIG: join(dir, 'accounts.yaml'),
    DRIVESNAP_JOBS_DB: join(dir, 'jobs.sqlite'),
    DRIVESNAP_REPO: join(dir, 'repo'),
    HOME: dir,
  });
  expect((await runCli(['init', '--no-encryption'], env)).code).toBe(0);
});

describe('clone', () => {
  it('inside one account images the drive server-side: no bytes pass through drivesnap', async () => {
    await createDriveWith(a, 'golden', IMAGE);
    emu.resetStats();
    const r = await runCli(['clone', 'eh:golden', '--name', 'golden-copy', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const result = r.json.at(-1) as { method: string; drive: string };
    expect(result.method).toBe('imaging');
    expect(emu.stats().readRequests).toBe(0);
    expect(emu.stats().writeRequests).toBe(0);
    expect((await readWholeDrive(a, result.drive)).equals(IMAGE)).toBe(true);
  });

  it('to another account copies the ranges, skipping zero ones', async () => {
    // Its own source drive: this test does not depend on the one before it.
    await createDriveWith(a, 'golden-across', IMAGE);
    const r = await runCli(['clone', 'eh:golden-across', '--name', 'golden-b', '--to', 'b:', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const result = r.json.at(-1) as { method: string; drive: string; counts: Record<string, number> };
    expect(result.method).toBe('copy');
    expect(result.counts).toEqual({ written: 2, 'zero-skipped': 1 });
    expect((await readWholeDrive(b, result.drive)).equals(IMAGE)).toBe(true);
  });
});

describe('backup --all', () => {
  it('backs up every drive of the account that carries the tag, and only those', async () => {
    const tagged1 = await createDriveWith(a, 'web-1', IMAGE);
    const tagged2 = await createDriveWith(a, 'web-2', IMAGE.subarray(0, 4 * 1024 * 1024));
    await a.setDrive(tagged1, { tags: 'nightly web' });
    await a.setDrive(tagged2, { tags: 'nightly' });
    const r = await runCli(['backup', '--all', 'eh:', '--tag-filter', 'nightly', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const snaps = await runCli(['snapshots', '--json'], env);
    const drives = (JSON.parse(snaps.stdout) as { driveUuid: string }[]).map((s) => s.driveUuid).sort();
    expect(drives).toEqual([tagged1, tagged2].sort());
  });

  it('says so when no drive carries the tag', async () => {
    const r = await runCli(['backup', '--all', 'eh:', '--tag-filter', 'no-such-tag'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no drives tagged no-such-tag/);
  });
});
