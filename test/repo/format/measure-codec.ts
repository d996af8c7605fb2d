/**
 * One-off measurement of the chunk codec on drive-like data (not a test; run by hand):
 *   npx tsx test/repo/format/measure-codec.ts [MiB]
 * Builds a sample from files under /usr/lib and /usr/share (binaries, libraries, text, already-gzip'd man
 * pages) cut into 4 MiB ranges, then reports gzip size ratio and speed per level, zstd -3 size for comparison
 * with borg's default, and encode/decode throughput with two ranges in flight (the machine's two cores).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { type Dirent, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type CodecContext,
  chunkId,
  decodeChunk,
  deriveKeys,
  encodeChunk,
  gzip,
  newConfig,
  newMasterKey,
} from '../../../src/repo/format/index.js';

const CHUNK = 4 * 1024 * 1024;
const totalMiB = Number(process.argv[2] ?? 64);
const IN_FLIGHT = 2;

/** Regular files under dir; symbolic links are skipped (they loop, and they duplicate). */
function* files(dir: string): Generator<string> {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
  } catch {
    return;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (e.isFile()) yield p;
  }
}

/** Files in a fixed pseudo-random order (so runs compare), distinct contents only (a drive's duplicates
 * would flatter compressors with long windows), at most 512 KiB from each so no big library dominates. */
function sample(bytes: number): Buffer[] {
  const all = [...files('/usr/lib'), ...files('/usr/share')];
  let seed = 12345;
  for (let i = all.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const j = seed % (i + 1);
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  const out = Buffer.alloc(bytes);
  const seen = new Set<string>();
  let at = 0;
  for (const path of all) {
    if (at >= bytes) break;
    try {
      const data = readFileSync(path).subarray(0, 512 * 1024);
      const digest = createHash('sha256').update(data).digest('hex');
      if (seen.has(digest)) continue;
      seen.add(digest);
      at += data.copy(out, at);
      if (process.env.SHOW_FILES) console.log(path, data.length);
    } catch {}
  }
  const ranges: Buffer[] = [];
  for (let o = 0; o < bytes; o += CHUNK) ranges.push(out.subarray(o, o + CHUNK));
  return ranges;
}

async function inFlight<T>(items: T[], work: (item: T) => Promise<unknown>): Promise<number> {
  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
  return (performance.now() - start) / 1000;
}

const ranges = sample(totalMiB * 1024 * 1024);
const total = ranges.reduce((n, r) => n + r.length, 0);
if (process.env.SAVE_SAMPLE) writeFileSync(process.env.SAVE_SAMPLE, Buffer.concat(ranges));
const mbps = (bytes: number, s: number) => (bytes / 1e6 / s).toFixed(0);
console.log(`sample: ${ranges.length} ranges, ${(total / 1024 / 1024).toFixed(0)} MiB, ${IN_FLIGHT} in flight`);

const zstd = spawnSync('zstd', ['--version']).status === 0;
if (zstd) {
  let size = 0;
  const start = performance.now();
  for (const r of ranges) size += spawnSync('zstd', ['-3', '-c', '-q'], { input: r, maxBuffer: 2 * CHUNK }).stdout.length;
  console.log(`zstd -3 (CLI, per range): ratio ${(size / total).toFixed(4)}  (${mbps(total, (performance.now() - start) / 1000)} MB/s incl. process start)`);
}
for (const level of [1, 2, 3, 6]) {
  let size = 0;
  const s = await inFlight(ranges, async (r) => {
    const compressed = await gzip(r, level);
    size += compressed.length;
  });
  console.log(`gzip -${level}: ratio ${(size / total).toFixed(4)}  compress ${mbps(total, s)} MB/s`);
}

const master = newMasterKey();
for (const encrypted of [false, true]) {
  for (const level of [1, 2, 6]) {
    const ctx: CodecContext = {
      config: newConfig({ encrypted, compressionLevel: level }),
      keys: encrypted ? await deriveKeys(master) : undefined,
    };
    const ids: Buffer[] = [];
    const objects: Buffer[] = [];
    let h = 0;
    const sId = await inFlight(ranges, async (r) => {
      const k = h++;
      ids[k] = await chunkId(r, ctx);
    });
    let stored = 0;
    let i = 0;
    const sEnc = await inFlight(ranges, async (r) => {
      const k = i++;
      objects[k] = await encodeChunk(r, ids[k]!, ctx);
      stored += objects[k]!.length;
    });
    let j = 0;
    const sDec = await inFlight(objects, async (o) => {
      const k = j++;
      await decodeChunk(o, ids[k]!, ctx);
    });
    console.log(
      `${encrypted ? 'encrypted' : 'plain    '} gzip -${level}: id ${mbps(total, sId)} MB/s, encode ${mbps(total, sEnc)} MB/s, ` +
        `decode+verify ${mbps(total, sDec)} MB/s, stored ratio ${(stored / total).toFixed(4)}`,
    );
  }
}
