/** Reads a target back range by range and checks each against what it should hold. */
import { DrivesnapError } from '../../errors.js';
import type { BlockSink } from '../ends/types.js';
import { SlotBuffers, runRanges } from '../pipeline.js';
import { assertAllRangesAccounted } from '../errors.js';
import { describeIndexes, rangeCount, ranges } from '../ranges.js';

export interface VerifyOptions {
  sink: Pick<BlockSink, 'read' | 'description'>;
  size: number;
  chunkSize: number;
  concurrency: number;
  expected: (index: number, data: Buffer) => boolean | Promise<boolean>;
}

export async function verifyTarget(o: VerifyOptions): Promise<number> {
  const mismatched: number[] = [];
  let checked = 0;
  const buffers = new SlotBuffers(o.chunkSize);
  const failures = await runRanges(
    ranges(o.size, o.chunkSize),
    async (r, slot) => {
      const data = await o.sink.read(r.offset, r.length, buffers.get(slot, r.length));
      if (!(await o.expected(r.index, data))) mismatched.push(r.index);
      checked++;
    },
    { concurrency: o.concurrency },
  );
  if (failures.length > 0) throw failures[0]!.error;
  assertAllRangesAccounted(`verification of ${o.sink.description}`, checked, rangeCount(o.size, o.chunkSize));
  if (mismatched.length > 0) {
    throw new DrivesnapError(
      'VERIFY_MISMATCH',
      `verification of ${o.sink.description} failed: ${mismatched.length} range(s) differ: ${describeIndexes(mismatched, o.chunkSize)}`,
    );
  }
  return checked;
}
