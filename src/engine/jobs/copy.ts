/**
 * Copy: any source onto any sink (drive to drive across accounts or providers, download, upload). Like a
 * restore without a repository: zero ranges skipped on a fresh target, and on an existing target only the
 * ranges whose bytes differ are written. Checkpoints live in an index (the caller's job database).
 *
 * A resync (src/ops/copy-resync.ts) knows what the target holds (`targetTable`, the ids of an earlier copy
 * its counters prove untouched): then the target is not read, each source range read is hashed and written
 * only where its id differs, and with `only` just those source ranges are read at all.
 *
 * When the source's ids are known already (`sourceTable`, a snapshot of it whose recorded state it still
 * matches), a full copy hashes only the ranges in `check` and takes the other ids from that table: its
 * table then costs a sample instead of hashing every byte read (1.4 GB of SHA-256 is ~0.8 s of CPU).
 */
import { DrivesnapError } from '../../errors.js';
import { ID_BYTES, ZERO_ID } from '../../repo/format/index.js';
import type { JobRecords } from '../../repo/interfaces.js';
import type { JobRecord } from '../checkpoint.js';
import { isAllZero } from '../codec.js';
import { DEFAULT_CHUNK_SIZE } from '../defaults.js';
import type { BlockSink, BlockSource } from '../ends/types.js';
import { type JobControls, type JobRun, inOrderSinkOf, jobControls, runJob, type TargetJobResult } from '../job-runner.js';
import type { Range } from '../ranges.js';

export interface CopyOptions extends JobControls {
  source: BlockSource;
  sink: BlockSink;
  /** Where checkpoints are kept, so an interrupted copy resumes; omit to run without. */
  jobs?: JobRecords;
  chunkSize?: number;
  verify?: boolean;
  /**
   * The id of a range (as a backup's table has it; all-zero ranges are ZERO_ID without a call). Given, the
   * copy returns the table of what the target holds after it, for the next resync.
   */
  hash?: (data: Buffer) => Promise<Buffer>;
  /** What the target holds now (ids, needs `hash`): the target is not read, only differing ranges are written. */
  targetTable?: Buffer;
  /** With targetTable: the only ranges that may differ; the others are neither read nor written. */
  only?: ReadonlySet<number>;
  /**
   * What the source is believed to hold (ids, needs `hash`; not with targetTable): only the ranges in
   * `check` are hashed, the others' ids are taken from here. A checked range (or an all-zero one) whose id
   * differs leaves no table: the belief was wrong.
   */
  sourceTable?: Buffer;
  check?: ReadonlySet<number>;
}

