/**
 * The fleet workload of the WAN section: N drive images cut from the start of the workload's base image
 * (as drives cloned from one template), each made distinct by one random 4 MiB block, and for the first
 * few a "changed" version with 5% of their blocks rewritten with random data. Built once and reused.
 */
import { randomFill } from 'node:crypto';
import { copyFile, mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeBlocks } from './random-image.js';

const BLOCK = 4 * 1024 * 1024;
const fill = (buf: Buffer): Promise<Buffer> =>
  new Promise((resolve, reject) => randomFill(buf, (err, b) => (err ? reject(err) : resolve(b))));

export interface Fleet {
  /** The images as the drives are at the full backup; the nightly's changes are applied in place. */
  drives: string[];
  /** For drive i < changed.length: its content after the day's writes. */
  changed: string[];
  /** For drive i < changed.length: a copy of its content at the full backup, to reset it. */
  originals: string[];
  sizeBytes: number;
  changedBlocks: number;
}

export async function buildFleet(dir: string, base: string, count: number, sizeBytes: number, changedCount: number, log: (l: string) => void): Promise<Fleet> {
  if (sizeBytes % BLOCK !== 0) throw new Error('--fleet-size-mib must be a multiple of 4');
  const blocks = sizeBytes / BLOCK;
  const changedBlocks = Math.max(1, Math.round(blocks * 0.05));
  const name = (i: number) => `drive-${String(i).padStart(2, '0')}.img`;
  const fleet: Fleet = {
    drives: Array.from({ length: count }, (_, i) => join(dir, 'drives', name(i))),
    changed: Array.from({ length: Math.min(changedCount, count) }, (_, i) => join(dir, 'changed', name(i))),
    originals: Array.from({ length: Math.min(changedCount, count) }, (_, i) => join(dir, 'originals', name(i))),
    sizeBytes,
    changedBlocks,
  };
  const params = JSON.stringify({ v: 1, base, count, sizeBytes, changedCount });
  if ((await readFile(join(dir, 'fleet.json'), 'utf8').catch(() => '')) === params) return fleet;
  log(`workload: building a fleet of ${count} drives of ${sizeBytes / 2 ** 20} MiB`);
  for (const sub of ['drives', 'changed', 'originals']) await mkdir(join(dir, sub), { recursive: true });
  await writeFile(join(dir, 'fleet.json'), '');
  const src = await open(base, 'r');
  try {
    const baseBlock = async (i: number, buf: Buffer): Promise<Buffer | undefined> => {
      const { bytesRead } = await src.read(buf, 0, buf.length, i * BLOCK);
      return bytesRead > 0 && buf.subarray(0, bytesRead).some((b) => b !== 0) ? buf : undefined;
    };
    for (let d = 0; d < count; d++) {
      const unique = (d * 7) % blocks;
      await writeBlocks(fleet.drives[d]!, sizeBytes, async (i, buf) => (i === unique ? fill(buf) : baseBlock(i, buf)));
      if (d >= fleet.changed.length) continue;
      await copyFile(fleet.drives[d]!, fleet.originals[d]!);
      // Blocks spread over the drive, different per drive; the unique block stays as it was.
      const picked = new Set(Array.from({ length: changedBlocks }, (_, k) => (unique + 1 + Math.floor(((k + d / count) * blocks) / changedBlocks)) % blocks));
      picked.delete(unique);
      await writeBlocks(fleet.changed[d]!, sizeBytes, async (i, buf) => (i === unique || !picked.has(i) ? (i === unique ? readBlock(fleet.drives[d]!, i, buf) : baseBlock(i, buf)) : fill(buf)));
    }
  } finally {
    await src.close();
  }
  await writeFile(join(dir, 'fleet.json'), params);
  return fleet;
}

async function readBlock(path: string, i: number, buf: Buffer): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    await fh.read(buf, 0, buf.length, i * BLOCK);
    return buf;
  } finally {
    await fh.close();
  }
}
