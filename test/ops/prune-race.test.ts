/**
 * prune racing a backup from another process loses nothing, and the two really overlap:
 * - a backup in flight (its drive reads slowed by the emulator, so it surely holds its shared lock, shown
 *   by its progress events) makes a prune started meanwhile fail with exit 11 (REPO_LOCKED) while the
 *   backup is still running; the backup then commits (exit 0);
 * - a prune holding its exclusive lock (a child frozen part-way through its deletions) makes a backup
 *   started meanwhile fail with exit 11 while the prune is still alive;
 * - a prune told to wait (`--wait-lock`) for a backup in flight starts only once the backup has ended, and
 *   deletes the garbage but nothing the new snapshot references.
 * Afterwards every snapshot made restores byte-identical and `check --read-data` is clean.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import type { Emulator } from '../../src/emulator/index.js';
import { checkRepository } from '../../src/ops/check.js';
import { listLocks } from '../../src/repo/locks.js';
import type { Repository } from '../../src/repo/repository.js';
import { LocalStore } from '../../src/store/local.js';
import type { CliChild, CliResult } from '../helpers/engine-cli.js';
import { apiClient, Cleanup, createDriveWith, emulator, emulatorCliEnv, makeImage, type RangeSpec } from '../helpers/engine-fixtures.js';
import { spawnOps, waitUntil } from '../helpers/ops-cli.js';
import { fileHash, initRepo, repoEnv, restoredHash, strayChunks, writeImage } from '../helpers/ops-fixtures.js';

/** Per drive read: one range a second keeps the backup in flight well past another CLI process's start. */
const LATENCY_MS = 1000;
const PRUNE_CHILD = fileURLToPath(new URL('../helpers/ops-prune-child.ts', import.meta.url));
const image = (seed: number) => makeImage(Array.from({ length: 12 }, (_, i): RangeSpec => (i === 0 ? { random: 1 } : { random: seed + i })));

const cleanup = new Cleanup();
let emu: Emulator;
let c: ApiClient;
let dir: string;
let repoDir: string;
let repo: Repository;
let backupEnv: NodeJS.ProcessEnv;
const made: { snapshot: string; bytes: Buffer }[] = [];

beforeAll(async () => {
  emu = await emulator(cleanup);
  c = apiClient(cleanup, emu);
  dir = await cleanup.tempDir('drivesnap-prune-race-');
  repoDir = join(dir, 'repo');
  repo = await initRepo(cleanup, repoDir, join(dir, 'host-a.sqlite'));
  // Two hosts: each CLI process has its own index, as on two machines.
  backupEnv = await emulatorCliEnv(emu, dir, { DRIVESNAP_REPO: repoDir, DRIVESNAP_INDEX: join(dir, 'host-backup.sqlite') });
});
afterAll(() => cleanup.run());

const pruneEnv = () => repoEnv(repoDir, join(dir, 'host-prune.sqlite'));

/** Starts a backup of `drive` with its reads slowed; resolves once it has finished ranges (it holds its lock). */
async function backupInFlight(drive: string): Promise<{ run: CliChild; exited: () => boolean }> {
  let inFlight = false;
  const run = spawnOps(['backup', `eh:${drive}`, '--json', '--concurrency', '1'], backupEnv, (stdout) => {
    inFlight ||= /"event":"progress"[^\n]*"rangesDone":[1-9]/.test(stdout);
  });
  let exited = false;
  void run.done.then(() => {
    exited = true;
  });
  await waitUntil(() => exited || inFlight, 'the backup to be in flight', 60_000, 10);
  expect(exited, 'the backup ended before the prune could start').toBe(false);
  return { run, exited: () => exited };
}

function expectLocked(r: CliResult): void {
  expect(r.code, r.stderr).toBe(11);
  expect(r.json.at(-1)).toMatchObject({ error: { code: 'REPO_LOCKED' } });
}

async function expectSnapshot(r: CliResult, bytes: Buffer): Promise<void> {
  expect(r.code, r.stderr).toBe(0);
  const snapshot = String(r.json.find((j) => j.event === 'snapshot')?.snapshot);
  expect(snapshot).toMatch(/^[0-9a-f]{64}$/);
  made.push({ snapshot, bytes });
}

