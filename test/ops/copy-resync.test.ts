/**
 * Issue 11 §2, a repeated copy between the same two API drives, on the emulator's counters (bytes read and
 * written through the API): the second copy reads and writes only what changed when the source's content
 * is known, reads the source once when it is not, never trusts a target written in between, and
 * --compare-all (compareAll) still reads both drives in full. Ranges of 64 KiB so that a 32 MiB drive has
 * the 512 ranges of a 2 GiB drive at 4 MiB, and the sample is the size it would be there.
 */
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import type { DriveInfo, IoCounters } from '../../src/api/drive-info.js';
import type { Emulator } from '../../src/emulator/index.js';
import { driveSink, driveSource } from '../../src/engine/ends/drive.js';
import { isAllZero } from '../../src/engine/codec.js';
import { copy, copyJob } from '../../src/engine/jobs/copy.js';
import { type SourceBaseline, driveStateOf, sampleRanges } from '../../src/ops/change-detection.js';
import { type DriveCopyOutcome, copyBetweenDrives } from '../../src/ops/copy-resync.js';
import { COPY_TABLE_FORM, loadCopyRecord } from '../../src/ops/copy-record-store.js';
import { ZERO_ID } from '../../src/repo/format/index.js';
import { RepoIndex } from '../../src/repo/index-db.js';
import { Cleanup, apiClient, createDriveWith, emulator, readWholeDrive } from '../helpers/engine-fixtures.js';

const CHUNK = 64 * 1024;
const RANGES = 512;
const SIZE = CHUNK * RANGES;
/** first + last + clamp(ceil(0.5% of 512), 2, 16) = 5 ranges per sampled drive. */
const SAMPLE = 5;

const cleanup = new Cleanup();
let emu: Emulator;
let c: ApiClient;
let jobs: RepoIndex;

beforeAll(async () => {
  emu = await emulator(cleanup);
  c = apiClient(cleanup, emu);
  const dir = await cleanup.tempDir();
  jobs = RepoIndex.open(join(dir, 'jobs.sqlite'));
  cleanup.add(() => jobs.close());
});
afterAll(() => cleanup.run());

const sha256 = async (data: Buffer) => createHash('sha256').update(data).digest();

const ZERO_RANGES = 40;

/** Random content with a run of zero ranges (zero ranges are ZERO_ID in the table, as in a backup's). */
function image(): Buffer {
  const data = randomBytes(SIZE);
  data.fill(0, 100 * CHUNK, (100 + ZERO_RANGES) * CHUNK);
  return data;
}

function tableOf(data: Buffer): Buffer {
  const ids: Buffer[] = [];
  for (let at = 0; at < data.length; at += CHUNK) {
    const r = data.subarray(at, at + CHUNK);
    ids.push(isAllZero(r) ? ZERO_ID : createHash('sha256').update(r).digest());
  }
  return Buffer.concat(ids);
}

async function counters(uuid: string): Promise<IoCounters> {
  return (await c.driveInfo(uuid)).ioCounters!;
}

/** Bytes read from both drives and written to the target while `fn` runs, from the emulator's counters. */
async function measured<T>(src: string, dst: string, fn: () => Promise<T>): Promise<{ value: T; srcRead: number; dstRead: number; dstWritten: number; srcWritten: number }> {
  const [s0, d0] = [await counters(src), await counters(dst)];
  const value = await fn();
  const [s1, d1] = [await counters(src), await counters(dst)];
  return {
    value,
    srcRead: s1.readBytes - s0.readBytes,
    dstRead: d1.readBytes - d0.readBytes,
    dstWritten: d1.writeBytes - d0.writeBytes,
    srcWritten: s1.writeBytes - s0.writeBytes,
  };
}

interface CopyDrivesOptions {
  compareAll?: boolean;
  created?: boolean;
  baselines?: SourceBaseline[];
  seed?: number;
  /** Told of every range hashed (the copy's and the samples'). */
  onHash?: (data: Buffer) => void;
  /** The target's drive info as the copy sees it (a provider that reports no counters). */
  targetInfo?: (info: DriveInfo) => DriveInfo;
  /** Runs before each read of the source at `offset` (a write into the source while it is copied). */
  beforeSourceRead?: (offset: number) => Promise<void>;
}

