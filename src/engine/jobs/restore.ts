/**
 * Restore: a snapshot onto a sink. On a sink that starts zeroed (a drive or file this job created) zero
 * ranges are skipped; on an existing one each target range is read and hashed first and only ranges that
 * differ are written (desync's in-place extract); on a drive proven to hold another snapshot's content (a
 * rollback, src/ops/rollback.ts) only the ranges where the two manifests differ are written and none is
 * read. API sinks get the stored gzip stream as is.
 */
import pLimit, { type LimitFunction } from 'p-limit';
import { DrivesnapError } from '../../errors.js';
import { maxChunkObjectBytes, ZERO_ID, tableEntry, zeroBuffer } from '../../repo/format/index.js';
import type { SnapshotRow } from '../../repo/index-db.js';
import type { AuthenticSnapshot, JobRepository } from '../../repo/interfaces.js';
import type { JobRecord } from '../checkpoint.js';
import { gunzipBodyInto, isAllZero } from '../codec.js';
import type { BlockSink, RangeBody } from '../ends/types.js';
import { type JobControls, inOrderSinkOf, jobControls, jobLock, runJob, type TargetJobResult } from '../job-runner.js';
import { cpuSlots, SlotBuffers } from '../pipeline.js';
import { rangeCount } from '../ranges.js';

export interface RestoreOptions extends JobControls {
  repo: JobRepository;
  /** Which snapshot; its table and size are always the authenticated manifest's, never the index's. */
  snapshot: SnapshotRow | AuthenticSnapshot;
  sink: BlockSink;
  /** Read the target back afterwards and compare every range with the manifest. */
  verify?: boolean;
  /**
   * The target is proven to hold the snapshot's content except in these ranges (a rollback): they are
   * written without reading the target, and no other range is read or written.
   */
  differingRanges?: ReadonlySet<number>;
  /** Bytes read from the target before the job to plan it (a rollback's sample check): counted as read. */
  plannedRead?: number;
}

export type RestoreResult = TargetJobResult;

export function restoreJobKey(snapshotId: string, target: string): string {
  return `restore:${snapshotId}:${target}`;
}

/** The job record of restoring `snapshot` onto the target described as `target`. */
export function restoreJob(snapshot: { id: string; size: number }, target: string): JobRecord {
  return { key: restoreJobKey(snapshot.id, target), info: { snapshot: snapshot.id, size: snapshot.size } };
}

export async function restore(o: RestoreOptions): Promise<RestoreResult> {
  const { repo, sink } = o;
  const chunkSize = repo.chunkSize;
  const lock = await jobLock(repo, o.signal, `restore onto ${sink.description}`);
  try {
    const authentic = 'table' in o.snapshot ? o.snapshot : await repo.authenticSnapshot(o.snapshot.id);
    const { table } = authentic;
    const snapshot = { id: authentic.id, size: authentic.meta.size };
    if (sink.size < snapshot.size) {
      throw new DrivesnapError(
        'TARGET_TOO_SMALL',
        `${sink.description} holds ${sink.size} bytes but the snapshot needs ${snapshot.size}: resize it or restore with --to-new`,
      );
    }
    await assertChunksPresent(repo, table, rangeCount(snapshot.size, chunkSize));
    const cpu = pLimit(cpuSlots());
    // Each worker reads and opens its chunk objects in one buffer it keeps (an object may be a little larger than a range).
    const objectBytes = maxChunkObjectBytes(chunkSize);
    const objects = new SlotBuffers(objectBytes);
    const { progress, verified } = await runJob(
      {
        kind: 'restore',
        label: `restore onto ${sink.description}`,
        size: snapshot.size,
        chunkSize,
        records: sink.once ? undefined : repo.jobs,
        ...inOrderSinkOf(sink),
        record: restoreJob(snapshot, sink.description),
        ...jobControls(o),
      },
      {
        step: async (r, slot, run) => {
          const id = tableEntry(table, r.index);
          const isZero = id.equals(ZERO_ID);
          if (isZero && sink.startsZeroed) {
            run.done(r, 'zero-skipped');
            return;
          }
          const known = o.differingRanges;
          if (known && !known.has(r.index)) {
            run.done(r, 'in-place');
            return;
          }
          let read = 0;
          // A stream (stdout) holds nothing to compare with: every range is written.
          if (!sink.startsZeroed && !known && !sink.once) {
            const current = await sink.read(r.offset, r.length, run.buffer(slot, r.length));
            read = r.length;
            const same = isZero ? isAllZero(current) : !isAllZero(current) && (await repo.chunkId(current)).equals(id);
            if (same) {
              run.done(r, 'in-place', { read });
              return;
            }
          }
          const body: RangeBody = isZero ? { encoding: 'raw', data: zeroBuffer(r.length) } : await loadRange(repo, id, r.length, sink, cpu, run.buffer(slot, r.length), objects.get(slot, objectBytes));
          const written = await sink.write(r.offset, body);
          run.done(r, 'written', { read, written });
        },
        commit: () => sink.flush(),
        verify: o.verify
          ? {
              sink,
              expected: (i, data) => {
                const id = tableEntry(table, i);
                if (id.equals(ZERO_ID)) return isAllZero(data);
                return repo.chunkId(data).then((h) => h.equals(id));
              },
            }
          : undefined,
      },
    );
    if (o.plannedRead) progress.io({ read: o.plannedRead });
    return verified ? { progress, verified } : { progress };
  } finally {
    await lock.release();
  }
}

