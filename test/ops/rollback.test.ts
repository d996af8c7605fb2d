/**
 * Issue 11 §2 against the emulator, measured on its counters (bytes actually read from and written to
 * drives through the API): restoring onto a drive that still holds its latest snapshot's content reads only
 * the sample and writes exactly the ranges where the two manifests differ; a drive written since (API write,
 * a running server's own write), or changed behind the counters (its file written directly), or restored
 * with --read-all, is read and compared in full; every way ends with the drive holding the snapshot's bytes.
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import type { Emulator } from '../../src/emulator/index.js';
import { driveSink } from '../../src/engine/ends/drive.js';
import { snapshotObjectName } from '../../src/repo/format/ids.js';
import { restore } from '../../src/engine/jobs/restore.js';
import { type BackupEvent, backupAll } from '../../src/ops/backup-orchestrator.js';
import { sampleSize } from '../../src/ops/change-detection.js';
import { type RestorePlan, describeRestorePlan, planRestoreOnto } from '../../src/ops/rollback.js';
import { selectDrives, targetItems } from '../../src/ops/run-select.js';
import { apiWorld, Cleanup, createDriveWith, differingRanges, makeImage, MiB, RANGE, readWholeDrive, sha256, type TestRepo } from '../helpers/engine-fixtures.js';

type SnapshotEvent = Extract<BackupEvent, { event: 'snapshot' }>;

describe('restore onto a drive that a snapshot proves: rollback without reading the target', () => {
  const cleanup = new Cleanup();
  let emu: Emulator;
  let c: ApiClient;
  let t: TestRepo;
  const clients = { get: async () => c };

  beforeAll(async () => {
    ({ emu, c, t } = await apiWorld(cleanup));
  });
  afterAll(() => cleanup.run());

  async function backupDrive(name: string): Promise<string> {
    const items = targetItems(await selectDrives([{ kind: 'drive', account: 'eh', drive: name }], clients), clients);
    const events: BackupEvent[] = [];
    const [outcome] = await backupAll({ repo: t.repo, items, concurrency: 4, onEvent: (e) => events.push(e) });
    expect(outcome?.error).toBeUndefined();
    return events.find((x): x is SnapshotEvent => x.event === 'snapshot')!.snapshot;
  }

  /** What `restore SNAP --to eh:NAME` does: drive info, plan, restore; with the bytes the emulator served and took. */
  async function restoreOnto(uuid: string, snapshotId: string, o: { readAll?: boolean; verify?: boolean } = {}) {
    const snapshot = await t.repo.authenticSnapshot(snapshotId);
    const info = await c.driveInfo(uuid);
    const sink = driveSink({ api: c, uuid, size: info.size, description: `eh:${info.name}`, startsZeroed: false });
    emu.resetStats();
    const drive = await c.driveInfo(uuid);
    const planned = await planRestoreOnto({ repo: t.repo, sink, drive, endpoint: c.url, snapshotTable: snapshot.table, readAll: o.readAll });
    const rollback = planned.plan.kind === 'rollback' ? planned.plan : undefined;
    const result = await restore({
      repo: t.repo,
      snapshot,
      sink,
      concurrency: 4,
      verify: o.verify,
      differingRanges: rollback?.write,
      plannedRead: planned.sampledBytes,
    });
    const stats = emu.stats();
    return { plan: planned.plan, result, readBytes: stats.readBytes, writeBytes: stats.writeBytes };
  }

  const sampleBytes = (size: number) => (sampleSize(size / RANGE) + 2) * RANGE;

  /** Writes `data` into the drive's backing file, behind the API: its counters do not move. */
  async function writeBehindTheApi(uuid: string, offset: number, data: Buffer): Promise<void> {
    const file = await open(join(emu.dataDir, 'drives', `${uuid}.img`), 'r+');
    try {
      await file.write(data, 0, data.length, offset);
    } finally {
      await file.close();
    }
  }

  /** A small drive with two snapshots: `before` (its first content) and `last` (after 2 ranges changed). */
  async function driveWithTwoSnapshots(name: string, seed: number) {
    const image = makeImage([{ random: seed }, 'zero', { text: seed }, 'zero', { random: seed + 1 }, 'zero', { text: seed + 1 }, { random: seed + 2 }]);
    const uuid = await createDriveWith(c, name, image);
    const before = await backupDrive(name);
    await c.writeDrive(uuid, 1 * RANGE, Buffer.alloc(RANGE, 0x11), { encoding: 'raw' });
    await c.writeDrive(uuid, 4 * RANGE, Buffer.alloc(RANGE, 0x22), { encoding: 'raw' });
    const last = await backupDrive(name);
    return { uuid, image, before, last, size: image.length };
  }

  it('rolls a drive back to the snapshot before last, 5% different: reads only the sample, writes exactly the differing ranges', async () => {
    // 80 ranges of 4 MiB: the sample is first + last + 2 random = 16 MiB = 5%.
    const size = 320 * MiB;
    const image = Buffer.alloc(size);
    for (let i = 0; i < 80; i += 4) image.set(makeImage([{ random: 100 + i }]), i * RANGE);
    image.set(makeImage([{ text: 99 }]), size - RANGE);
    const uuid = await createDriveWith(c, 'big', image);
    const before = await backupDrive('big');

    // 4 ranges (5%) change: two overwritten, one zeroed, one written where there were zeros.
    const changed = [8, 20, 41, 77];
    await c.writeDrive(uuid, 8 * RANGE, makeImage([{ random: 500 }]), { encoding: 'raw' });
    await c.writeDrive(uuid, 20 * RANGE, Buffer.alloc(RANGE), { encoding: 'raw' });
    await c.writeDrive(uuid, 41 * RANGE, makeImage([{ text: 501 }]), { encoding: 'raw' });
    await c.writeDrive(uuid, 77 * RANGE, makeImage([{ random: 502 }]), { encoding: 'raw' });
    expect(differingRanges(image, await readWholeDrive(c, uuid))).toEqual(changed);
    const last = await backupDrive('big');

    const r = await restoreOnto(uuid, before);
    expect(r.plan).toMatchObject({ kind: 'rollback', baseline: last, sampled: 4 });
    expect(describeRestorePlan(r.plan)).toBe(`rollback from snapshot ${last.slice(0, 8)}, 4 sampled`);
    expect(r.readBytes).toBe(sampleBytes(size));
    expect(r.readBytes).toBeLessThanOrEqual(0.05 * size);
    expect(r.writeBytes).toBe(changed.length * RANGE);
    const s = r.result.progress.snapshot();
    expect(s.bytesRead).toBe(r.readBytes);
    expect(s.counts).toEqual({ written: 4, 'in-place': 76 });
    expect(sha256(await readWholeDrive(c, uuid))).toBe(sha256(image));

    // Our writes moved the counters: nothing proves the drive's content any more, the next restore reads.
    const again = await restoreOnto(uuid, last);
    expect(again.plan).toMatchObject({ kind: 'read-and-compare', reason: { why: 'target-changed', snapshot: last, change: 'written' } });
    expect(again.readBytes).toBe(size);
    expect(again.writeBytes).toBe(changed.length * RANGE);
  });

  it('restoring the snapshot the drive still holds writes nothing and reads only the sample; --verify reads it all back', async () => {
    const { uuid, image, last, size } = await driveWithTwoSnapshots('same', 10);
    const r = await restoreOnto(uuid, last, { verify: true });
    expect(r.plan).toMatchObject({ kind: 'rollback', baseline: last });
    expect(r.writeBytes).toBe(0);
    expect(r.result.verified).toEqual({ ranges: 8 });
    // The sample, then the verify pass.
    expect(r.readBytes).toBe(sampleBytes(size) + size);
    const held = await readWholeDrive(c, uuid);
    expect(differingRanges(image, held)).toEqual([1, 4]);
  });

  it('a drive written through the API since its last snapshot is read and compared in full', async () => {
    const { uuid, image, before, last, size } = await driveWithTwoSnapshots('api-written', 20);
    await c.writeDrive(uuid, 6 * RANGE, Buffer.alloc(4096, 7), { encoding: 'raw' });
    const r = await restoreOnto(uuid, before);
    expect(r.plan).toMatchObject({ kind: 'read-and-compare', reason: { why: 'target-changed', snapshot: last, change: 'written' } });
    expect(r.readBytes).toBe(size);
    expect(r.writeBytes).toBe(3 * RANGE);
    expect(sha256(await readWholeDrive(c, uuid))).toBe(sha256(image));
  });

  it("a running server's own write since the last snapshot leads to a full read and compare", async () => {
    const { uuid, image, before, size } = await driveWithTwoSnapshots('guest', 30);
    const server = await c.createServer({ name: 'guest-srv', cpu: 1000, mem: 512, 'ide:0:0': uuid });
    await emu.simulateServerWrite(uuid, 2 * RANGE, Buffer.alloc(512, 9));
    await c.stopServer(server.uuid);
    await c.waitForServerState(server.uuid, 'destroyed', { intervalMs: 20 });
    const r = await restoreOnto(uuid, before);
    expect(r.plan).toMatchObject({ kind: 'read-and-compare', reason: { why: 'target-changed', change: 'written' } });
    expect(r.readBytes).toBe(size);
    expect(r.writeBytes).toBe(3 * RANGE);
    expect(sha256(await readWholeDrive(c, uuid))).toBe(sha256(image));
  });

  it('content changed behind the counters (the drive file written directly) fails the sample: full read and compare', async () => {
    const { uuid, image, before, last, size } = await driveWithTwoSnapshots('behind', 40);
    const infoBefore = await c.driveInfo(uuid);
    // The first range is always sampled.
    await writeBehindTheApi(uuid, 0, Buffer.alloc(RANGE, 0x5a));
    expect((await c.driveInfo(uuid)).ioCounters).toMatchObject({ writeBytes: infoBefore.writeBytes, writeRequests: infoBefore.writeRequests });
    const r = await restoreOnto(uuid, before);
    expect(r.plan).toEqual({ kind: 'read-and-compare', reason: { why: 'sample-differs', snapshot: last, range: 0 } });
    // The sample, then every byte.
    expect(r.readBytes).toBe(sampleBytes(size) + size);
    expect(r.writeBytes).toBe(3 * RANGE);
    expect(r.result.progress.snapshot().bytesRead).toBe(r.readBytes);
    expect(sha256(await readWholeDrive(c, uuid))).toBe(sha256(image));
  });

  it('--read-all reads and compares every range even when a snapshot proves the drive', async () => {
    const { uuid, image, before, size } = await driveWithTwoSnapshots('read-all', 50);
    const r = await restoreOnto(uuid, before, { readAll: true });
    expect(r.plan).toEqual({ kind: 'read-and-compare', reason: { why: 'read-all' } } satisfies RestorePlan);
    expect(r.readBytes).toBe(size);
    expect(r.writeBytes).toBe(2 * RANGE);
    expect(sha256(await readWholeDrive(c, uuid))).toBe(sha256(image));
  });

  it("a proving snapshot whose manifest is gone (forgotten elsewhere, index not synced) leads to read and compare", async () => {
    const { uuid, image, before, last, size } = await driveWithTwoSnapshots('forgotten', 70);
    await t.repo.store.delete(snapshotObjectName(last));
    const r = await restoreOnto(uuid, before);
    expect(r.plan).toMatchObject({ kind: 'read-and-compare', reason: { why: 'baseline-unreadable', snapshot: last } });
    expect(describeRestorePlan(r.plan)).toMatch(new RegExp(`^read and compare \\(snapshot ${last.slice(0, 8)} of the target unreadable: .+\\)$`));
    expect(r.readBytes).toBe(size);
    expect(sha256(await readWholeDrive(c, uuid))).toBe(sha256(image));
  });

  it('a drive with no snapshot of its own is read and compared', async () => {
    const { before } = await driveWithTwoSnapshots('source', 60);
    const image = makeImage([{ random: 61 }, 'zero', 'zero', 'zero', 'zero', 'zero', 'zero', 'zero']);
    const other = await createDriveWith(c, 'other', image);
    const r = await restoreOnto(other, before);
    expect(r.plan).toEqual({ kind: 'read-and-compare', reason: { why: 'no-snapshot-of-target' } });
    expect(r.readBytes).toBe(image.length);
  });
});
