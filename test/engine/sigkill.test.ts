
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import type { Emulator } from '../../src/emulator/index.js';
import { driveSource } from '../../src/engine/ends/drive.js';
import { backup } from '../../src/engine/jobs/backup.js';
import { RepoIndex } from '../../src/repo/index-db.js';
import { Repository } from '../../src/repo/repository.js';
import { LocalStore } from '../../src/store/local.js';
import {
  apiClient,
  Cleanup,
  chunkFilesOnDisk,
  createDriveWith,
  differingRanges,
  distinctNonZero,
  driveTarget,
  emulator,
  expectedTable,
  localRepo,
  makeImage,
  RANGE,
  type RangeSpec,
  readWholeDrive,
  snapshotFilesOnDisk,
  type TestRepo,
  emulatorCliEnv,
} from '../helpers/engine-fixtures.js';
import { type CliResult, spawnCli, waitUntil } from '../helpers/engine-cli.js';

const SPECS: RangeSpec[] = [
  { text: 61 }, { random: 62 }, { text: 63 }, 'zero', { random: 64 },
  { text: 65 }, { random: 66 }, { text: 67 }, { random: 68 }, { text: 69 },
];
const IMAGE = makeImage(SPECS, RANGE - 1000);
const OTHER = makeImage(SPECS.map((_, i) => ({ random: 700 + i })), RANGE - 1000);
const LATENCY_MS = 250;

const cleanup = new Cleanup();
let emu: Emulator;
let c: ApiClient;
let work: string;
let t: TestRepo;
let env: NodeJS.ProcessEnv;
let sourceUuid: string;
let snapshotId: string;

beforeAll(async () => {
  emu = await emulator(cleanup);
  c = apiClient(cleanup, emu);
  work = await cleanup.tempDir();
  t = await localRepo(cleanup, false);
  t.repo.index.close();
  sourceUuid = await createDriveWith(c, 'big', IMAGE);
  env = await emulatorCliEnv(emu, work, { DRIVESNAP_REPO: t.dir! });
});
afterAll(() => cleanup.run());

/** Starts the command, SIGKILLs it once `ready()` holds, and returns what it printed. */
async function killPartWay(args: string[], ready: () => Promise<boolean> | boolean): Promise<CliResult> {
  const run = spawnCli(args, env);
  let exited = false;
  void run.done.then(() => {
    exited = true;
  });
  await waitUntil(async () => exited || (await ready()), 'the job to be part-way', 60_000, 10);
  run.child.kill('SIGKILL');
  const result = await run.done;
  // The job must really have been killed, not have finished first.
  expect(result.signal, result.stderr).toBe('SIGKILL');
  return result;
}

/** Waits until the emulator has answered everything the killed client had sent (no request for a while). */
async function quiesce(): Promise<void> {
  let last = -1;
  await waitUntil(
    () => {
      const now = emu.stats().requests;
      const still = now === last;
      last = now;
      return still;
    },
    'the emulator to go quiet',
    30_000,
    LATENCY_MS * 3,
  );
}

function checkpointed(indexPath: string, prefix: string): number {
  const index = RepoIndex.open(indexPath);
  try {
    const keys = index.listJobs(prefix);
    expect(keys.length).toBe(1);
    return index.jobProgress(keys[0]!).size;
  } finally {
    index.close();
  }
}

