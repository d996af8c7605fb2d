/**
 * Incremental behaviour, seen from outside the engine: chunk objects counted on disk, the emulator's write
 * counters (global and per drive), and the bytes that crossed the wire (a recording proxy).
 *  - a second backup after changing k ranges stores exactly k new chunks; zero ranges are never stored;
 *  - a restore to a new drive never writes zero ranges;
 *  - a restore onto an existing drive that differs in k ranges writes exactly k ranges;
 *  - a restore to a drive sends the repository's stored gzip stream as is (Content-Encoding: gzip), and
 *    ranges stored raw (incompressible) as raw bodies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import type { Emulator } from '../../src/emulator/index.js';
import { driveSink, driveSource } from '../../src/engine/ends/drive.js';
import { backup } from '../../src/engine/jobs/backup.js';
import { restore } from '../../src/engine/jobs/restore.js';
import { chunkId } from '../../src/repo/format/index.js';
import {
  apiClient,
  Cleanup,
  chunkFilesOnDisk,
  createDriveWith,
  differingRanges,
  driveTarget,
  emulator,
  expectedTable,
  isZeroRange,
  localRepo,
  makeImage,
  nonZeroRanges,
  RANGE,
  type RangeSpec,
  rangeContent,
  rangeCountOf,
  rangeOf,
  readWholeDrive,
  sha256,
  type TestRepo,
  writeCounters,
} from '../helpers/engine-fixtures.js';
import { type RecordingProxy, startRecordingProxy } from '../helpers/engine-proxy.js';

const SPECS: RangeSpec[] = [{ text: 1 }, { random: 2 }, 'zero', { text: 3 }, 'zero', { random: 4 }, { text: 6 }, { text: 7 }];
const TAIL = RANGE - 4096;
const V1 = makeImage(SPECS, TAIL);
const V2 = Buffer.from(V1);
// Three ranges get content the repository has never seen (one of them was all zeros)...
const NOVEL = [0, 4, 5];
rangeContent({ text: 100 }, RANGE).copy(V2, 0 * RANGE);
rangeContent({ random: 101 }, RANGE).copy(V2, 4 * RANGE);
rangeContent({ text: 102 }, RANGE).copy(V2, 5 * RANGE);
// ...one takes content the repository holds already (range 1's), and one becomes all zeros.
V1.copy(V2, 6 * RANGE, 1 * RANGE, 2 * RANGE);
V2.fill(0, 3 * RANGE, 4 * RANGE);

const cleanup = new Cleanup();
let emu: Emulator;
let c: ApiClient;
let t: TestRepo;
let driveUuid: string;
let snap1: string;
let snap2: string;

async function idsOf(image: Buffer, indexes: number[]): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const i of indexes) ids.add((await chunkId(rangeOf(image, i), t.repo.ctx)).toString('hex'));
  return ids;
}

beforeAll(async () => {
  emu = await emulator(cleanup);
  c = apiClient(cleanup, emu);
  t = await localRepo(cleanup, true);
  driveUuid = await createDriveWith(c, 'disk', V1);
});
afterAll(() => cleanup.run());

describe('incremental backup', () => {
  it('the first backup stores one chunk per distinct non-zero range and none for zero ranges', async () => {
    const source = driveSource({ api: c, uuid: driveUuid, size: V1.length, description: 'eh:disk' });
    const r = await backup({ repo: t.repo, source, target: driveTarget(driveUuid, 'disk', c.url) });
    snap1 = r.snapshotId;
    expect(r.progress.snapshot().counts).toEqual({ new: 6, zero: 2 });
    const onDisk = new Set((await chunkFilesOnDisk(t.dir!)).keys());
    expect(onDisk).toEqual(await idsOf(V1, nonZeroRanges(V1)));
    // No object for the all-zero content under any name.
    expect(onDisk.has((await chunkId(Buffer.alloc(RANGE), t.repo.ctx)).toString('hex'))).toBe(false);
    expect(r.meta.counts).toEqual({ zero: 2, new: 6, reused: 0 });
  });

  it('a second backup after changing ranges stores exactly the novel ones (k = 3)', async () => {
    for (const i of differingRanges(V1, V2)) {
      const piece = rangeOf(V2, i);
      await c.writeDrive(driveUuid, i * RANGE, piece, { encoding: 'raw' });
    }
    expect((await readWholeDrive(c, driveUuid)).equals(V2)).toBe(true);
    const before = new Set((await chunkFilesOnDisk(t.dir!)).keys());

    const source = driveSource({ api: c, uuid: driveUuid, size: V2.length, description: 'eh:disk' });
    const r = await backup({ repo: t.repo, source, target: driveTarget(driveUuid, 'disk', c.url) });
    snap2 = r.snapshotId;
    const zeros = rangeCountOf(V2.length) - nonZeroRanges(V2).length;
    expect(zeros).toBe(2);
    expect(r.progress.snapshot().counts).toEqual({ new: NOVEL.length, zero: zeros, unchanged: rangeCountOf(V2.length) - zeros - NOVEL.length });
    expect(r.meta.counts.new).toBe(NOVEL.length);
    expect(r.meta.parent).toBe(snap1);

    const after = new Set((await chunkFilesOnDisk(t.dir!)).keys());
    expect(after.size - before.size).toBe(NOVEL.length);
    const added = new Set([...after].filter((h) => !before.has(h)));
    expect(added).toEqual(await idsOf(V2, NOVEL));
    expect(t.repo.index.snapshotTable(snap2)!.equals(await expectedTable(V2, t.repo))).toBe(true);
  });
});

describe('restore writes', () => {
  it('to a new drive: one write per non-zero range, zero ranges never written', async () => {
    const snapshot = t.repo.resolveSnapshot(snap2);
    const created = await c.createDrive({ name: 'fresh', size: snapshot.size });
    const before = await writeCounters(c, created.uuid);
    emu.resetStats();
    const sink = driveSink({ api: c, uuid: created.uuid, size: created.size, description: 'eh:fresh', startsZeroed: true });
    const r = await restore({ repo: t.repo, snapshot, sink });
    const nonZero = nonZeroRanges(V2);
    expect(r.progress.snapshot().counts).toEqual({ written: nonZero.length, 'zero-skipped': rangeCountOf(V2.length) - nonZero.length });
    const stats = emu.stats();
    expect(stats.writeRequests).toBe(nonZero.length);
    expect(stats.writeBytes).toBe(nonZero.reduce((sum, i) => sum + rangeOf(V2, i).length, 0));
    const after = await writeCounters(c, created.uuid);
    expect(after.requests - before.requests).toBe(nonZero.length);
    expect(after.bytes - before.bytes).toBe(stats.writeBytes);
    expect((await readWholeDrive(c, created.uuid)).equals(V2)).toBe(true);
  });

  it('onto an existing drive that differs in k ranges: exactly k writes (k = 5, zero ranges included)', async () => {
    // The drive holds V2 now; restore V1 onto it.
    const k = differingRanges(V1, V2);
    expect(k).toEqual([0, 3, 4, 5, 6]);
    expect(k.some((i) => isZeroRange(rangeOf(V1, i)))).toBe(true); // a range that must be zeroed on the target
    const snapshot = t.repo.resolveSnapshot(snap1);
    const before = await writeCounters(c, driveUuid);
    emu.resetStats();
    const sink = driveSink({ api: c, uuid: driveUuid, size: V2.length, description: 'eh:disk', startsZeroed: false });
    const r = await restore({ repo: t.repo, snapshot, sink });
    expect(r.progress.snapshot().counts).toEqual({ written: k.length, 'in-place': rangeCountOf(V1.length) - k.length });
    expect(emu.stats().writeRequests).toBe(k.length);
    expect(emu.stats().writeBytes).toBe(k.reduce((sum, i) => sum + rangeOf(V1, i).length, 0));
    expect((await writeCounters(c, driveUuid)).requests - before.requests).toBe(k.length);
    expect((await readWholeDrive(c, driveUuid)).equals(V1)).toBe(true);

    // Restoring the same snapshot again writes nothing at all.
    emu.resetStats();
    const again = await restore({ repo: t.repo, snapshot, sink });
    expect(again.progress.snapshot().counts).toEqual({ 'in-place': rangeCountOf(V1.length) });
    expect(emu.stats().writeRequests).toBe(0);
  });
});

describe('restore bodies on the wire', () => {
  let proxy: RecordingProxy;
  beforeAll(async () => {
    proxy = await startRecordingProxy(emu.url);
    cleanup.add(() => proxy.close());
  });

  it('sends each stored gzip stream as is (Content-Encoding: gzip) and raw-stored ranges raw', async () => {
    const viaProxy = apiClient(cleanup, emu, undefined, proxy.url);
    const snapshot = t.repo.resolveSnapshot(snap2);
    const created = await viaProxy.createDrive({ name: 'wire', size: snapshot.size });
    emu.resetStats();
    proxy.requests.length = 0;
    const sink = driveSink({ api: viaProxy, uuid: created.uuid, size: created.size, description: 'eh:wire', startsZeroed: true });
    const r = await restore({ repo: t.repo, snapshot, sink });

    const writes = proxy.requests.filter((q) => q.method === 'POST' && q.path.includes('/write/'));
    const nonZero = nonZeroRanges(V2);
    expect(writes.length).toBe(nonZero.length);
    expect(emu.stats().writeRequests).toBe(nonZero.length);
    const table = t.repo.index.snapshotTable(snap2)!;
    let gzipBodies = 0;
    for (const w of writes) {
      const offset = Number(w.path.slice(w.path.lastIndexOf('/') + 1));
      const i = offset / RANGE;
      expect(nonZero).toContain(i);
      const id = table.subarray(i * 32, i * 32 + 32);
      const stored = await t.repo.openChunk(id);
      if (stored.encoding === 'gzip') {
        gzipBodies++;
        expect(w.contentEncoding).toBe('gzip');
        // Byte for byte the stream the repository holds: not recompressed on the way.
        expect(w.bodySha256).toBe(sha256(stored.payload));
        expect(w.bodyLength).toBeLessThan(rangeOf(V2, i).length);
      } else {
        expect(w.contentEncoding).toBeUndefined();
        expect(w.bodySha256).toBe(sha256(rangeOf(V2, i)));
      }
    }
    // V2's text ranges (0, 5, 7) are stored, and so sent, as gzip; its random ones (1, 4, 6) raw.
    expect(gzipBodies).toBe(3);
    expect(writes.length - gzipBodies).toBe(3);
    const wire = writes.reduce((sum, w) => sum + w.bodyLength, 0);
    expect(r.progress.snapshot().bytesWritten).toBe(wire);
    // The emulator counts decoded drive bytes: more than crossed the wire.
    expect(emu.stats().writeBytes).toBe(nonZero.reduce((sum, i) => sum + rangeOf(V2, i).length, 0));
    expect(wire).toBeLessThan(emu.stats().writeBytes);
    expect((await readWholeDrive(c, created.uuid)).equals(V2)).toBe(true);
  });
});