function copyDrives(src: string, dst: string, o: CopyDrivesOptions = {}): Promise<DriveCopyOutcome> {
  const plain = driveSource({ api: c, uuid: src, size: SIZE, description: 'eh:src' });
  const hook = o.beforeSourceRead;
  const source: typeof plain = hook
    ? {
        ...plain,
        read: async (offset, length, into) => {
          await hook(offset);
          return plain.read(offset, length, into);
        },
      }
    : plain;
  const sink = driveSink({ api: c, uuid: dst, size: SIZE, description: `eh:${dst}`, startsZeroed: o.created ?? false, compressLevel: 0 });
  const baselines = o.baselines;
  const targetInfo = o.targetInfo;
  const targetApi = targetInfo ? { url: c.url, driveInfo: async (uuid: string) => targetInfo(await c.driveInfo(uuid)) } : c;
  return copyBetweenDrives(
    {
      records: jobs,
      source: { api: c, uuid: src, reader: source },
      target: { api: targetApi, uuid: dst, reader: sink },
      chunkSize: CHUNK,
      created: o.created ?? false,
      compareAll: o.compareAll ?? false,
      hash: (data) => {
        o.onHash?.(data);
        return sha256(data);
      },
      form: COPY_TABLE_FORM,
      baselines: baselines ? async () => baselines : undefined,
      seed: o.seed,
    },
    (d) => copy({ source, sink, jobs, chunkSize: CHUNK, concurrency: 4, ...d }),
  );
}

/** A source and a target that a first copy (onto a new drive) made equal, with its record kept. */
async function pair(name: string): Promise<{ src: string; dst: string; data: Buffer }> {
  const data = image();
  const src = await createDriveWith(c, `${name}-src`, data);
  const dst = (await c.createDrive({ name: `${name}-dst`, size: SIZE })).uuid;
  const first = await copyDrives(src, dst, { created: true });
  expect(first.plan.kind).toBe('new-target');
  expect(first.recorded).toBe(true);
  // No snapshot of the source: every range read is hashed once, all-zero ones excepted (ZERO_ID).
  expect(first.rangeIds).toBe('hashed');
  expect(first.result.hashedBytes).toBe((RANGES - ZERO_RANGES) * CHUNK);
  expect((await readWholeDrive(c, dst)).equals(data)).toBe(true);
  return { src, dst, data };
}

/** Writes fresh bytes at the start of `ranges` of the source through the API, and into `data` alike. */
async function change(uuid: string, data: Buffer, ranges: number[]): Promise<void> {
  for (const i of ranges) {
    const piece = randomBytes(4096);
    piece.copy(data, i * CHUNK);
    await c.writeDrive(uuid, i * CHUNK, piece, { encoding: 'raw' });
  }
}

const fivePercent = Array.from({ length: 25 }, (_, k) => 7 + k * 20); // 25 of 512 ranges, spread out