describe('SIGKILL part-way, then the same command again', () => {
  it('backup: no manifest left; the rerun re-uploads nothing finished and yields the uninterrupted table', async () => {
    const total = distinctNonZero(IMAGE).size;
    // Chunks become objects a batch at a time (the checkpoint's flush, about once a second): slow reads
    // leave the first batch well short of the drive.
    emu.setFaults({ latencyMs: 2 * LATENCY_MS, calls: ['read'] });
    const args = ['backup', 'eh:big', '--concurrency', '2', '--json'];
    await killPartWay(args, async () => (await chunkFilesOnDisk(t.dir!)).size >= 2);
    emu.setFaults(undefined);

    // The repository after the kill: chunks, but no snapshot manifest.
    expect(await snapshotFilesOnDisk(t.dir!)).toEqual([]);
    const afterKill = await chunkFilesOnDisk(t.dir!);
    expect(afterKill.size).toBeGreaterThanOrEqual(2);
    expect(afterKill.size).toBeLessThan(total);
    const index = RepoIndex.open(t.indexPath);
    const known = new Set([...index.allChunkIds()].map((id) => id.toString('hex')));
    index.close();
    // Everything the index knows is on disk (a chunk is recorded only after its object is stored).
    for (const hex of known) expect(afterKill.has(hex)).toBe(true);
    const done = checkpointed(t.indexPath, 'backup:');

    const rerun = await spawnCli(args, env).done;
    expect(rerun.code, rerun.stderr).toBe(0);
    const event = rerun.json.find((j) => j.event === 'snapshot')!;
    const counts = event.counts as Record<string, number>;
    // Exactly the chunks the first run had not stored (and recorded) are uploaded now.
    expect(counts.new ?? 0).toBe(total - known.size);
    expect(counts.resumed ?? 0).toBe(done);
    const final = await chunkFilesOnDisk(t.dir!);
    expect(final.size).toBe(total);
    for (const hex of known) expect(final.get(hex), `chunk ${hex} was uploaded again`).toBe(afterKill.get(hex));
    expect((await snapshotFilesOnDisk(t.dir!)).length).toBe(1);

    // The resumed snapshot's table is the one an uninterrupted backup of the same content gets.
    snapshotId = event.snapshot as string;
    const repo = await Repository.open(new LocalStore(t.dir!), { indexPath: () => join(work, 'check-index.sqlite') });
    cleanup.add(() => repo.close());
    const resumedTable = (await repo.loadManifest(snapshotId)).table;
    const uninterrupted = await backup({
      repo,
      source: driveSource({ api: c, uuid: sourceUuid, size: IMAGE.length, description: 'eh:big' }),
      target: driveTarget(sourceUuid, 'big', emu.url),
    });
    expect(uninterrupted.progress.count('new')).toBe(0);
    expect(resumedTable.equals(repo.index.snapshotTable(uninterrupted.snapshotId)!)).toBe(true);
    expect(resumedTable.equals(await expectedTable(IMAGE, repo))).toBe(true);
  });

  it('restore onto an existing drive: byte-identical after the rerun, which writes only what still differs', async () => {
    expect(snapshotId).toBeDefined();
    const target = await createDriveWith(c, 'target', OTHER);
    expect(differingRanges(IMAGE, OTHER).length).toBe(SPECS.length);
    emu.resetStats();
    emu.setFaults({ latencyMs: LATENCY_MS, calls: ['write'] });
    const args = ['restore', snapshotId, '--to', 'eh:target', '--concurrency', '2', '--json'];
    await killPartWay(args, () => emu.stats().writeRequests >= 3);
    await quiesce();
    emu.setFaults(undefined);

    const midway = await readWholeDrive(c, target);
    const stillDiffering = differingRanges(IMAGE, midway);
    expect(stillDiffering.length).toBeGreaterThan(0);
    expect(stillDiffering.length).toBeLessThan(SPECS.length);
    const done = checkpointed(t.indexPath, 'restore:');

    emu.resetStats();
    const rerun = await spawnCli(args, env).done;
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(emu.stats().writeRequests).toBe(stillDiffering.length);
    const result = rerun.json.find((j) => j.snapshot === snapshotId)!;
    expect((result.counts as Record<string, number>).resumed ?? 0).toBe(done);
    expect((await readWholeDrive(c, target)).equals(IMAGE)).toBe(true);
  });

  it('copy drive -> existing drive: byte-identical after the rerun, which writes only what still differs', async () => {
    const target = await createDriveWith(c, 'copy-target', OTHER);
    emu.resetStats();
    emu.setFaults({ latencyMs: LATENCY_MS, calls: ['write'] });
    const args = ['copy', 'eh:big', 'eh:copy-target', '--concurrency', '2', '--json'];
    await killPartWay(args, () => emu.stats().writeRequests >= 3);
    await quiesce();
    emu.setFaults(undefined);

    const midway = await readWholeDrive(c, target);
    const stillDiffering = differingRanges(IMAGE, midway);
    expect(stillDiffering.length).toBeGreaterThan(0);
    expect(stillDiffering.length).toBeLessThan(SPECS.length);
    const done = checkpointed(join(work, 'jobs.sqlite'), 'copy:');

    emu.resetStats();
    const rerun = await spawnCli(args, env).done;
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(emu.stats().writeRequests).toBe(stillDiffering.length);
    const result = rerun.json.find((j) => j.source === 'eh:big')!;
    expect((result.counts as Record<string, number>).resumed ?? 0).toBe(done);
    expect((await readWholeDrive(c, target)).equals(IMAGE)).toBe(true);
  });
});
