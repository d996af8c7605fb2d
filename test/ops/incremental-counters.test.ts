/**
 * Issue 11 §1 through the orchestrator, against the emulator, measured on its counters (bytes actually
 * read from drives): an untouched drive's next backup reads only the sample and restores byte-identical;
 * an API write, imaging into the drive and a running server's own write each lead to a full read; a change
 * the counters cannot see (the drive's file written behind the API) is caught by the sample; --read-all
 * reads everything; fullReadEvery forces a full read once due; image files are always read in full.
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import type { Emulator } from '../../src/emulator/index.js';
import { openFileSource } from '../../src/engine/ends/file.js';
import { gzipCodecLabel } from '../../src/engine/codec.js';
import { type BackupEvent, type BackupRunOptions, backupAll } from '../../src/ops/backup-orchestrator.js';
import { fileTarget } from '../../src/ops/backup-plan.js';
import { recordedStateFromExtra, sampleSize } from '../../src/ops/change-detection.js';
import { selectDrives, targetItems } from '../../src/ops/run-select.js';
import { apiWorld, Cleanup, createDriveWith, makeImage, MiB, RANGE, sha256, type TestRepo, writeImageFile } from '../helpers/engine-fixtures.js';
import { restoredHash } from '../helpers/ops-fixtures.js';

type SnapshotEvent = Extract<BackupEvent, { event: 'snapshot' }>;

describe('backups of API drives skip reading drives that were not written', () => {
  const cleanup = new Cleanup();
  let emu: Emulator;
  let c: ApiClient;
  let t: TestRepo;
  let work: string;
  const clients = { get: async () => c };

  beforeAll(async () => {
    ({ emu, c, t, work } = await apiWorld(cleanup));
  });
  afterAll(() => cleanup.run());

  /** Backs the drive up through the orchestrator; the snapshot event and the bytes the emulator served. */
  async function backupDrive(name: string, o: Partial<BackupRunOptions> = {}): Promise<{ e: SnapshotEvent; readBytes: number }> {
    const items = targetItems(await selectDrives([{ kind: 'drive', account: 'eh', drive: name }], clients), clients);
    const events: BackupEvent[] = [];
    emu.resetStats();
    const [outcome] = await backupAll({ repo: t.repo, items, concurrency: 4, onEvent: (e) => events.push(e), ...o });
    const readBytes = emu.stats().readBytes;
    expect(outcome?.error).toBeUndefined();
    const e = events.find((x): x is SnapshotEvent => x.event === 'snapshot')!;
    return { e, readBytes };
  }

  const sampleBytes = (size: number) => (sampleSize(size / RANGE) + 2) * RANGE;

  it('an untouched drive: the second backup reads only the sample (<= 5%) and restores byte-identical', async () => {
    // 80 ranges of 4 MiB: first + last + 2 random = 16 MiB = 5% (the sample is at least 4 ranges).
    const size = 320 * MiB;
    const image = Buffer.alloc(size);
    image.set(makeImage([{ random: 11 }, { text: 12 }]), 0);
    image.set(makeImage([{ random: 13 }]), 40 * RANGE);
    image.set(makeImage([{ random: 14 }]), size - RANGE);
    const uuid = await createDriveWith(c, 'quiet', image);

    const first = await backupDrive('quiet');
    expect(first.e.made).toBe('full read');
    expect(first.readBytes).toBe(size);
    expect(first.e.codec).toBe(gzipCodecLabel(t.repo.config.compression.level));

    const second = await backupDrive('quiet');
    expect(second.e.made).toBe(`counters + ${sampleSize(80) + 2} sampled`);
    expect(second.readBytes).toBe(sampleBytes(size));
    expect(second.readBytes).toBeLessThanOrEqual(0.05 * size);
    expect(second.e.snapshot).not.toBe(first.e.snapshot);

    const row = t.repo.resolveSnapshot(second.e.snapshot);
    expect(row.parent).toBe(first.e.snapshot);
    expect(row.newCount).toBe(0);
    expect(recordedStateFromExtra((row.meta as { extra: Record<string, unknown> }).extra)?.made).toEqual({ counters: true, sampled: 4 });
    expect(await restoredHash(t.repo, second.e.snapshot, work)).toBe(sha256(image));
    expect(uuid).toBe(row.driveUuid);
  });

  async function smallDrive(name: string, seed: number): Promise<{ uuid: string; size: number }> {
    const image = makeImage([{ random: seed }, 'zero', { text: seed }, 'zero', 'zero', { random: seed + 1 }, 'zero', { text: seed + 1 }]);
    const uuid = await createDriveWith(c, name, image);
    const first = await backupDrive(name);
    expect(first.e.made).toBe('full read');
    const untouched = await backupDrive(name);
    expect(untouched.e.made).toMatch(/^counters \+ \d+ sampled$/);
    return { uuid, size: image.length };
  }

  it('an API write leads to a full read', async () => {
    const { uuid, size } = await smallDrive('api-written', 20);
    await c.writeDrive(uuid, 3 * RANGE, Buffer.alloc(4096, 7), { encoding: 'raw' });
    const next = await backupDrive('api-written');
    expect(next.e.made).toBe('full read');
    expect(next.readBytes).toBe(size);
  });

  it('imaging into the drive leads to a full read', async () => {
    const { uuid, size } = await smallDrive('imaged', 30);
    const src = await createDriveWith(c, 'imaged-src', makeImage([{ random: 33 }], 0), size);
    await c.imageDrive(uuid, src);
    await c.waitForImaging(uuid, undefined, { intervalMs: 20, timeoutMs: 30_000 });
    const next = await backupDrive('imaged');
    expect(next.e.made).toBe('full read');
    expect(next.readBytes).toBe(size);
  });

  it("a running server's own write leads to a full read", async () => {
    const { uuid, size } = await smallDrive('guest', 40);
    const server = await c.createServer({ name: 'guest-srv', cpu: 1000, mem: 512, 'ide:0:0': uuid });
    await emu.simulateServerWrite(uuid, 5 * RANGE, Buffer.alloc(512, 9));
    await c.stopServer(server.uuid);
    await c.waitForServerState(server.uuid, 'destroyed', { intervalMs: 20 });
    const next = await backupDrive('guest');
    expect(next.e.made).toBe('full read');
    expect(next.readBytes).toBe(size);
  });

  it('content changed behind the counters (the drive file written directly) fails the sample: full read, new content kept', async () => {
    const { uuid, size } = await smallDrive('behind', 50);
    const before = await c.driveInfo(uuid);
    // The first range is always sampled.
    const changed = Buffer.alloc(RANGE, 0x5a);
    const file = await open(join(emu.dataDir, 'drives', `${uuid}.img`), 'r+');
    try {
      await file.write(changed, 0, changed.length, 0);
    } finally {
      await file.close();
    }
    expect((await c.driveInfo(uuid)).ioCounters).toMatchObject({ writeBytes: before.writeBytes, writeRequests: before.writeRequests });
    const next = await backupDrive('behind');
    expect(next.e.made).toBe('full read');
    // The sample, then every byte.
    expect(next.readBytes).toBe(sampleBytes(size) + size);
    const restored = await restoredHash(t.repo, next.e.snapshot, work);
    const expected = Buffer.from(await c.readDrive(uuid, 0, size));
    expect(restored).toBe(sha256(expected));
  });

  it('--read-all reads everything', async () => {
    const { size } = await smallDrive('read-all', 60);
    const next = await backupDrive('read-all', { readAll: true });
    expect(next.e.made).toBe('full read');
    expect(next.readBytes).toBe(size);
  });

  it('fullReadEvery: an unwritten drive is read in full once that long has passed since its last full read', async () => {
    const { size } = await smallDrive('periodic', 80);
    const inDays = (days: number) => () => new Date(Date.now() + days * 86_400_000);
    const early = await backupDrive('periodic', { fullReadEvery: '7d', now: inDays(6) });
    expect(early.e.made).toMatch(/^counters \+ \d+ sampled$/);
    expect(early.readBytes).toBe(sampleBytes(size));
    const due = await backupDrive('periodic', { fullReadEvery: '7d', now: inDays(7.1) });
    expect(due.e.made).toBe('full read');
    expect(due.readBytes).toBe(size);
    // That full read is the new reference: a day later the sample suffices again.
    const after = await backupDrive('periodic', { fullReadEvery: '7d', now: inDays(8) });
    expect(after.e.made).toMatch(/^counters \+ \d+ sampled$/);
  });

  it('image files are read in full every time and say nothing of how', async () => {
    const path = join(work, 'file.img');
    await writeImageFile(path, makeImage([{ random: 70 }, { text: 71 }]));
    for (let i = 0; i < 2; i++) {
      const events: BackupEvent[] = [];
      await backupAll({
        repo: t.repo,
        items: [{ label: path, open: async () => ({ source: await openFileSource(path), target: fileTarget(path) }) }],
        onEvent: (e) => events.push(e),
      });
      const e = events.find((x): x is SnapshotEvent => x.event === 'snapshot')!;
      expect(e.bytesRead).toBe(2 * RANGE);
      expect(e.made).toBeUndefined();
    }
  });
});