export interface CopyResult extends TargetJobResult {
  /** The ids of what the target holds now; undefined without `hash`, or when an earlier run did some ranges. */
  table?: Buffer;
  /** Drive bytes written (before compression) and write calls made: what the target's write counters should move by. */
  wrote: { bytes: number; requests: number };
  /** Bytes given to `hash`. */
  hashedBytes: number;
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
    );
  }
  const { hash, targetTable, sourceTable } = o;
  if ((targetTable || sourceTable) && !hash) throw new TypeError('copy with a targetTable or sourceTable needs a hash');
  if (targetTable && sourceTable) throw new TypeError('copy takes a targetTable or a sourceTable, not both');
  const table = hash ? Buffer.alloc(Math.ceil(source.size / chunkSize) * ID_BYTES) : undefined;
  for (const given of [targetTable, sourceTable]) {
    if (given && given.length !== table!.length) throw new RangeError('the table given does not cover the source');
  }
  let resumedAny = false;
  let sourceTableWrong = false;
  const wrote = { bytes: 0, requests: 0 };
  let hashedBytes = 0;
  const hashed = (data: Buffer): Promise<Buffer> => {
    hashedBytes += data.length;
    return hash!(data);
  };
  const idOf = async (data: Buffer): Promise<Buffer | undefined> => (hash ? (isAllZero(data) ? ZERO_ID : hashed(data)) : undefined);
  /** compareStep's id of range `r`: from sourceTable where it is believed and not checked, else hashed (and checked). */
  const sourceIdOf = async (r: Range, data: Buffer, zero: boolean): Promise<Buffer | undefined> => {
    if (!hash) return undefined;
    if (!sourceTable) return zero ? ZERO_ID : hashed(data);
    const believed = sourceTable.subarray(r.index * ID_BYTES, (r.index + 1) * ID_BYTES);
    if (!zero && !o.check?.has(r.index)) {
      // Whether a range is all zeros is known without hashing: a table that says so of this one is wrong.
      if (believed.equals(ZERO_ID)) sourceTableWrong = true;
      return believed;
    }
    const id = zero ? ZERO_ID : await hashed(data);
    if (!id.equals(believed)) sourceTableWrong = true;
    return id;
  };
  const write = async (r: Range, data: Buffer): Promise<number> => {
    const sent = await sink.write(r.offset, { encoding: 'raw', data });
    wrote.bytes += data.length;
    wrote.requests++;
    return sent;
  };
  const record = (r: Range, id: Buffer | undefined) => id?.copy(table!, r.index * ID_BYTES);

  /** Today's copy: the target is read and compared wherever it may not read as zeros. */
  const compareStep = async (r: Range, slot: number, run: JobRun) => {
    const data = await source.read(r.offset, r.length, run.buffer(slot, r.length, SOURCE));
    const zero = isAllZero(data);
    // Hashed while the target is read; awaited last (a failed read must not leave its rejection unhandled).
    const id = sourceIdOf(r, data, zero);
    id.catch(() => undefined);
    if (zero && sink.startsZeroed) {
      run.done(r, 'zero-skipped', { read: r.length });
    } else if (sink.startsZeroed || sink.once) {
      // A stream (stdout) holds nothing to compare with: every range is written, zeros included.
      const written = await write(r, data);
      run.done(r, 'written', { read: r.length, written });
    } else if ((await sink.read(r.offset, r.length, run.buffer(slot, r.length, TARGET))).equals(data)) {
      run.done(r, 'in-place', { read: 2 * r.length });
    } else {
      const written = await write(r, data);
      run.done(r, 'written', { read: 2 * r.length, written });
    }
    record(r, await id);
  };

  /** The target's content is known: read (some of) the source, write where the ids differ. */
  const knownTargetStep = async (r: Range, slot: number, run: JobRun) => {
    const held = targetTable!.subarray(r.index * ID_BYTES, (r.index + 1) * ID_BYTES);
    if (o.only && !o.only.has(r.index)) {
      record(r, held);
      run.done(r, 'in-place');
      return;
    }
    const data = await source.read(r.offset, r.length, run.buffer(slot, r.length, SOURCE));
    const id = (await idOf(data))!;
    record(r, id);
    if (id.equals(held)) {
      run.done(r, 'in-place', { read: r.length });
    } else {
      const written = await write(r, data);
      run.done(r, 'written', { read: r.length, written });
    }
  };

  const { progress, verified } = await runJob(
    {
      kind: 'copy',
      label: `copy to ${sink.description}`,
      size: source.size,
      chunkSize,
      records: source.once || sink.once ? undefined : o.jobs,
      ...inOrderSinkOf(sink),
      record: copyJob(source, sink.description, chunkSize),
      ...jobControls(o),
    },
    {
      resumed: () => {
        resumedAny = true;
      },
      step: targetTable ? knownTargetStep : compareStep,
      commit: () => sink.flush(),
      verify: o.verify ? { sink, expected: async (i, data) => (await source.read(i * chunkSize, data.length)).equals(data) } : undefined,
    },
  );
  // Ranges an earlier run did were not hashed, and the source may have moved since: no table to vouch for.
  const result: CopyResult = { progress, wrote, hashedBytes };
  if (table && !resumedAny && !sourceTableWrong) result.table = table;
  if (verified) result.verified = verified;
  return result;
}

/** The two buffers of a copy's worker: what the source holds, and what the target holds now. */
const SOURCE = 0;
const TARGET = 1;