describe('a second copy between the same two drives', () => {
  it('after 5% of the source changed, with a snapshot of the source as baseline, reads + writes <= 12% of the drive', async () => {
    const { src, dst, data } = await pair('five');
    await change(src, data, fivePercent);
    // What a backup of the changed source would hold: its table and its state as read before its first range.
    const baseline: SourceBaseline = { recorded: { ...driveStateOf(await c.driveInfo(src)), readAt: new Date().toISOString() }, table: tableOf(data) };
    const m = await measured(src, dst, () => copyDrives(src, dst, { baselines: [baseline] }));
    expect(m.value.plan).toMatchObject({ kind: 'copy-ranges', baseline: 'snapshot', sampled: 2 * SAMPLE });
    expect((m.value.plan as { ranges: number[] }).ranges).toEqual(fivePercent);
    expect(m.srcWritten).toBe(0);
    expect(m.dstWritten).toBe(fivePercent.length * CHUNK);
    expect(m.srcRead).toBe((fivePercent.length + SAMPLE) * CHUNK);
    expect(m.dstRead).toBe(SAMPLE * CHUNK);
    expect((m.srcRead + m.dstRead + m.dstWritten) / SIZE).toBeLessThanOrEqual(0.12);
    expect((await readWholeDrive(c, dst)).equals(data)).toBe(true);
    // The record now holds the new content: a third copy has nothing to do.
    expect(loadCopyRecord(jobs, { endpoint: c.url, uuid: src }, { endpoint: c.url, uuid: dst }, { chunkSize: CHUNK, form: COPY_TABLE_FORM })?.table.equals(tableOf(data))).toBe(true);
    const third = await measured(src, dst, () => copyDrives(src, dst));
    expect(third.value.plan).toMatchObject({ kind: 'copy-ranges', ranges: [] });
    expect(third.dstWritten).toBe(0);
  });

  it('with nothing changed reads only the samples and writes nothing', async () => {
    const { src, dst, data } = await pair('same');
    const m = await measured(src, dst, () => copyDrives(src, dst));
    expect(m.value.plan).toMatchObject({ kind: 'copy-ranges', ranges: [], baseline: 'copy', sampled: 2 * SAMPLE });
    expect(m.value.sampledBytes).toBe(2 * SAMPLE * CHUNK);
    expect(m.srcRead).toBe(SAMPLE * CHUNK);
    expect(m.dstRead).toBe(SAMPLE * CHUNK);
    expect(m.dstWritten).toBe(0);
    expect(m.value.result.progress.snapshot().counts).toEqual({ 'in-place': RANGES });
    expect((await readWholeDrive(c, dst)).equals(data)).toBe(true);
  });

  it('when the source changed and no baseline knows it, reads the source once and only the sample of the target', async () => {
    const { src, dst, data } = await pair('readsrc');
    await change(src, data, fivePercent);
    const m = await measured(src, dst, () => copyDrives(src, dst));
    expect(m.value.plan).toMatchObject({ kind: 'read-source', sampled: SAMPLE });
    expect(m.srcRead).toBe(SIZE);
    expect(m.dstRead).toBe(SAMPLE * CHUNK);
    expect(m.dstWritten).toBe(fivePercent.length * CHUNK);
    expect((await readWholeDrive(c, dst)).equals(data)).toBe(true);
  });

  it('when the target was written through the API in between, compares in full and puts the source back', async () => {
    const { src, dst, data } = await pair('apiwrite');
    await c.writeDrive(dst, 3 * CHUNK, Buffer.alloc(512, 9), { encoding: 'raw' });
    const m = await measured(src, dst, () => copyDrives(src, dst));
    expect(m.value.plan).toEqual({ kind: 'full-compare', reason: 'target-written' });
    expect(m.srcRead).toBe(SIZE);
    expect(m.dstRead).toBe(SIZE);
    expect(m.dstWritten).toBe(CHUNK);
    expect((await readWholeDrive(c, dst)).equals(data)).toBe(true);
  });

  it("when a running server wrote into the target in between, compares in full and puts the source back", async () => {
    const { src, dst, data } = await pair('guestwrite');
    const s = await c.createServer({ name: 'guest', cpu: 1000, mem: 512, 'ide:0:0': dst });
    await emu.simulateServerWrite(dst, 300 * CHUNK + 100, Buffer.alloc(512, 9));
    await c.stopServer(s.uuid);
    await c.waitForServerState(s.uuid, 'destroyed', { intervalMs: 20 });
    const m = await measured(src, dst, () => copyDrives(src, dst));
    expect(m.value.plan).toEqual({ kind: 'full-compare', reason: 'target-written' });
    expect(m.dstRead).toBe(SIZE);
    expect(m.dstWritten).toBe(CHUNK);
    expect((await readWholeDrive(c, dst)).equals(data)).toBe(true);
  });

  it('compareAll reads both drives in full even when nothing changed', async () => {
    const { src, dst } = await pair('forced');
    const m = await measured(src, dst, () => copyDrives(src, dst, { compareAll: true }));
    expect(m.value.plan).toEqual({ kind: 'full-compare', reason: 'compare-all' });
    expect(m.srcRead).toBe(SIZE);
    expect(m.dstRead).toBe(SIZE);
    expect(m.dstWritten).toBe(0);
    // It still leaves a record: the next copy is short again.
    expect((await copyDrives(src, dst)).plan.kind).toBe('copy-ranges');
  });

  it('a copy that resumes an earlier, interrupted run keeps no record: the next one compares in full', async () => {
    const { src, dst, data } = await pair('resumed');
    // The earlier run finished range 0 (its content unhashed), then stopped.
    const job = copyJob({ description: 'eh:src', size: SIZE }, `eh:${dst}`, CHUNK);
    jobs.beginJob(job.key, job.info);
    jobs.checkpoint(job.key, [{ range: 0, id: null }]);
    const resumed = await copyDrives(src, dst);
    expect(resumed.result.progress.snapshot().counts.resumed).toBe(1);
    expect(resumed.recorded).toBe(false);
    const next = await copyDrives(src, dst);
    expect(next.plan).toEqual({ kind: 'full-compare', reason: 'no-record' });
    expect(next.recorded).toBe(true);
    expect((await readWholeDrive(c, dst)).equals(data)).toBe(true);
  });
});

