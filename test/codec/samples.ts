/** Data kinds the codec tests run on: what drives hold, and the edge sizes of a range. */
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { textData } from '../repo/format/fixtures.js';

export const MiB = 1024 * 1024;
export const SIZES = [0, 1, 4 * MiB, 4 * MiB + 3];

/** Already-compressed bytes (a gzip'd log), like media and archives on a drive: incompressible but not random. */
export function compressedData(bytes: number): Buffer {
  while (compressed.length < bytes) {
    compressed = Buffer.concat([compressed, gzipSync(textData(4 * MiB, compressed.length + 1), { level: 1 })]);
  }
  return Buffer.from(compressed.subarray(0, bytes));
}
let compressed = Buffer.alloc(0);

export const KINDS: [string, (bytes: number) => Buffer][] = [
  ['random', (n) => randomBytes(n)],
  ['zero', (n) => Buffer.alloc(n)],
  ['text-like', (n) => textData(n)],
  ['incompressible (gzip output)', compressedData],
];
