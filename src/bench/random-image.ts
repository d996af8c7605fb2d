/**
 * The incompressible workload: an image of random bytes (as already-compressed media, encrypted volumes
 * or compressed databases look to a backup tool). Built once and reused while its size matches.
 */
import { randomFill } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';

const BLOCK = 4 * 1024 * 1024;
const fill = (buf: Buffer): Promise<Buffer> =>
  new Promise((resolve, reject) => randomFill(buf, (err, b) => (err ? reject(err) : resolve(b))));

export async function buildRandomImage(dir: string, sizeBytes: number, log: (line: string) => void): Promise<string> {
  const path = join(dir, `random-${sizeBytes}.img`);
  const done = `${path}.done`;
  if ((await stat(done).catch(() => undefined)) && (await stat(path)).size === sizeBytes) return path;
  log(`workload: writing ${sizeBytes / 2 ** 20} MiB of random data`);
  await writeBlocks(path, sizeBytes, async (_, buf) => {
    await fill(buf);
    return buf;
  });
  await (await open(done, 'w')).close();
  return path;
}

/**
 * Writes an image of `sizeBytes` block by block; `block` returns the content of block i (in the buffer
 * it is given, or another) or undefined for a hole.
 */
export async function writeBlocks(path: string, sizeBytes: number, block: (i: number, buf: Buffer) => Promise<Buffer | undefined>): Promise<void> {
  const fh = await open(path, 'w');
  try {
    const buf = Buffer.alloc(BLOCK);
    for (let i = 0; i * BLOCK < sizeBytes; i++) {
      const len = Math.min(BLOCK, sizeBytes - i * BLOCK);
      const data = await block(i, buf.subarray(0, len));
      if (data) await fh.write(data, 0, len, i * BLOCK);
    }
    await fh.truncate(sizeBytes);
  } finally {
    await fh.close();
  }
}
