/**
 * Jobs that create their target (issue 8, items 4 and 9). The job records that it is creating the drive or
 * file before it does, so a rerun after a kill adopts the target it made, and only that one; and a job
 * that fails before its first write removes the target it created, while one that fails later says what
 * is left.
 */
import { readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import type { Emulator } from '../../src/emulator/index.js';
import { spawnCli, runCli, waitUntil } from '../helpers/engine-cli.js';
import {
  Cleanup,
  cliWorld,
  createDriveWith,
  makeImage,
  RANGE,
  rangeOf,
  readWholeDrive,
  sha256,
} from '../helpers/engine-fixtures.js';

const IMAGE = makeImage([{ text: 81 }, { random: 82 }, 'zero', { text: 83 }], RANGE / 2);

const cleanup = new Cleanup();
let emu: Emulator;
let c: ApiClient;
let work: string;
let repoDir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  ({ emu, c, work, repoDir, env } = await cliWorld(cleanup, { encrypted: false, driveName: 'source', image: IMAGE }));
});
afterAll(() => cleanup.run());

const drivesNamed = async (name: string) => (await c.listDriveInfo()).filter((d) => d.name === name);
const errorOf = (r: { json: Record<string, unknown>[] }) => r.json.find((j) => 'error' in j)?.error as { code?: string } | undefined;

/**
 * Runs the command with the create call answering at 1 byte/s, and SIGKILLs it once the drive exists in the
 * API: the client never learnt its UUID. Then runs the same command again.
 */
async function killAfterCreate(args: string[], name: string) {
  emu.setFaults({ slowBodyBytesPerSec: 1, calls: ['drives.create'] });
  const run = spawnCli(args, env);
  let exited = false;
  void run.done.then(() => {
    exited = true;
  });
  try {
    await waitUntil(async () => exited || (await drivesNamed(name)).length > 0, 'the drive to be created', 60_000, 20);
    run.child.kill('SIGKILL');
    expect((await run.done).signal).toBe('SIGKILL');
  } finally {
    emu.setFaults(undefined);
  }
  return runCli(args, env);
}

describe('copy --to-new killed right after it created the drive', () => {
  it('the rerun adopts the drive it created (its UUID never reached the client) and finishes it', async () => {
    const rerun = await killAfterCreate(['copy', 'eh:source', 'eh:made', '--to-new', '--json'], 'made');
    expect(rerun.code, rerun.stderr).toBe(0);
    const made = await drivesNamed('made');
    expect(made).toHaveLength(1);
    expect((await readWholeDrive(c, made[0]!.uuid)).equals(IMAGE)).toBe(true);
  });

  it('clone by server-side imaging, killed the same way: the rerun images into that drive, no second one', async () => {
    const rerun = await killAfterCreate(['clone', 'eh:source', '--name', 'cloned', '--json'], 'cloned');
    expect(rerun.code, rerun.stderr).toBe(0);
    const cloned = await drivesNamed('cloned');
    expect(cloned).toHaveLength(1);
    expect((await readWholeDrive(c, cloned[0]!.uuid)).equals(IMAGE)).toBe(true);
  });

  it('a drive of that name the job did not create is refused, naming what to do for copy', async () => {
    await createDriveWith(c, 'taken', Buffer.alloc(IMAGE.length));
    const r = await runCli(['copy', 'eh:source', 'eh:taken', '--to-new', '--json'], env);
    expect(r.code).toBe(2);
    expect(errorOf(r)?.code).toBe('DRIVE_EXISTS');
    expect(r.stderr).toContain('copy without --to-new');
    expect(await drivesNamed('taken')).toHaveLength(1);
  });
});

describe('a restore that fails', () => {
  let snapshotId: string;
  let lostChunk: string;
  beforeAll(async () => {
    const b = await runCli(['backup', 'eh:source', '--json'], env);
    expect(b.code, b.stderr).toBe(0);
    snapshotId = b.json.find((j) => j.event === 'snapshot')!.snapshot as string;
    // The last range's chunk (a plain repository: its id is the SHA-256 of the range). Missing, every
    // restore refuses before writing; damaged, a restore fails only once it reaches that range.
    lostChunk = sha256(rangeOf(IMAGE, 3));
    expect(await readdir(join(repoDir, 'chunks', lostChunk.slice(0, 2)))).toContain(lostChunk);
  });

  async function withChunkGone<T>(fn: () => Promise<T>): Promise<T> {
    const path = join(repoDir, 'chunks', lostChunk.slice(0, 2), lostChunk);
    const saved = await readFile(path);
    await rm(path);
    try {
      return await fn();
    } finally {
      await writeFile(path, saved);
    }
  }

  it('before its first write removes the new file it created (--to of a missing file, and --to-new)', async () => {
    for (const flag of ['--to', '--to-new']) {
      const target = join(work, `refused${flag}.bin`);
      const r = await withChunkGone(() => runCli(['restore', snapshotId, flag, target, '--json'], env));
      expect(r.code).toBe(1);
      expect(errorOf(r)?.code).toBe('SNAPSHOT_INCOMPLETE');
      expect(r.stderr).toContain(`removed ${target}`);
      await expect(stat(target)).rejects.toMatchObject({ code: 'ENOENT' });
    }
  });

  it('before its first write removes the new drive it created', async () => {
    const r = await withChunkGone(() => runCli(['restore', snapshotId, '--to-new', 'eh:refused', '--json'], env));
    expect(r.code).toBe(1);
    expect(errorOf(r)?.code).toBe('SNAPSHOT_INCOMPLETE');
    expect(await drivesNamed('refused')).toHaveLength(0);
    // Nothing is left to adopt: the next restore creates the drive afresh and completes.
    const again = await runCli(['restore', snapshotId, '--to-new', 'eh:refused', '--json'], env);
    expect(again.code, again.stderr).toBe(0);
    expect(await drivesNamed('refused')).toHaveLength(1);
  });

  it('after writing part of a new file leaves it, says so, and the rerun resumes into it', async () => {
    const target = join(work, 'partial.bin');
    const path = join(repoDir, 'chunks', lostChunk.slice(0, 2), lostChunk);
    const saved = await readFile(path);
    const damaged = Buffer.from(saved);
    damaged[damaged.length - 1]! ^= 0xff;
    await writeFile(path, damaged);
    let r: Awaited<ReturnType<typeof runCli>>;
    try {
      r = await runCli(['restore', snapshotId, '--to-new', target, '--concurrency', '1', '--json'], env);
    } finally {
      await writeFile(path, saved);
    }
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${target} is left partly written: run the same command again to resume`);
    expect((await stat(target)).size).toBe(IMAGE.length);
    const rerun = await runCli(['restore', snapshotId, '--to-new', target, '--json'], env);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect((await readFile(target)).equals(IMAGE)).toBe(true);
  });
});
