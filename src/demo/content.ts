/**
 * Realistic drive content for the demo and tests: all-zero regions, text and binaries taken from files on
 * this machine, and blocks repeated at other offsets, as a used disk holds them. Deterministic for a seed.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { seededRandom as prng } from '../util/prng.js';

const MiB = 1024 * 1024;


/** Up to `limit` bytes of real files under the given roots, in a stable order. */
async function collectFiles(roots: string[], limit: number, filter: (name: string) => boolean): Promise<Buffer> {
  const parts: Buffer[] = [];
  let total = 0;
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (total >= limit || depth > 6) return;
    let entries: string[];
    try {
      entries = (await readdir(dir)).sort();
    } catch {
      return;
    }
    for (const e of entries) {
      if (total >= limit) return;
      const p = join(dir, e);
      const st = await stat(p).catch(() => undefined);
      if (!st) continue;
      if (st.isDirectory()) await walk(p, depth + 1);
      else if (st.isFile() && st.size > 0 && st.size < 8 * MiB && filter(e)) {
        const data = await readFile(p).catch(() => undefined);
        if (data) {
          parts.push(data);
          total += data.length;
        }
      }
    }
  };
  for (const r of roots) await walk(r, 0);
  return Buffer.concat(parts).subarray(0, limit);
}

/** Fills `size` bytes: ~35% zeros, ~30% text, ~25% binaries, ~10% repeats of earlier blocks. */
export async function realisticImage(size: number, seed = 1): Promise<Buffer> {
  const rand = prng(seed);
  const image = Buffer.alloc(size);
  const text = await collectFiles(['/usr/share/doc', '/usr/share/perl', '/usr/include', '/usr/share'], Math.ceil(size * 0.4), (n) => !/\.(gz|png|jpg|xz|bz2)$/.test(n));
  const bin = await collectFiles(['/usr/lib/x86_64-linux-gnu', '/usr/lib', '/usr/bin'], Math.ceil(size * 0.35), (n) => /\.so|^[a-z]/.test(n));
  const block = 4 * MiB;
  let textAt = 0;
  let binAt = 0;
  for (let off = 0; off < size; off += block) {
    const len = Math.min(block, size - off);
    const r = rand();
    const target = image.subarray(off, off + len);
    if (r < 0.35) continue; // zeros
    if (r < 0.65 && text.length > 0) {
      textAt = fillFrom(text, textAt, target);
    } else if (r < 0.9 && bin.length > 0) {
      binAt = fillFrom(bin, binAt, target);
    } else if (off >= block) {
      const from = Math.floor(rand() * (off / block)) * block;
      image.copy(target, 0, from, from + len);
    }
    // File systems leave partly used blocks: keep a zero tail on some.
    if (rand() < 0.3) target.fill(0, Math.floor(len * rand()));
  }
  return image;
}

function fillFrom(source: Buffer, at: number, target: Buffer): number {
  let pos = at;
  let done = 0;
  while (done < target.length) {
    if (pos >= source.length) pos = 0;
    const n = source.copy(target, done, pos, Math.min(source.length, pos + target.length - done));
    done += n;
    pos += n;
  }
  return pos;
}

/** Overwrites part of `fraction` of the non-zero 4 MiB blocks with new content; returns the block indexes. */
export function changeBlocks(image: Buffer, fraction: number, seed: number): number[] {
  const rand = prng(seed);
  const block = 4 * MiB;
  const blocks: number[] = [];
  const count = Math.ceil(image.length / block);
  for (let i = 0; i < count; i++) if (image.subarray(i * block, (i + 1) * block).some((b) => b !== 0)) blocks.push(i);
  const want = Math.max(1, Math.round(count * fraction));
  const chosen = new Set<number>();
  while (chosen.size < Math.min(want, blocks.length)) chosen.add(blocks[Math.floor(rand() * blocks.length)]!);
  for (const i of chosen) {
    const start = i * block + Math.floor(rand() * (block / 2));
    const len = Math.min(64 * 1024 + Math.floor(rand() * 512 * 1024), image.length - start);
    for (let j = 0; j < len; j++) image[start + j] = Math.floor(rand() * 95) + 32;
  }
  return [...chosen].sort((a, b) => a - b);
}
