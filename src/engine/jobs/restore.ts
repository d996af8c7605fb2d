/**
 * Restore: a snapshot onto a sink. On a sink that starts zeroed (a drive or file this job created) zero
 * ranges are skipped; on an existing one each target range is read and hashed first and only ranges that
 * differ are written (desync's in-place extract). API sinks get the stored gzip stream as is.
 */
import pLimit, { type LimitFunction } from 'p-limit';
import { chunkId, openChunkPayload } from '../../repo/format/index.js';
import type { SnapshotRow } from '../../repo/index-db.js';
import type { AuthenticSnapshot, Repository } from '../../repo/repository.js';
import { DrivesnapError, ExitCode } from '../../errors.js';
import { CheckpointWriter, type JobRecord, resumeJob } from '../checkpoint.js';
import { gunzipBody, isAllZero, zeroBuffer } from '../codec.js';
import type { BlockSink, RangeBody } from '../ends/types.js';
import { RangesFailedError, assertAllRangesAccounted } from '../errors.js';
import { SlotBuffers, cpuSlots, runRanges } from '../pipeline.js';
import { Progress } from '../progress.js';
import { rangeCount, ranges } from '../ranges.js';
import { isFatalError } from './backup.js';
import { verifyTarget } from './verify.js';

export interface RestoreOptions {
  repo: Repository;
  /** Which snapshot; its table and size are always the authenticated manifest's, never the index's. */
  snapshot: SnapshotRow | AuthenticSnapshot;
  sink: BlockSink;
  concurrency?: number;
  /** Read the target back afterwards and compare every range with the manifest. */
  verify?: boolean;
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
}

export interface RestoreResult {
  progress: Progress;
  verified?: { ranges: number };
}

export const ZERO_ID = Buffer.alloc(32);

export function restoreJobKey(snapshotId: string, target: string): string {
  return `restore:${snapshotId}:${target}`;
}

/** The job record of restoring `snapshot` onto the target described as `target`. */
export function restoreJob(snapshot: { id: string; size: number }, target: string): JobRecord {
  return { key: restoreJobKey(snapshot.id, target), info: { snapshot: snapshot.id, size: snapshot.size } };
}

