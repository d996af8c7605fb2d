/**
 * Copy: any source onto any sink (drive to drive across accounts or providers, download, upload). Like a
 * restore without a repository: zero ranges skipped on a fresh target, and on an existing target only the
 * ranges whose bytes differ are written. Checkpoints live in an index (the caller's job database).
 */
import { DrivesnapError, ExitCode } from '../../errors.js';
import type { RepoIndex } from '../../repo/index-db.js';
import { CheckpointWriter, type JobRecord, resumeJob } from '../checkpoint.js';
import { isAllZero } from '../codec.js';
import type { BlockSink, BlockSource } from '../ends/types.js';
import { RangesFailedError, assertAllRangesAccounted } from '../errors.js';
import { SlotBuffers, runRanges } from '../pipeline.js';
import { Progress } from '../progress.js';
import { DEFAULT_CHUNK_SIZE, rangeCount, ranges } from '../ranges.js';
import { isFatalError } from './backup.js';
import { verifyTarget } from './verify.js';

export interface CopyOptions {
  source: BlockSource;
  sink: BlockSink;
  /** Where checkpoints are kept, so an interrupted copy resumes; omit to run without. */
  jobs?: RepoIndex;
  chunkSize?: number;
  concurrency?: number;
  verify?: boolean;
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
}

export interface CopyResult {
  progress: Progress;
  verified?: { ranges: number };
}

export function copyJobKey(source: string, target: string): string {
  return `copy:${source}:${target}`;
}

/** The job record of copying `source` onto the target described as `target`. */
export function copyJob(source: Pick<BlockSource, 'description' | 'size'>, target: string, chunkSize = DEFAULT_CHUNK_SIZE): JobRecord {
  return { key: copyJobKey(source.description, target), info: { size: source.size, chunkSize } };
}

export async function copy(o: CopyOptions): Promise<CopyResult> {
  const { source, sink } = o;
  const chunkSize = o.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (sink.size < source.size) {
    throw new DrivesnapError(
      'TARGET_TOO_SMALL',
      `${sink.description} holds ${sink.size} bytes but ${source.description} has ${source.size}: resize the target or copy with --to-new`,
      ExitCode.failure,
    );
  }
  const n = rangeCount(source.size, chunkSize);
  const { key, info } = copyJob(source, sink.description, chunkSize);
  const done = o.jobs ? resumeJob(o.jobs, key, info) : new Map<number, Buffer | null>();
  const progress = new Progress('copy', source.size, n);
  if (o.onProgress) progress.onUpdate(o.onProgress);
  for (const i of done.keys()) progress.range('resumed', Math.min(chunkSize, source.size - i * chunkSize));
  const checkpoints = o.jobs ? new CheckpointWriter(o.jobs, key) : undefined;
  const sourceBuffers = new SlotBuffers(chunkSize);
  const targetBuffers = new SlotBuffers(chunkSize);

  const failures = await runRanges(
    ranges(source.size, chunkSize, (i) => done.has(i)),
    async (r, slot) => {
      const data = await source.read(r.offset, r.length, sourceBuffers.get(slot, r.length));
      progress.io({ read: r.length });
      const zero = isAllZero(data);
      if (zero && sink.startsZeroed) {
        progress.range('zero-skipped', r.length);
      } else if (!sink.startsZeroed && (await sink.read(r.offset, r.length, targetBuffers.get(slot, r.length))).equals(data)) {
        progress.io({ read: r.length });
        progress.range('in-place', r.length);
      } else {
        if (!sink.startsZeroed) progress.io({ read: r.length });
        const written = await sink.write(r.offset, { encoding: 'raw', data });
        progress.range('written', r.length, { written });
      }
      checkpoints?.record(r.index, null);
    },
    { concurrency: o.concurrency ?? 8, signal: o.signal, isFatal: isFatalError },
  );
  checkpoints?.flush();
  if (failures.length > 0) throw new RangesFailedError(`copy to ${sink.description}`, failures, chunkSize, Boolean(o.jobs));
  if (o.signal?.aborted) throw o.signal.reason ?? new DrivesnapError('INTERRUPTED', 'copy interrupted', ExitCode.interrupted);
  assertAllRangesAccounted(`copy to ${sink.description}`, progress.snapshot().rangesDone, n);
  await sink.flush();
  o.jobs?.endJob(key);
  const result: CopyResult = { progress };
  if (o.verify) {
    const verified = await verifyTarget({
      sink,
      size: source.size,
      chunkSize,
      concurrency: o.concurrency ?? 8,
      expected: async (i, data) => (await source.read(i * chunkSize, data.length)).equals(data),
    });
    result.verified = { ranges: verified };
  }
  return result;
}