describe('the ids a copy keeps for the next one', () => {
  /** A snapshot of the drive as it is now: its recorded state and the table of `data`. */
  async function snapshotOf(uuid: string, data: Buffer): Promise<SourceBaseline> {
    return { recorded: { ...driveStateOf(await c.driveInfo(uuid)), readAt: new Date().toISOString() }, table: tableOf(data) };
  }

  it('onto a new drive, with a snapshot the source still matches, hashes only the sample and keeps a record that serves', async () => {
    const data = image();
    const src = await createDriveWith(c, 'snap-src', data);
    const dst = (await c.createDrive({ name: 'snap-dst', size: SIZE })).uuid;
    const seed = 7;
    let hashed = 0;
    const first = await copyDrives(src, dst, { created: true, baselines: [await snapshotOf(src, data)], seed, onHash: (d) => (hashed += d.length) });
    const nonZeroSampled = sampleRanges(RANGES, seed).filter((i) => i < 100 || i >= 100 + ZERO_RANGES);
    expect(nonZeroSampled.length).toBeGreaterThan(0);
    expect(first.result.hashedBytes).toBe(nonZeroSampled.length * CHUNK);
    expect(hashed).toBe(nonZeroSampled.length * CHUNK);
    expect(first.rangeIds).toBe('snapshot');
    expect(first.recorded).toBe(true);
    expect((await readWholeDrive(c, dst)).equals(data)).toBe(true);
    const record = loadCopyRecord(jobs, { endpoint: c.url, uuid: src }, { endpoint: c.url, uuid: dst }, { chunkSize: CHUNK, form: COPY_TABLE_FORM });
    expect(record?.table.equals(tableOf(data))).toBe(true);
    const second = await measured(src, dst, () => copyDrives(src, dst));
    expect(second.value.plan).toMatchObject({ kind: 'copy-ranges', ranges: [] });
    expect(second.dstWritten).toBe(0);
  });

  it('a snapshot whose ids the sample contradicts leaves no record, and the copy is whole', async () => {
    const data = image();
    const src = await createDriveWith(c, 'wrong-src', data);
    const dst = (await c.createDrive({ name: 'wrong-dst', size: SIZE })).uuid;
    // The recorded state matches the drive, the table is another drive's: counters that lie.
    const lying = { ...(await snapshotOf(src, data)), table: tableOf(image()) };
    const first = await copyDrives(src, dst, { created: true, baselines: [lying] });
    expect(first.rangeIds).toBe('none');
    expect(first.recorded).toBe(false);
    expect(first.result.table).toBeUndefined();
    expect((await readWholeDrive(c, dst)).equals(data)).toBe(true);
    expect((await copyDrives(src, dst)).plan).toEqual({ kind: 'full-compare', reason: 'no-record' });
  });

  it('a snapshot that calls a range of data all zeros leaves no record, even where the sample does not look', async () => {
    const data = image();
    const src = await createDriveWith(c, 'zeroclaim-src', data);
    const dst = (await c.createDrive({ name: 'zeroclaim-dst', size: SIZE })).uuid;
    const seed = 7;
    expect(sampleRanges(RANGES, seed)).not.toContain(300);
    const snapshot = await snapshotOf(src, data);
    ZERO_ID.copy(snapshot.table, 300 * ZERO_ID.length);
    const first = await copyDrives(src, dst, { created: true, baselines: [snapshot], seed });
    expect(first.result.table).toBeUndefined();
    expect(first.recorded).toBe(false);
    expect((await readWholeDrive(c, dst)).equals(data)).toBe(true);
  });

  it('a source written while it is read keeps no record from its snapshot', async () => {
    const data = image();
    const src = await createDriveWith(c, 'moving-src', data);
    const dst = (await c.createDrive({ name: 'moving-dst', size: SIZE })).uuid;
    const snapshot = await snapshotOf(src, data);
    const seed = 7;
    expect(sampleRanges(RANGES, seed)).not.toContain(300);
    let written = false;
    const beforeSourceRead = async (offset: number) => {
      if (offset !== 300 * CHUNK || written) return;
      written = true;
      await c.writeDrive(src, 300 * CHUNK, Buffer.alloc(512, 9), { encoding: 'raw' });
    };
    const first = await copyDrives(src, dst, { created: true, baselines: [snapshot], seed, beforeSourceRead });
    expect(written).toBe(true);
    expect(first.result.table).toBeDefined(); // the sample missed it: only the counters tell
    expect(first.rangeIds).toBe('none');
    expect(first.recorded).toBe(false);
    expect((await copyDrives(src, dst)).plan).toEqual({ kind: 'full-compare', reason: 'no-record' });
  });

  it('onto a target that reports no counters hashes nothing and keeps no record', async () => {
    const { src, dst } = await pair('nocounters');
    const withoutCounters = (info: DriveInfo): DriveInfo => {
      const { ioCounters: _dropped, ...rest } = info;
      return rest as DriveInfo;
    };
    let hashed = 0;
    const m = await measured(src, dst, () => copyDrives(src, dst, { targetInfo: withoutCounters, onHash: (d) => (hashed += d.length) }));
    expect(m.value.plan).toEqual({ kind: 'full-compare', reason: 'target-counters-missing' });
    expect(hashed).toBe(0);
    expect(m.value.result.hashedBytes).toBe(0);
    expect(m.value.rangeIds).toBe('none');
    expect(m.value.recorded).toBe(false);
    expect(m.dstWritten).toBe(0);
  });
});