export async function restore(o: RestoreOptions): Promise<RestoreResult> {
  const { repo, sink } = o;
  const chunkSize = repo.config.chunkSize;
  const lock = await repo.lock(false);
  try {
    const authentic = 'table' in o.snapshot ? o.snapshot : await repo.authenticSnapshot(o.snapshot.id);
    const { table } = authentic;
    const snapshot = { id: authentic.id, size: authentic.meta.size };
    const n = rangeCount(snapshot.size, chunkSize);
    if (sink.size < snapshot.size) {
      throw new DrivesnapError(
        'TARGET_TOO_SMALL',
        `${sink.description} holds ${sink.size} bytes but the snapshot needs ${snapshot.size}: resize it or restore with --to-new`,
        ExitCode.failure,
      );
    }
    await assertChunksPresent(repo, table, n);

    const { key, info } = restoreJob(snapshot, sink.description);
    const done = resumeJob(repo.index, key, info);
    const progress = new Progress('restore', snapshot.size, n);
    if (o.onProgress) progress.onUpdate(o.onProgress);
    for (const i of done.keys()) progress.range('resumed', Math.min(chunkSize, snapshot.size - i * chunkSize));
    const checkpoints = new CheckpointWriter(repo.index, key);
    const buffers = new SlotBuffers(chunkSize);
    const cpu = pLimit(cpuSlots());

    const failures = await runRanges(
      ranges(snapshot.size, chunkSize, (i) => done.has(i)),
      async (r, slot) => {
        const id = table.subarray(r.index * 32, r.index * 32 + 32);
        const isZero = id.equals(ZERO_ID);
        if (isZero && sink.startsZeroed) {
          progress.range('zero-skipped', r.length);
          checkpoints.record(r.index, null);
          return;
        }
        if (!sink.startsZeroed) {
          const current = await sink.read(r.offset, r.length, buffers.get(slot, r.length));
          progress.io({ read: r.length });
          const same = isZero ? isAllZero(current) : !isAllZero(current) && (await chunkId(current, repo.ctx)).equals(id);
          if (same) {
            progress.range('in-place', r.length);
            checkpoints.record(r.index, null);
            return;
          }
        }
        const body: RangeBody = isZero ? { encoding: 'raw', data: zeroBuffer(r.length) } : await loadRange(repo, id, r.length, sink, cpu);
        const written = await sink.write(r.offset, body);
        progress.range('written', r.length, { written });
        checkpoints.record(r.index, null);
      },
      { concurrency: o.concurrency ?? 8, signal: o.signal, isFatal: isFatalError },
    );
    checkpoints.flush();
    if (failures.length > 0) throw new RangesFailedError(`restore onto ${sink.description}`, failures, chunkSize, true);
    if (o.signal?.aborted) throw o.signal.reason ?? new DrivesnapError('INTERRUPTED', 'restore interrupted', ExitCode.interrupted);
    assertAllRangesAccounted(`restore onto ${sink.description}`, progress.snapshot().rangesDone, n);
    await sink.flush();
    repo.index.endJob(key);
    const result: RestoreResult = { progress };
    if (o.verify) {
      const verifiedRanges = await verifyTarget({
        sink,
        size: snapshot.size,
        chunkSize,
        concurrency: o.concurrency ?? 8,
        expected: (i, data) => {
          const id = table.subarray(i * 32, i * 32 + 32);
          if (id.equals(ZERO_ID)) return isAllZero(data);
          return chunkId(data, repo.ctx).then((h) => h.equals(id));
        },
      });
      result.verified = { ranges: verifiedRanges };
    }
    return result;
  } finally {
    await lock.release();
  }
}

/**
 * Fetches one chunk for a range. openChunkPayload authenticates the stored bytes under the chunk's name (the
 * GCM tag, or the plain envelope's SHA-256 check), so a damaged or swapped object never reaches a target.
 * An API sink gets the stored gzip stream as is: the server inflates it and checks its CRC, and --verify
 * compares the result with the manifest. A file sink gets the inflated range, checked against its id.
 */
async function loadRange(repo: Repository, id: Buffer, length: number, sink: BlockSink, cpu: LimitFunction): Promise<RangeBody> {
  const object = await repo.getChunkObject(id);
  const { encoding, payload } = await cpu(() => openChunkPayload(object, id, repo.ctx));
  if (sink.prefers === 'gzip' && encoding === 'gzip') return { encoding: 'gzip', data: payload, rawLength: length };
  const plain = encoding === 'gzip' ? await cpu(() => gunzipBody(payload, length)) : payload;
  if (plain.length !== length || !(await chunkId(plain, repo.ctx)).equals(id)) {
    throw new DrivesnapError('CHUNK_CORRUPT', `chunk ${id.toString('hex')} does not match its id: run \`drivesnap check --read-data\``);
  }
  return { encoding: 'raw', data: plain, incompressible: encoding === 'raw' };
}

/** Refuses, before writing anything, a snapshot whose chunks are not all in the store (asked of the store, not the index). */
async function assertChunksPresent(repo: Repository, table: Buffer, n: number): Promise<void> {
  const wanted: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = table.subarray(i * 32, i * 32 + 32);
    if (!id.equals(ZERO_ID)) wanted.push(id.toString('hex'));
  }
  const missing = await repo.missingChunks(wanted);
  if (missing.length > 0) {
    throw new DrivesnapError(
      'SNAPSHOT_INCOMPLETE',
      `the snapshot references ${missing.length} chunk(s) missing from the repository (first: ${missing[0]}); nothing was written. Run \`drivesnap check\``,
      ExitCode.failure,
    );
  }
}
