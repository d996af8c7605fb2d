/**
 * The CLI's early start of the repository's key derivation (src/cli/early-unlock.ts), in-process against a
 * real repository directory's key file: which command lines start one, which do not (and must not: another
 * command, an S3 repository, a password file that is not a regular file), and how options are read.
 * That a pipe given as --password-file still reaches the real read is tested end to end in bundle.test.ts.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeKeyFile, newMasterKey } from '../../src/repo/format/index.js';

let dir: string;
let passwordFile: string;
const saved = { repo: process.env.DRIVESNAP_REPO, password: process.env.DRIVESNAP_PASSWORD };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'drivesnap-early-unlock-'));
  await mkdir(join(dir, 'repo', 'keys'), { recursive: true });
  const key = await makeKeyFile(newMasterKey(), 'pw', { scrypt: { N: 1024, r: 8, p: 1 } });
  await writeFile(join(dir, 'repo', key.name), key.body);
  await writeFile(join(dir, 'repo', 'keys', '.drivesnap-tmp-abc'), 'a temp file');
  passwordFile = join(dir, 'password');
  await writeFile(passwordFile, 'pw\n');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  for (const [name, value] of [['DRIVESNAP_REPO', saved.repo], ['DRIVESNAP_PASSWORD', saved.password]] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

beforeEach(() => {
  vi.resetModules();
  delete process.env.DRIVESNAP_REPO;
  delete process.env.DRIVESNAP_PASSWORD;
});

/** Fresh modules (the once-per-process flag and the derivations ahead), run with `argv`, then settle. */
async function startedFor(argv: string[]): Promise<number> {
  const early = await import('../../src/cli/early-unlock.js');
  const keys = await import('../../src/repo/format/password-key.js');
  early.deriveRepositoryKeyEarly(argv);
  // The listing and reads are asynchronous; a few turns of the loop and the file system settle them.
  for (let i = 0; i < 50 && keys.derivationsAhead() === 0; i++) await new Promise((r) => setTimeout(r, 10));
  return keys.derivationsAhead();
}

describe('deriveRepositoryKeyEarly', () => {
  it('starts the derivation of the key file of the repository --repo names, with DRIVESNAP_PASSWORD', async () => {
    process.env.DRIVESNAP_PASSWORD = 'pw';
    expect(await startedFor(['backup', '/some/image', '--repo', join(dir, 'repo')])).toBe(1);
  });

  it('reads DRIVESNAP_REPO and a regular --password-file', async () => {
    process.env.DRIVESNAP_REPO = join(dir, 'repo');
    expect(await startedFor(['snapshots', `--password-file=${passwordFile}`])).toBe(1);
  });

  it('starts nothing for a command that may not open the repository, for help, or without a password', async () => {
    process.env.DRIVESNAP_REPO = join(dir, 'repo');
    expect(await startedFor(['init'])).toBe(0);
    process.env.DRIVESNAP_PASSWORD = 'pw';
    expect(await startedFor(['copy', 'a', 'b'])).toBe(0);
    expect(await startedFor(['backup', '--help'])).toBe(0);
  });

  it('starts nothing for an S3 repository or a password file that is not a regular file', async () => {
    process.env.DRIVESNAP_PASSWORD = 'pw';
    expect(await startedFor(['snapshots', '--repo', 's3://bucket/prefix'])).toBe(0);
    expect(await startedFor(['snapshots', '--repo', join(dir, 'repo'), '--password-file', dir])).toBe(0);
  });

  it('runs once per process', async () => {
    process.env.DRIVESNAP_PASSWORD = 'pw';
    const early = await import('../../src/cli/early-unlock.js');
    const keys = await import('../../src/repo/format/password-key.js');
    early.deriveRepositoryKeyEarly(['snapshots', '--repo', '/nowhere']);
    early.deriveRepositoryKeyEarly(['snapshots', '--repo', join(dir, 'repo')]);
    await new Promise((r) => setTimeout(r, 100));
    expect(keys.derivationsAhead()).toBe(0);
  });
});

describe('optionValue', () => {
  it('reads --name value, --name=value and an alias, the last one winning, up to --', async () => {
    const { optionValue } = await import('../../src/cli/early-unlock.js');
    expect(optionValue(['backup', '--repo', '/a'], ['--repo', '-r'])).toBe('/a');
    expect(optionValue(['backup', '--repo=/b'], ['--repo', '-r'])).toBe('/b');
    expect(optionValue(['backup', '-r', '/c', '--repo', '/d'], ['--repo', '-r'])).toBe('/d');
    expect(optionValue(['backup', '--', '--repo', '/e'], ['--repo', '-r'])).toBeUndefined();
    expect(optionValue(['backup', '--repo'], ['--repo'])).toBeUndefined();
    expect(optionValue(['backup', '--repository', '/f'], ['--repo'])).toBeUndefined();
  });
});
