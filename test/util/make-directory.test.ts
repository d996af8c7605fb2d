import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectoryError, makeDirectory, makeDirectorySync } from '../../src/util/make-directory.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'drivesnap-mkdir-'));
});
afterAll(() => rm(work, { recursive: true, force: true }));

describe.each([
  ['makeDirectory', makeDirectory],
  ['makeDirectorySync', async (path: string) => makeDirectorySync(path)],
] as const)('%s', (name, make) => {
  it('creates missing parents and returns the first directory it created', async () => {
    const top = join(work, `${name}-a`);
    expect(await make(join(top, 'b', 'c'))).toBe(top);
    expect((await stat(join(top, 'b', 'c'))).isDirectory()).toBe(true);
    expect(await make(join(top, 'b'))).toBeUndefined();
  });

  it('refuses a file in the way with EEXIST', async () => {
    const file = join(work, `${name}-file`);
    await writeFile(file, 'x');
    await expect(make(file)).rejects.toMatchObject({ code: 'DIRECTORY_CREATE', errno: 'EEXIST' });
    await expect(make(join(file, 'below'))).rejects.toBeInstanceOf(DirectoryError);
  });

  it.runIf(existsSync('/proc/self'))('fails at once under /proc, where Node recursive mkdir spins forever', async () => {
    const err = await make('/proc/self/a/b').catch((e: unknown) => e);
    // ENOENT as root; a user may meet EACCES first. Either way one failure, at the first level below /proc/self.
    expect(err).toMatchObject({ errno: expect.stringMatching(/^(ENOENT|EACCES)$/), path: '/proc/self/a' });
    expect((err as Error).message).toContain('choose a directory on a normal');
  });
});
