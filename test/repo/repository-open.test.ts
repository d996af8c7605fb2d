/**
 * Opening a repository trusts nothing a person with write access to the store could edit unnoticed
 * (issue 8, item 3; issue 9, item 8): a config that says "none" in a repository with key files, or in one
 * this computer has seen encrypted, is CONFIG_CORRUPT and nothing is written; a wrong password is exit 12
 * whatever the order of the key files, and a damaged key file is named by its object name.
 */
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Repository } from '../../src/repo/repository.js';
import { LocalStore } from '../../src/store/local.js';
import { cliEnv, runCli } from '../helpers/engine-cli.js';
import { CHEAP_SCRYPT, Cleanup, PASSWORD, RANGE, chunkFilesOnDisk, localRepo, makeImage } from '../helpers/engine-fixtures.js';

const cleanup = new Cleanup();
afterAll(() => cleanup.run());

/** The edit from the issue: encryption off, ids plain SHA-256, the MAC gone. */
async function downgradeConfig(dir: string): Promise<void> {
  const path = join(dir, 'config');
  const json = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  json.encryption = 'none';
  json.idHash = 'sha256';
  delete json.mac;
  await writeFile(path, JSON.stringify(json));
}

describe('a config edited to turn encryption off', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    dir = await cleanup.tempDir('drivesnap-downgrade-');
    await writeFile(join(dir, 'one.img'), makeImage([{ text: 1 }, { random: 2 }], RANGE / 2));
    await writeFile(join(dir, 'two.img'), makeImage([{ random: 3 }, { text: 4 }]));
    await writeFile(join(dir, 'accounts.yaml'), 'accounts: {}\n');
    env = cliEnv({
      DRIVESNAP_REPO: join(dir, 'repo'),
      DRIVESNAP_PASSWORD: PASSWORD,
      DRIVESNAP_CONFIG: join(dir, 'accounts.yaml'),
      DRIVESNAP_JOBS_DB: join(dir, 'jobs.sqlite'),
      HOME: dir,
    });
    expect((await runCli(['init'], env)).code).toBe(0);
    const first = await runCli(['backup', join(dir, 'one.img')], env);
    expect(first.code, first.stderr).toBe(0);
  });

  it('the next backup fails with CONFIG_CORRUPT and writes no chunk (with or without a password)', async () => {
    const repo = join(dir, 'repo');
    await downgradeConfig(repo);
    const chunksBefore = await chunkFilesOnDisk(repo);
    const r = await runCli(['backup', join(dir, 'two.img'), '--json'], env);
    expect(r.code).toBe(1);
    expect(r.json.find((j) => 'error' in j)?.error).toMatchObject({ code: 'CONFIG_CORRUPT' });
    expect(r.stderr).toContain('key file');
    const noPassword = await runCli(['backup', join(dir, 'two.img'), '--json'], { ...env, DRIVESNAP_PASSWORD: undefined });
    expect(noPassword.code).toBe(1);
    expect(noPassword.json.find((j) => 'error' in j)?.error).toMatchObject({ code: 'CONFIG_CORRUPT' });
    expect(await chunkFilesOnDisk(repo)).toEqual(chunksBefore);
  });
});

it('with the key files deleted too, a computer that has seen the repository encrypted refuses it', async () => {
  const t = await localRepo(cleanup, true);
  await t.repo.close();
  await downgradeConfig(t.dir!);
  await rm(join(t.dir!, 'keys'), { recursive: true });
  const open = Repository.open(new LocalStore(t.dir!), { indexPath: () => t.indexPath });
  await expect(open).rejects.toMatchObject({ code: 'CONFIG_CORRUPT' });
  await expect(open).rejects.toThrow(/seen it with encryption aes-256-gcm/);
});

describe('unlocking with several key files, one of them damaged', () => {
  let dir: string;
  let indexPath: string;
  let damagedName: string;
  beforeAll(async () => {
    const t = await localRepo(cleanup, true);
    dir = t.dir!;
    indexPath = t.indexPath;
    await t.repo.addKey('second password', CHEAP_SCRYPT);
    await t.repo.close();
  });

  const open = (password: string) => Repository.open(new LocalStore(dir), { password, indexPath: () => indexPath });

  for (const which of ['first', 'last'] as const) {
    it(`a wrong password exits 12 when the ${which} key file (in listing order) is damaged`, async () => {
      const names = (await readdir(join(dir, 'keys'))).sort();
      expect(names).toHaveLength(2);
      damagedName = which === 'first' ? names[0]! : names[1]!;
      const path = join(dir, 'keys', damagedName);
      const good = await readFile(path);
      await writeFile(path, '{"version":1,"damaged":');
      try {
        const err = await open('not the password').catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'WRONG_PASSWORD', exitCode: 12 });
        // The right password still opens the repository through the other file.
        const repo = await open(PASSWORD).catch(() => open('second password'));
        await repo.close();
      } finally {
        await writeFile(path, good);
      }
    });
  }

  it('when every key file is damaged, the error names one by its file name, not its content hash', async () => {
    const names = (await readdir(join(dir, 'keys'))).sort();
    const saved = await Promise.all(names.map((n) => readFile(join(dir, 'keys', n))));
    try {
      for (const n of names) await writeFile(join(dir, 'keys', n), 'not json');
      const err = await open(PASSWORD).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'KEY_FILE_CORRUPT' });
      expect(names.some((n) => (err as Error).message.includes(`keys/${n}`))).toBe(true);
    } finally {
      for (const [i, n] of names.entries()) await writeFile(join(dir, 'keys', n), saved[i]!);
    }
  });
});
