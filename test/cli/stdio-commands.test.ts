/**
 * `-` through the commands' own options (copy --size, backup - --size, restore --to -), once copy.ts,
 * backup.ts and restore.ts declare them: the CLI as a child process with real pipes, against the emulator.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import { Cleanup, RANGE, cliWorld, makeImage, readWholeDrive } from '../helpers/engine-fixtures.js';
import { runPiped } from '../helpers/piped-cli.js';

const IMAGE = makeImage([{ random: 11 }, 'zero', { text: 12 }, { dup: 0 }, 'zero', { random: 13 }], RANGE / 2);

const cleanup = new Cleanup();
let env: NodeJS.ProcessEnv;
let c: ApiClient;
let work: string;

beforeAll(async () => {
  const world = await cliWorld(cleanup, { encrypted: true, driveName: 'vol', image: IMAGE });
  ({ env, c, work } = world);
});
afterAll(() => cleanup.run());

it('copy - eh:NEW --to-new --size N uploads stdin: reading the drive back gives the input; the summary names -', async () => {
  const r = await runPiped(['copy', '-', 'eh:uploaded', '--to-new', '--size', String(IMAGE.length)], env, { input: IMAGE });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout.toString()).toMatch(/copied - to eh:uploaded \(new\)/);
  const drive = (await c.listDriveInfo()).find((d) => d.name === 'uploaded')!;
  expect((await readWholeDrive(c, drive.uuid)).equals(IMAGE)).toBe(true);
});

it('copy - onto an existing image file takes its size; copy eh:vol - names - in its summary on stderr', async () => {
  const path = join(work, 'existing.img');
  await writeFile(path, Buffer.alloc(IMAGE.length, 7));
  const up = await runPiped(['copy', '-', path], env, { input: IMAGE });
  expect(up.code, up.stderr).toBe(0);
  expect((await readFile(path)).equals(IMAGE)).toBe(true);
  const down = await runPiped(['copy', 'eh:vol', '-'], env);
  expect(down.code, down.stderr).toBe(0);
  expect(down.stdout.equals(IMAGE)).toBe(true);
  expect(down.stderr).toMatch(/copied eh:vol to -/);
});

it('backup - --size N, then restore --to -: the same bytes; a failed backup - does not make the next one resume', async () => {
  const short = await runPiped(['backup', '-', '--size', String(IMAGE.length)], env, { input: IMAGE.subarray(0, 3 * RANGE) });
  expect(short.code).not.toBe(0);
  expect(short.stderr).toMatch(/stdin ended after 12582912 bytes/);
  expect(short.stderr).not.toMatch(/resume/);
  const b = await runPiped(['backup', '-', '--size', String(IMAGE.length)], env, { input: IMAGE });
  expect(b.code, b.stderr).toBe(0);
  const r = await runPiped(['restore', 'latest', '--drive', 'stdin', '--to', '-'], env);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout.equals(IMAGE)).toBe(true);
});

it('--verify with a stream, --size without -, and backup - without --size are one-line usage errors before any work', async () => {
  for (const [args, message] of [
    [['copy', 'eh:vol', '-', '--verify'], /--verify reads both ends again/],
    [['restore', 'latest', '--drive', 'stdin', '--to', '-', '--verify'], /stdout \(-\) cannot be read/],
    [['copy', 'eh:vol', join(work, 'x.img'), '--size', '4M'], /--size applies only when the source is - \(stdin\)/],
    [['backup', '-'], /- \(stdin\) needs its size: pass --size N/],
  ] as const) {
    const r = await runPiped([...args], env, { input: IMAGE });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout.length).toBe(0);
  }
});