/**
 * Fetches one chunk for a range. openChunkPayload authenticates the stored bytes under the chunk's name (the
 * GCM tag, or the plain envelope's SHA-256 check), so a damaged or swapped object never reaches a target.
 * An API sink gets the stored gzip stream as is: the server inflates it and checks its CRC, and --verify
 * compares the result with the manifest. A file sink gets the inflated range, checked against its id,
 * inflated into `into`, the worker's reused range buffer (free here: what was read from the target is done with).
 * The object is read and opened in `objectInto`, the worker's reused object buffer: what an API sink gets is
 * a view of it, valid until the step ends (the write is awaited first).
 */
async function loadRange(
  repo: JobRepository,
  id: Buffer,
  length: number,
  sink: BlockSink,
  cpu: LimitFunction,
  into: Buffer,
  objectInto: Buffer,
): Promise<RangeBody> {
  const { encoding, payload } = await cpu(() => repo.openChunk(id, objectInto));
  if (sink.prefers === 'gzip' && encoding === 'gzip') return { encoding: 'gzip', data: payload, rawLength: length };
  // A raw object (incompressible data) sits in the object buffer behind its header: a sink writing past the
  // page cache gets it copied into the (aligned) range buffer; others take it where it is.
  const copyRaw = encoding === 'raw' && sink.directWrites && payload.length === length;
  const plain = encoding === 'gzip' ? await cpu(() => gunzipBodyInto(payload, length, into)) : copyRaw ? into.subarray(0, payload.copy(into)) : payload;
  if (plain.length !== length || !(await repo.chunkId(plain)).equals(id)) {
    throw new DrivesnapError('CHUNK_CORRUPT', `chunk ${id.toString('hex')} does not match its id: run \`drivesnap check --read-data\``);
  }
  return { encoding: 'raw', data: plain, incompressible: encoding === 'raw' };
}

/** Refuses, before writing anything, a snapshot whose chunks are not all in the store (asked of the store, not the index). */
async function assertChunksPresent(repo: JobRepository, table: Buffer, n: number): Promise<void> {
  const wanted: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = tableEntry(table, i);
    if (!id.equals(ZERO_ID)) wanted.push(id.toString('hex'));
  }
  const missing = await repo.missingChunks(wanted);
  if (missing.length > 0) {
    throw new DrivesnapError(
      'SNAPSHOT_INCOMPLETE',
      `the snapshot references ${missing.length} chunk(s) missing from the repository (first: ${missing[0]}); nothing was written. Run \`drivesnap check\``,
    );
  }
}
