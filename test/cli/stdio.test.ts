/**
 * `-` as a location (issue 11, section 5): the CLI as a child process with real pipes on its stdin and
 * stdout, against the emulator. The drive's bytes are the only thing on stdout; everything else goes to
 * stderr; a reader that closes the pipe early fails the command.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import { readFile } from 'node:fs/promises';
import { Cleanup, RANGE, cliWorld, createDriveWith, makeImage, readWholeDrive } from '../helpers/engine-fixtures.js';
import { runPiped } from '../helpers/piped-cli.js';

const GAP_CHILD = fileURLToPath(new URL('./stdio-gap-child.ts', import.meta.url));
const SIZE_CHILD = fileURLToPath(new URL('./stdio-size-child.ts', import.meta.url));

// Zero ranges in the middle (a stream must carry them as zeros), ranges of each kind, a short last range.
const IMAGE = makeImage([{ random: 1 }, 'zero', { text: 2 }, 'zero', 'zero', { random: 3 }, { dup: 0 }, { text: 4 }], RANGE / 2 + 512);

const cleanup = new Cleanup();
let env: NodeJS.ProcessEnv;
let c: ApiClient;
let work: string;

beforeAll(async () => {
  const world = await cliWorld(cleanup, { encrypted: false, driveName: 'vol', image: IMAGE });
  env = world.env;
  c = world.c;
  work = world.work;
});
afterAll(() => cleanup.run());

it('copy eh:vol - writes exactly the drive to stdout, in order, zero ranges included; the summary goes to stderr', async () => {
  for (const extra of [[], ['--json'], ['--concurrency', '8']]) {
    const r = await runPiped(['copy', 'eh:vol', '-', ...extra], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.length).toBe(IMAGE.length);
    expect(r.stdout.equals(IMAGE)).toBe(true);
    expect(r.stderr).toMatch(extra[0] === '--json' ? /"source":"eh:vol"/ : /copied eh:vol to /);
    if (extra[0] === '--json') {
      // The drive is read once; the stream is never read back, so it adds nothing to the bytes read.
      const summary = JSON.parse(r.stderr.split('\n').find((l) => l.includes('"source":"eh:vol"'))!) as { bytesRead: number; bytesWritten: number };
      expect(summary.bytesRead).toBe(IMAGE.length);
    }
  }
});

it('copy - onto an existing drive takes the drive size from it; reading the drive back gives the input', async () => {
  const input = makeImage([{ text: 7 }, 'zero', { random: 8 }, { random: 9 }]);
  const uuid = await createDriveWith(c, 'target', makeImage([{ random: 5 }, { random: 6 }, 'zero', { text: 1 }]));
  const r = await runPiped(['copy', '-', 'eh:target'], env, { input });
  expect(r.code, r.stderr).toBe(0);
  expect((await readWholeDrive(c, uuid)).equals(input)).toBe(true);
});

it('copy - refuses a stream of another size than the target, naming the sizes', async () => {
  await createDriveWith(c, 'sized', Buffer.alloc(2 * RANGE), 2 * RANGE);
  const short = await runPiped(['copy', '-', 'eh:sized'], env, { input: Buffer.alloc(RANGE + 512, 1) });
  expect(short.code).not.toBe(0);
  expect(short.stderr).toMatch(/stdin ended after \d+ bytes, but 8388608 were expected/);
  const long = await runPiped(['copy', '-', 'eh:sized'], env, { input: Buffer.alloc(2 * RANGE + 1, 1) });
  expect(long.code).not.toBe(0);
  expect(long.stderr).toMatch(/stdin holds more than the 8388608 bytes expected/);
});

it('- on both sides, --to-new onto stdout and a new target from stdin without a size are one-line usage errors', async () => {
  const both = await runPiped(['copy', '-', '-'], env);
  expect(both.code).toBe(2);
  expect(both.stderr).toMatch(/- cannot be both the source \(stdin\) and the target \(stdout\)/);
  const toNew = await runPiped(['copy', 'eh:vol', '-', '--to-new'], env);
  expect(toNew.code).toBe(2);
  expect(toNew.stderr).toMatch(/stdout\) is a stream, not a target to create/);
  const unsized = await runPiped(['copy', '-', 'eh:brand-new', '--to-new'], env, { input: IMAGE });
  expect(unsized.code).toBe(2);
  expect(unsized.stderr).toMatch(/- \(stdin\) needs its size: pass --size N/);
  for (const r of [both, toNew, unsized]) expect(r.stdout.length).toBe(0);
});

it('a reader that closes stdout early fails the copy: non-zero exit, a clear message, no summary', async () => {
  const r = await runPiped(['copy', 'eh:vol', '-'], env, { readAtMost: 1 });
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(/stdout was closed by its reader \(broken pipe\) after \d+ bytes were written in full/);
  expect(r.stderr).not.toMatch(/copied eh:vol/);
});

it('restore --to - streams a snapshot to stdout: backup of an image file, then restore to a pipe gives its bytes', async () => {
  const path = join(work, 'disk.img');
  await writeFile(path, IMAGE);
  const b = await runPiped(['backup', path], env);
  expect(b.code, b.stderr).toBe(0);
  const r = await runPiped(['restore', 'latest', '--drive', path, '--to', '-', '--concurrency', '6'], env);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout.equals(IMAGE)).toBe(true);
  expect(r.stderr).toMatch(/restored [0-9a-f]{12} onto/);
});

it('a range that fails before reaching stdout ends the job with its error, not a hang or a silent exit 0', async () => {
  const path = join(work, 'gap.img');
  await writeFile(path, IMAGE);
  const r = await runPiped([path], env, { entry: GAP_CHILD });
  expect(r.stderr).toMatch(/failed: .*range 0 is unreadable/);
  expect(r.stderr).not.toMatch(/copied/);
  expect(r.code).toBe(1);
  expect(r.stdout.length).toBe(0);
});

it('stdin of a given size onto a new drive and a new file (copy - X --to-new --size N): reading them back gives the input', async () => {
  const r = await runPiped(['28M', 'eh:uploaded'], env, { entry: SIZE_CHILD, input: IMAGE.subarray(0, 7 * RANGE) });
  expect(r.stderr).toMatch(/copied \(new\)/);
  const drive = (await c.listDriveInfo()).find((d) => d.name === 'uploaded')!;
  expect(drive.size).toBe(7 * RANGE);
  expect((await readWholeDrive(c, drive.uuid)).equals(IMAGE.subarray(0, 7 * RANGE))).toBe(true);
  const path = join(work, 'uploaded.img');
  const f = await runPiped([String(IMAGE.length), path], env, { entry: SIZE_CHILD, input: IMAGE });
  expect(f.stderr).toMatch(/copied \(new\)/);
  expect((await readFile(path)).equals(IMAGE)).toBe(true);
  const bad = await runPiped(['12Q', 'eh:never'], env, { entry: SIZE_CHILD, input: IMAGE });
  expect(bad.stderr).toMatch(/failed: --size takes bytes, or a number with a k\/M\/G\/T suffix, e.g. 10G \(got 12Q\)/);
});

it('a stream that ends early onto a new drive: the error names the bytes, and says the stream must be sent again whole', async () => {
  const r = await runPiped(['32M', 'eh:half'], env, { entry: SIZE_CHILD, input: IMAGE.subarray(0, 5 * RANGE + 100) });
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/stdin ended after 20971620 bytes, but 33554432 were expected: give its exact size with --size/);
  expect(r.stderr).toMatch(/eh:half is left partly written: a stream does not resume: send all of it again onto it as an existing target \(without --to-new\)/);
});
