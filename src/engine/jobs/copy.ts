/**
 * Copy: any source onto any sink (drive to drive across accounts or providers, download, upload). Like a
 * restore without a repository: zero ranges skipped on a fresh target, and on an existing target only the
 * ranges whose bytes differ are written. Checkpoints live in an index (the caller's job database).
 */
import { DrivesnapError } from '../../errors.js';
import type { JobRecords } from '../../repo/interfaces.js';
import type { JobRecord } from '../checkpoint.js';
import { isAllZero } from '../codec.js';
import { DEFAULT_CHUNK_SIZE } from '../defaults.js';
import type { BlockSink, BlockSource } from '../ends/types.js';
import { type JobControls, jobControls, runJob, type TargetJobResult } from '../job-runner.js';

export interface CopyOptions extends JobControls {
  source: BlockSource;
  sink: BlockSink;
  /** Where checkpoints are kept, so an interrupted copy resumes; omit to run without. */
  jobs?: JobRecords;
  chunkSize?: number;
  verify?: boolean;
}

export type CopyResult = TargetJobResult;

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
    );
  }
  const { progress, verified } = await runJob(
    {
      kind: 'copy',
      label: `copy to ${sink.description}`,
      size: source.size,
      chunkSize,
      records: o.jobs,
      record: copyJob(source, sink.description, chunkSize),
      ...jobControls(o),
    },
    {
      step: async (r, slot, run) => {
        const data = await source.read(r.offset, r.length, run.buffer(slot, r.length, SOURCE));
        if (isAllZero(data) && sink.startsZeroed) {
          run.done(r, 'zero-skipped', { read: r.length });
        } else if (sink.startsZeroed) {
          const written = await sink.write(r.offset, { encoding: 'raw', data });
          run.done(r, 'written', { read: r.length, written });
        } else if ((await sink.read(r.offset, r.length, run.buffer(slot, r.length, TARGET))).equals(data)) {
          run.done(r, 'in-place', { read: 2 * r.length });
        } else {
          const written = await sink.write(r.offset, { encoding: 'raw', data });
          run.done(r, 'written', { read: 2 * r.length, written });
        }
      },
      commit: () => sink.flush(),
      verify: o.verify ? { sink, expected: async (i, data) => (await source.read(i * chunkSize, data.length)).equals(data) } : undefined,
    },
  );
  return verified ? { progress, verified } : { progress };
}

/** The two buffers of a copy's worker: what the source holds, and what the target holds now. */
const SOURCE = 0;
const TARGET = 1;