describe('prune racing a backup', () => {
  it('a backup in flight holds its lock: a prune started meanwhile fails with exit 11 before the backup ends', async () => {
    const bytes = image(100);
    await createDriveWith(c, 'race-1', bytes);
    await strayChunks(repo, 20, 'garbage-1');
    emu.setFaults({ latencyMs: LATENCY_MS, calls: ['read'] });
    try {
      const backup = await backupInFlight('race-1');
      const pruned = await spawnOps(['prune', '--json'], pruneEnv()).done;
      // The overlap is proven: the prune ended while the backup was still running.
      expect(backup.exited()).toBe(false);
      expectLocked(pruned);
      emu.setFaults(undefined);
      await expectSnapshot(await backup.run.done, bytes);
    } finally {
      emu.setFaults(undefined);
    }
  });

  it('a prune holding its exclusive lock: a backup started meanwhile fails with exit 11 while the prune is alive', async () => {
    await strayChunks(repo, 20, 'garbage-2');
    let out = '';
    const child = spawn(process.execPath, ['--import', 'tsx', PRUNE_CHILD, repoDir, join(dir, 'host-prune.sqlite'), '5'], {
      env: pruneEnv(),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    try {
      await waitUntil(() => out.includes('paused 5') || child.exitCode !== null, 'the prune to hold its lock', 60_000, 10);
      expect(out).toContain('paused 5');
      expect((await listLocks(new LocalStore(repoDir))).map((l) => l.exclusive)).toEqual([true]);
      const img = join(dir, 'race-2.img');
      await writeImage(img, image(200));
      const backedUp = await spawnOps(['backup', img, '--json'], repoEnv(repoDir, join(dir, 'host-backup.sqlite'))).done;
      expect(child.exitCode, 'the prune ended before the backup ran').toBeNull();
      expectLocked(backedUp);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    // The killed prune's lock is all that is left, and it is stale (its process is gone).
    const unlocked = await spawnOps(['unlock', '--json'], pruneEnv()).done;
    expect(unlocked.code, unlocked.stderr).toBe(0);
    expect(unlocked.json.at(-1)).toMatchObject({ removed: 1, remaining: 0 });
  });

  it('a prune waiting for the lock runs once the backup has ended and keeps everything the snapshot needs', async () => {
    const bytes = image(300);
    await createDriveWith(c, 'race-3', bytes);
    await strayChunks(repo, 20, 'garbage-3');
    emu.setFaults({ latencyMs: LATENCY_MS, calls: ['read'] });
    let backupEnded = 0;
    try {
      const backup = await backupInFlight('race-3');
      void backup.run.done.then(() => {
        backupEnded = Date.now();
      });
      const pruned = await spawnOps(['prune', '--json', '--wait-lock', '60'], pruneEnv()).done;
      const pruneEnded = Date.now();
      expect(pruned.code, pruned.stderr).toBe(0);
      // The prune waited: the backup had ended before the prune did.
      expect(backupEnded).toBeGreaterThan(0);
      expect(backupEnded).toBeLessThanOrEqual(pruneEnded);
      const result = pruned.json.find((j) => 'deleted' in j) as { deleted: number } | undefined;
      // The garbage of this round and what the killed prune left: deleted now.
      expect(result?.deleted).toBeGreaterThanOrEqual(20);
      await expectSnapshot(await backup.run.done, bytes);
    } finally {
      emu.setFaults(undefined);
    }
  });

  it('every snapshot made restores byte-identical, and check --read-data is clean', async () => {
    expect(made.length).toBe(2);
    await repo.sync();
    expect(new Set(repo.listSnapshots().map((s) => s.id))).toEqual(new Set(made.map((m) => m.snapshot)));
    for (const m of made) {
      const img = join(dir, `expected-${m.snapshot.slice(0, 8)}.img`);
      await writeImage(img, m.bytes);
      expect(await restoredHash(repo, m.snapshot, dir)).toBe(await fileHash(img));
    }
    expect((await checkRepository(repo, { readData: 1 })).problems).toEqual([]);
    expect(await listLocks(new LocalStore(repoDir))).toEqual([]);
  });
});
