/**
 * Backup, restore and copy through injected faults: the emulator answers ~10% of drive reads and writes
 * `busy`, ~10% `system`, and resets ~5% of connections mid-call (a reset write is applied or not, drawn per
 * request). Seeded: the seeds below put busy, system and reset answers among the first calls of each job,
 * so every job meets faults whatever the order its parallel requests arrive in. Every job must still end
 * byte-identical, and the client's retry counters must show the faults were ridden out, not avoided.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import type { Emulator, FaultSpec } from '../../src/emulator/index.js';
import { driveSink, driveSource } from '../../src/engine/ends/drive.js';
import { backup } from '../../src/engine/jobs/backup.js';
import { copy } from '../../src/engine/jobs/copy.js';
import { restore } from '../../src/engine/jobs/restore.js';
import {
  apiClient,
  Cleanup,
  createDriveWith,
  driveTarget,
  emulator,
  expectedTable,
  localRepo,
  makeImage,
  RANGE,
  readWholeDrive,
  type TestRepo,
} from '../helpers/engine-fixtures.js';

const IMAGE = makeImage([{ text: 11 }, { random: 12 }, 'zero', { text: 13 }, { random: 14 }, { text: 15 }], RANGE - 512);
const OTHER = makeImage([{ random: 21 }, 'zero', { text: 22 }, { text: 23 }, 'zero', { random: 24 }], RANGE - 512);

const faults = (seed: number): FaultSpec => ({ busyRate: 0.1, systemRate: 0.1, resetRate: 0.05, seed, calls: ['read', 'write'] });

const cleanup = new Cleanup();
let emu: Emulator;
let setup: ApiClient;
let t: TestRepo;
let sourceUuid: string;

beforeAll(async () => {
  emu = await emulator(cleanup);
  setup = apiClient(cleanup, emu);
  t = await localRepo(cleanup, true);
  sourceUuid = await createDriveWith(setup, 'source', IMAGE);
});
afterAll(() => cleanup.run());

it('backup, restore and copy end byte-identical through busy, system and reset faults, with retries counted', async () => {
  const byWord = { busy: 0, system: 0, connection: 0 };
  const tally = (c: ApiClient) => {
    const s = c.stats();
    byWord.busy += s.byWord.busy ?? 0;
    byWord.system += s.byWord.system ?? 0;
    byWord.connection += s.byWord.connection ?? 0;
    return s.retries;
  };

  // Backup (drive reads).
  const cb = apiClient(cleanup, emu);
  await cb.driveInfo(sourceUuid);
  emu.resetStats();
  emu.setFaults(faults(4));
  const b = await backup({
    repo: t.repo,
    source: driveSource({ api: cb, uuid: sourceUuid, size: IMAGE.length, description: 'eh:source' }),
    target: driveTarget(sourceUuid, 'source', emu.url),
  });
  emu.setFaults(undefined);
  expect(emu.stats().faultsInjected).toBeGreaterThan(0);
  expect(tally(cb)).toBeGreaterThan(0);
  expect(t.repo.index.snapshotTable(b.snapshotId)!.equals(await expectedTable(IMAGE, t.repo))).toBe(true);

  // Restore onto a new drive (writes), verified by reading back through the faults too.
  const cr = apiClient(cleanup, emu);
  const created = await cr.createDrive({ name: 'restored', size: IMAGE.length });
  emu.resetStats();
  emu.setFaults(faults(6));
  const r = await restore({
    repo: t.repo,
    snapshot: t.repo.resolveSnapshot(b.snapshotId),
    sink: driveSink({ api: cr, uuid: created.uuid, size: created.size, description: 'eh:restored', startsZeroed: true }),
    verify: true,
  });
  emu.setFaults(undefined);
  expect(r.verified?.ranges).toBe(6);
  expect(emu.stats().faultsInjected).toBeGreaterThan(0);
  expect(tally(cr)).toBeGreaterThan(0);
  expect((await readWholeDrive(setup, created.uuid)).equals(IMAGE)).toBe(true);

  // Copy drive -> existing drive (reads of both, writes of the differing ranges).
  const cc = apiClient(cleanup, emu);
  const target = await createDriveWith(cc, 'target', OTHER);
  await cc.driveInfo(sourceUuid);
  emu.resetStats();
  emu.setFaults(faults(9));
  await copy({
    source: driveSource({ api: cc, uuid: sourceUuid, size: IMAGE.length, description: 'eh:source' }),
    sink: driveSink({ api: cc, uuid: target, size: OTHER.length, description: 'eh:target', startsZeroed: false }),
    verify: true,
  });
  emu.setFaults(undefined);
  expect(emu.stats().faultsInjected).toBeGreaterThan(0);
  expect(tally(cc)).toBeGreaterThan(0);
  expect((await readWholeDrive(setup, target)).equals(IMAGE)).toBe(true);

  // All three kinds of fault were met and retried.
  expect(byWord.busy).toBeGreaterThan(0);
  expect(byWord.system).toBeGreaterThan(0);
  expect(byWord.connection).toBeGreaterThan(0);
});
