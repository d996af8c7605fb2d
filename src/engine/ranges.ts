/**
 * Range math for a drive-sized address space cut into fixed-size ranges (4 MiB by default).
 * Pure: the engine, the manifest and the diff all count ranges the same way through these functions.
 */
import { rangeCount } from '../repo/format/manifest.js';

export { DEFAULT_CHUNK_SIZE } from './defaults.js';
/** How many ranges cover `size` bytes: the format's definition (it refuses sizes that are not whole). */
export { rangeCount };

export interface Range {
  index: number;
  offset: number;
  length: number;
}

export function rangeAt(index: number, size: number, chunkSize: number): Range {
  const offset = index * chunkSize;
  return { index, offset, length: Math.min(chunkSize, size - offset) };
}

/** Every range of the space, except those `skip` says are done already. */
export function* ranges(size: number, chunkSize: number, skip?: (index: number) => boolean): Generator<Range> {
  const n = rangeCount(size, chunkSize);
  for (let i = 0; i < n; i++) if (!skip?.(i)) yield rangeAt(i, size, chunkSize);
}

/** Merges sorted range indexes into `[first, last]` runs, for messages about failed ranges. */
export function describeIndexes(indexes: number[], chunkSize: number): string {
  const sorted = [...indexes].sort((a, b) => a - b);
  const runs: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    const from = sorted[i]! * chunkSize;
    const to = (sorted[j]! + 1) * chunkSize;
    runs.push(i === j ? `#${sorted[i]} (offset ${from})` : `#${sorted[i]}-#${sorted[j]} (offsets ${from}-${to})`);
    i = j + 1;
  }
  return runs.join(', ');
}
