/**
 * Numeric options are checked where they are parsed (issue 8, item 1): `--concurrency abc` once backed up
 * nothing and exited 0. Every numeric option of every command rejects a value that is not a number, and
 * one out of range, with a usage error (exit 2) naming the option and what it takes; nothing is done.
 */
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { checkNumber } from '../../src/cli/options.js';
import { cliEnv, runCli } from '../helpers/engine-cli.js';
import { Cleanup, RANGE, makeImage, snapshotFilesOnDisk } from '../helpers/engine-fixtures.js';

const cleanup = new Cleanup();
let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dir = await cleanup.tempDir('drivesnap-numeric-');
  await writeFile(join(dir, 'img64.bin'), makeImage([{ text: 1 }, { random: 2 }], RANGE / 2));
  await writeFile(join(dir, 'accounts.yaml'), 'accounts: {}\n');
  env = cliEnv({
    DRIVESNAP_REPO: join(dir, 'repo'),
    DRIVESNAP_PASSWORD: 'numeric-options-password',
    DRIVESNAP_CONFIG: join(dir, 'accounts.yaml'),
    DRIVESNAP_JOBS_DB: join(dir, 'jobs.sqlite'),
    HOME: dir,
  });
  const init = await runCli(['init'], env);
  expect(init.code, init.stderr).toBe(0);
});
afterAll(() => cleanup.run());

describe('the reproductions from the issue, as a user runs them', () => {
  it('backup ./img64.bin --concurrency abc: exit 2, one line naming --concurrency, no snapshot', async () => {
    const r = await runCli(['backup', join(dir, 'img64.bin'), '--concurrency', 'abc'], env);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(['drivesnap: --concurrency takes a whole number from 1 to 256 (the value given is not a number)']);
    expect(await snapshotFilesOnDisk(join(dir, 'repo'))).toEqual([]);
  });

  it('restore and copy with --concurrency abc: exit 2, no target file created', async () => {
    const restore = await runCli(['restore', 'latest', '--to', join(dir, 'restored.bin'), '--concurrency', 'abc'], env);
    expect(restore.code).toBe(2);
    expect(restore.stderr).toContain('--concurrency');
    const copy = await runCli(['copy', join(dir, 'img64.bin'), join(dir, 'copied.bin'), '--concurrency', 'abc'], env);
    expect(copy.code).toBe(2);
    expect(copy.stderr).toContain('--concurrency');
    expect((await readdir(dir)).sort()).not.toContain('copied.bin');
    expect((await readdir(dir)).sort()).not.toContain('restored.bin');
  });
});

/** Runs the CLI in this process with --json and returns the exit code and the error object it printed. */
async function usage(argv: string[]): Promise<{ code: number; error?: { code: string; message: string } }> {
  const printed: string[] = [];
  const stdout = process.stdout.write;
  const stderr = process.stderr.write;
  process.stdout.write = ((chunk: string) => printed.push(String(chunk)) > 0) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    const code = await main([...argv, '--json']);
    const line = printed.find((l) => l.startsWith('{"error"'));
    return { code, error: line ? (JSON.parse(line) as { error: { code: string; message: string } }).error : undefined };
  } finally {
    process.stdout.write = stdout;
    process.stderr.write = stderr;
  }
}

const FILE = '/nonexistent/drivesnap-numeric/img.bin';
/** Every numeric option of every command, with a command line that would otherwise parse. */
const OPTIONS: [string, string[]][] = [
  ['concurrency', ['backup', FILE]],
  ['shutdown-timeout', ['backup', FILE, '--shutdown-server']],
  ['concurrency', ['restore', 'latest', '--to', FILE]],
  ['concurrency', ['copy', FILE, `${FILE}.2`]],
  ['compress', ['copy', FILE, `${FILE}.2`]],
  ['concurrency', ['clone', 'eh:x', '--name', 'y']],
  ['wait-lock', ['prune']],
  ['wait-lock', ['forget', '--keep-last', '1']],
  ['keep-last', ['forget']],
  ['keep-hourly', ['forget']],
  ['keep-daily', ['forget']],
  ['keep-weekly', ['forget']],
  ['keep-monthly', ['forget']],
  ['keep-yearly', ['forget']],
  ['compression-level', ['init']],
  ['concurrency', ['migrate-server', 'eh:s', 'other:']],
  ['parallel-drives', ['migrate-server', 'eh:s', 'other:']],
  ['compress', ['migrate-server', 'eh:s', 'other:']],
  ['shutdown-timeout', ['migrate-server', 'eh:s', 'other:', '--shutdown-server']],
];

describe.each(OPTIONS)('--%s of %j', (option, argv) => {
  it.each(['abc', '-5'])('rejects %s with a usage error naming the option', async (value) => {
    const r = await usage([...argv, `--${option}`, value]);
    expect(r.code).toBe(2);
    expect(r.error?.code).toBe('USAGE');
    expect(r.error?.message).toMatch(new RegExp(`^--${option} takes a (whole )?number`));
  });
});

it('checkNumber: the bounds, fractions and the special value', () => {
  const spec = { description: '', min: 1, max: 9 };
  expect(checkNumber('n', spec, 1)).toBe(1);
  expect(checkNumber('n', spec, '9')).toBe(9);
  expect(() => checkNumber('n', spec, 0)).toThrow('--n takes a whole number from 1 to 9 (got 0)');
  expect(() => checkNumber('n', spec, 2.5)).toThrow('(got 2.5)');
  expect(() => checkNumber('n', spec, Number.POSITIVE_INFINITY)).toThrow('--n');
  expect(checkNumber('t', { description: '', whole: false, min: 0, aboveMin: true }, 0.3)).toBe(0.3);
  expect(() => checkNumber('t', { description: '', whole: false, min: 0, aboveMin: true }, 0)).toThrow('--t takes a number > 0');
  expect(checkNumber('k', { description: '', min: 0, special: { value: -1, meaning: 'unlimited' } }, -1)).toBe(-1);
  expect(() => checkNumber('k', { description: '', min: 0, special: { value: -1, meaning: 'unlimited' } }, -2)).toThrow('or -1 for unlimited');
});
