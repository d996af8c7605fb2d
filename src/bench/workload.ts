/**
 * Builds the benchmark's drive images: an ext4 image of real files (`base`), the same image with ~5%
 * of its data blocks partly rewritten (`changed`, the incremental case), and the same files laid out
 * by a differently-tuned mke2fs (`relayout`, the honest cross-drive dedup case).
 *
 * Real files rather than random bytes because compression ratio and dedup hits decide the figures;
 * random data would make every tool look the same. mke2fs -d builds the file system without root or a
 * loop mount, and (1.47) walks the source tree alphabetically, so the layout follows from the tree.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { type Dirent, existsSync } from 'node:fs';
import { copyFile, mkdir, open, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const MiB = 1024 * 1024;
const BLOCK = 4 * MiB; // drivesnap's range and chunk size
const MANIFEST = 'workload.json';
const MANIFEST_VERSION = 2; // bump when the recipe changes so old caches are rebuilt
const MAX_SOURCE_FILE = 32 * MiB; // keeps one huge library from eating a small image's budget
const FIXED_TIME = new Date('2024-01-01T00:00:00Z'); // copied files' mtime, for reproducible images
const MKE2FS = existsSync('/usr/sbin/mke2fs') ? '/usr/sbin/mke2fs' : 'mke2fs';

export interface WorkloadOptions {
  /** Image size; default 2 GiB. */
  sizeBytes?: number;
  /** Bytes of files to put in the image; default 55% of sizeBytes (~1.1 GiB for 2 GiB). */
  filesBytes?: number;
  /** Fraction of data-holding 4 MiB blocks to modify in `changed`; default 0.05. */
  changedFraction?: number;
  seed?: number;
  /** Progress lines; silent by default. */
  log?: (line: string) => void;
}

export interface WorkloadStats {
  files: number;
  realBytes: number;
  duplicateBytes: number;
  periodicBytes: number;
  generatedBytes: number;
  /** 4 MiB blocks of `base` that are not all zero. */
  dataBlocks: number;
  /** Non-zero blocks of `base` identical to an earlier block of `base` (4 MiB-aligned dedup within a drive). */
  repeatedDataBlocks: number;
  /** Non-zero blocks of `relayout` also present in `base` (4 MiB-aligned dedup across drives). */
  relayoutSharedBlocks: number;
  relayoutDataBlocks: number;
  /** Bytes allocated on the host by the three sparse images together. */
  allocatedBytes: number;
  buildMs: number;
}

export interface Workload {
  base: string;
  changed: string;
  relayout: string;
  sizeBytes: number;
  /** Bytes of file content actually placed in the images. */
  filesBytes: number;
  /** Indexes of the 4 MiB blocks that differ between `base` and `changed`, ascending. */
  changedBlocks: number[];
  stats: WorkloadStats;
}

interface Params {
  version: number;
  sizeBytes: number;
  filesBytes: number;
  changedFraction: number;
  seed: number;
}

interface Manifest {
  params: Params;
  filesBytes: number;
  changedBlocks: number[];
  stats: WorkloadStats;
}

/** Builds (or reuses from `dir`) the three images. */
export async function buildWorkload(dir: string, opts: WorkloadOptions = {}): Promise<Workload> {
  const sizeBytes = opts.sizeBytes ?? 2048 * MiB;
  if (sizeBytes % BLOCK !== 0) throw new Error('sizeBytes must be a multiple of 4 MiB');
  const params: Params = {
    version: MANIFEST_VERSION,
    sizeBytes,
    filesBytes: opts.filesBytes ?? Math.round(sizeBytes * 0.55),
    changedFraction: opts.changedFraction ?? 0.05,
    seed: opts.seed ?? 1,
  };
  const log = opts.log ?? (() => {});
  const paths = { base: join(dir, 'base.img'), changed: join(dir, 'changed.img'), relayout: join(dir, 'relayout.img') };

  const cached = await readCache(dir, params, Object.values(paths));
  if (cached) {
    log(`workload: reusing images in ${dir}`);
    return { ...paths, sizeBytes, filesBytes: cached.filesBytes, changedBlocks: cached.changedBlocks, stats: cached.stats };
  }

  const t0 = performance.now();
  await mkdir(dir, { recursive: true });
  await rm(join(dir, MANIFEST), { force: true }); // a half-built cache must never look valid
  for (const p of Object.values(paths)) await rm(p, { force: true });
  const tree = join(dir, 'tree');
  await rm(tree, { recursive: true, force: true });
  const rng = new Rng(params.seed);

  try {
    log('workload: copying source files');
    const source = await buildSourceTree(tree, params, rng);
    log(`workload: ${source.files} files, ${mib(source.total)} MiB; running mke2fs`);
    await mke2fs(tree, paths.base, sizeBytes, params.seed, ['-b', '4096']);
    // Another block size, inode size/ratio and journal size move every file to another offset, as a
    // second drive formatted by another image builder would.
    await mke2fs(tree, paths.relayout, sizeBytes, params.seed + 1, ['-b', '1024', '-I', '128', '-i', '8192', '-J', 'size=32']);

    log('workload: writing changed image');
    const scan = await scanBlocks(paths.base);
    await run('cp', ['--sparse=always', paths.base, paths.changed]);
    const changedBlocks = await mutate(paths.changed, scan.dataBlocks, params.changedFraction, rng, source.fresh);
    const relayoutScan = await scanBlocks(paths.relayout);
    const shared = [...relayoutScan.hashes.values()].filter((h) => scan.hashSet.has(h)).length;

    const stats: WorkloadStats = {
      files: source.files,
      realBytes: source.realBytes,
      duplicateBytes: source.duplicateBytes,
      periodicBytes: source.periodicBytes,
      generatedBytes: source.generatedBytes,
      dataBlocks: scan.dataBlocks.length,
      repeatedDataBlocks: scan.dataBlocks.length - scan.hashSet.size,
      relayoutSharedBlocks: shared,
      relayoutDataBlocks: relayoutScan.dataBlocks.length,
      allocatedBytes: 0,
      buildMs: 0,
    };
    for (const p of Object.values(paths)) stats.allocatedBytes += (await stat(p)).blocks * 512;
    stats.buildMs = Math.round(performance.now() - t0);
    const manifest: Manifest = { params, filesBytes: source.total, changedBlocks, stats };
    await writeFile(join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    log(`workload: built in ${(stats.buildMs / 1000).toFixed(1)} s`);
    return { ...paths, sizeBytes, filesBytes: source.total, changedBlocks, stats };
  } finally {
    await rm(tree, { recursive: true, force: true });
  }
}

async function readCache(dir: string, params: Params, images: string[]): Promise<Manifest | undefined> {
  try {
    const manifest = JSON.parse(await readFile(join(dir, MANIFEST), 'utf8')) as Manifest;
    if (JSON.stringify(manifest.params) !== JSON.stringify(params)) return undefined;
    for (const img of images) if ((await stat(img)).size !== params.sizeBytes) return undefined;
    return manifest;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Source tree

interface Candidate {
  path: string;
  size: number;
  /** Seeded hash of the path: the deterministic "random" order we pick in. */
  key: string;
}

interface SourceTree {
  files: number;
  total: number;
  realBytes: number;
  duplicateBytes: number;
  periodicBytes: number;
  generatedBytes: number;
  /** Yields content that is not in the image, for rewriting blocks of `changed`. */
  fresh: (len: number) => Promise<Buffer>;
}

/** Where real files come from, with the share of the budget each gets (a short root's rest spills over). */
function sourceRoots(): { label: string; path: string; share: number }[] {
  const nodeModules = fileURLToPath(new URL('../../node_modules', import.meta.url));
  return [
    { label: 'lib', path: '/usr/lib', share: 0.5 }, // shared objects, Python, Perl: binaries and text
    { label: 'share', path: '/usr/share', share: 0.22 }, // docs (often already gzipped), locales, data
    { label: 'include', path: '/usr/include', share: 0.1 }, // plain C headers: very compressible text
    { label: 'node_modules', path: nodeModules, share: 0.18 }, // JS, maps, native add-ons
  ];
}

async function buildSourceTree(tree: string, params: Params, rng: Rng): Promise<SourceTree> {
  // Budget: ~8% duplicated files (dedup inside a drive for content-defined chunkers), a periodic
  // file (repeats at 4 MiB so fixed 4 MiB chunking also sees repeated blocks), the rest unique.
  const periods = Math.max(3, Math.floor((params.filesBytes * 0.02) / BLOCK));
  const periodicBytes = periods * BLOCK;
  const duplicateBudget = Math.round(params.filesBytes * 0.08);
  const uniqueBudget = Math.max(0, params.filesBytes - periodicBytes - duplicateBudget);

  const chosen: { cand: Candidate; dest: string }[] = [];
  let rest: { cand: Candidate; dest: string }[] = [];
  let carry = 0;
  let realBytes = 0;
  for (const root of sourceRoots()) {
    const cands = existsSync(root.path) ? await listFiles(root.path, params.seed) : [];
    let budget = Math.round(uniqueBudget * root.share) + carry;
    for (const cand of cands) {
      const pick = { cand, dest: join(tree, root.label, cand.path.slice(root.path.length + 1)) };
      if (cand.size <= budget) {
        chosen.push(pick);
        budget -= cand.size;
        realBytes += cand.size;
      } else {
        rest.push(pick);
      }
    }
    carry = budget;
  }
  // Budget a short root (usually node_modules, the last) left unused goes to the others' leftovers.
  rest = rest.filter((pick) => {
    if (pick.cand.size > carry) return true;
    chosen.push(pick);
    carry -= pick.cand.size;
    realBytes += pick.cand.size;
    return false;
  });
  const leftovers = rest.map((pick) => pick.cand);
  await copyAll(chosen.map(({ cand, dest }) => ({ from: cand.path, to: dest })));

  // Duplicates: whole files copied again under dup/, picked in another seeded order.
  const dupOrder = [...chosen].sort((a, b) => (a.cand.key < b.cand.key ? 1 : -1));
  const dups: { from: string; to: string }[] = [];
  let duplicateBytes = 0;
  for (const { cand } of dupOrder) {
    if (duplicateBytes + cand.size > duplicateBudget) continue;
    dups.push({ from: cand.path, to: join(tree, 'dup', String(dups.length), cand.path.split('/').pop()!) });
    duplicateBytes += cand.size;
  }
  await copyAll(dups);

  // Top up with generated content if the machine had too few real files (a small shortfall is
  // just the last file not fitting the budget exactly).
  let generatedBytes = 0;
  let gen = 0;
  while (uniqueBudget - realBytes - generatedBytes > MiB) {
    const len = Math.min(uniqueBudget - realBytes - generatedBytes, 1 * MiB + rng.int(7 * MiB));
    const n = gen++;
    const dest = join(tree, 'generated', `${n}.${n % 2 ? 'bin' : 'log'}`);
    await mkdir(dirname(dest), { recursive: true });
    await writeFile(dest, n % 2 ? generatedBinary(rng, len) : generatedText(rng, len));
    await utimes(dest, FIXED_TIME, FIXED_TIME);
    generatedBytes += len;
  }

  const fresh = freshContent(leftovers, rng);
  const period = await fresh(BLOCK);
  const periodic = Buffer.concat(Array.from({ length: periods }, () => period));
  await mkdir(join(tree, 'dup'), { recursive: true });
  await writeFile(join(tree, 'dup', 'periodic.bin'), periodic);
  await utimes(join(tree, 'dup', 'periodic.bin'), FIXED_TIME, FIXED_TIME);

  return {
    files: chosen.length + dups.length + gen + 1,
    total: realBytes + duplicateBytes + generatedBytes + periodicBytes,
    realBytes,
    duplicateBytes,
    periodicBytes,
    generatedBytes,
    fresh,
  };
}

/** Regular files under root (no symlinks, nothing empty or huge), in seeded-hash order. */
async function listFiles(root: string, seed: number): Promise<Candidate[]> {
  const out: Candidate[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return; // unreadable directory: skip, the rest of the machine is enough
    }
    for (const e of entries) {
      // Caches (__pycache__, node_modules/.vite) change whenever Python or vitest runs; skipping
      // them keeps the pick, and so the images, the same from one build to the next.
      if (e.name.startsWith('.') || e.name === '__pycache__') continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) {
        const size = (await stat(p)).size;
        if (size > 0 && size <= MAX_SOURCE_FILE) out.push({ path: p, size, key: hashKey(seed, p) });
      }
    }
  };
  await walk(root);
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function hashKey(seed: number, path: string): string {
  return createHash('sha1').update(`${seed}\0${path}`).digest('hex');
}

async function copyAll(jobs: { from: string; to: string }[]): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const { from, to } = jobs[next++]!;
      await mkdir(dirname(to), { recursive: true });
      await copyFile(from, to);
      await utimes(to, FIXED_TIME, FIXED_TIME);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

/** Content from real files that were not picked for the image (generated text once they run out). */
function freshContent(leftovers: Candidate[], rng: Rng): (len: number) => Promise<Buffer> {
  let index = 0;
  return async (len) => {
    const parts: Buffer[] = [];
    let have = 0;
    while (have < len && index < leftovers.length) {
      const cand = leftovers[index++]!;
      try {
        const fh = await open(cand.path, 'r');
        try {
          const buf = Buffer.alloc(Math.min(cand.size, len - have));
          const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
          parts.push(buf.subarray(0, bytesRead));
          have += bytesRead;
        } finally {
          await fh.close();
        }
      } catch {
        // vanished or unreadable: take the next one
      }
    }
    if (have < len) parts.push(generatedText(rng, len - have));
    return Buffer.concat(parts, len);
  };
}

// ---------------------------------------------------------------------------------------------
// Images

async function mke2fs(tree: string, image: string, sizeBytes: number, seed: number, extra: string[]): Promise<void> {
  // Fixed UUID, hash seed and clock make the image a function of the tree and parameters alone.
  const uuid = seededUuid(seed);
  await run(
    MKE2FS,
    ['-q', '-t', 'ext4', '-F', '-d', tree, '-U', uuid, '-E', `hash_seed=${uuid}`, '-L', 'bench', ...extra, image, `${sizeBytes / 1024}k`],
    { ...process.env, E2FSPROGS_FAKE_TIME: String(FIXED_TIME.getTime() / 1000) },
  );
}

interface BlockScan {
  dataBlocks: number[];
  hashes: Map<number, string>;
  hashSet: Set<string>;
}

/** Finds the non-zero 4 MiB blocks of an image and hashes them (for the dedup figures in stats). */
async function scanBlocks(image: string): Promise<BlockScan> {
  const fh = await open(image, 'r');
  const buf = Buffer.alloc(BLOCK);
  const scan: BlockScan = { dataBlocks: [], hashes: new Map(), hashSet: new Set() };
  try {
    const blocks = (await fh.stat()).size / BLOCK;
    for (let i = 0; i < blocks; i++) {
      const { bytesRead } = await fh.read(buf, 0, BLOCK, i * BLOCK);
      const view = buf.subarray(0, bytesRead);
      if (isZero(view)) continue;
      const h = createHash('sha256').update(view).digest('hex');
      scan.dataBlocks.push(i);
      scan.hashes.set(i, h);
      scan.hashSet.add(h);
    }
  } finally {
    await fh.close();
  }
  return scan;
}

function isZero(buf: Buffer): boolean {
  // Compare 64-bit words; a 4 MiB buffer from a Buffer.alloc is 8-byte aligned.
  const words = new BigUint64Array(buf.buffer, buf.byteOffset, buf.length >> 3);
  for (let i = 0; i < words.length; i++) if (words[i] !== 0n) return false;
  for (let i = words.length << 3; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

/** Rewrites 1-3 runs of 64 KiB-1 MiB (4 KiB-aligned, as a file system writes) in chosen data blocks. */
async function mutate(
  image: string,
  dataBlocks: number[],
  fraction: number,
  rng: Rng,
  fresh: (len: number) => Promise<Buffer>,
): Promise<number[]> {
  const count = Math.min(dataBlocks.length, Math.max(1, Math.round(dataBlocks.length * fraction)));
  const pool = [...dataBlocks];
  const picked: number[] = [];
  for (let i = 0; i < count; i++) picked.push(pool.splice(rng.int(pool.length), 1)[0]!);
  picked.sort((a, b) => a - b);
  const fh = await open(image, 'r+');
  const changed: number[] = [];
  try {
    for (const block of picked) {
      const runs = 1 + rng.int(3);
      const old = Buffer.alloc(BLOCK);
      await fh.read(old, 0, BLOCK, block * BLOCK);
      const next = Buffer.from(old);
      for (let r = 0; r < runs; r++) {
        const len = 16 * 4096 + rng.int(241) * 4096; // 64 KiB .. 1 MiB
        const at = rng.int((BLOCK - len) / 4096 + 1) * 4096;
        (await fresh(len)).copy(next, at);
      }
      await fh.write(next, 0, BLOCK, block * BLOCK);
      if (!next.equals(old)) changed.push(block); // fresh content equal to old is possible in theory
    }
  } finally {
    await fh.close();
  }
  return changed;
}

// ---------------------------------------------------------------------------------------------
// Generated content (only when the machine is short of real files, or real leftovers run out)

const WORDS = (
  'the drive backup chunk range server request error retry latency snapshot volume image block ' +
  'index cache config user admin session token upload download status ok failed warning info debug ' +
  'kernel module network interface address route table value default option path file directory'
).split(' ');

/** Log-like lines: timestamps, levels, word salad, numbers. Compresses about as well as real logs. */
function generatedText(rng: Rng, len: number): Buffer {
  const lines: string[] = [];
  let size = 0;
  let t = 1_700_000_000 + rng.int(1_000_000);
  while (size < len) {
    t += rng.int(5);
    const words = Array.from({ length: 4 + rng.int(12) }, () => WORDS[rng.int(WORDS.length)]).join(' ');
    const line = `${new Date(t * 1000).toISOString()} ${['INFO', 'DEBUG', 'WARN', 'ERROR'][rng.int(4)]} [${rng.int(64)}] ${words} id=${rng.int(1e9).toString(16)}\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, len);
}

/** Binary with structure (small integers, tables, some noise) so it compresses ~2x like code does. */
function generatedBinary(rng: Rng, len: number): Buffer {
  const buf = Buffer.alloc(len);
  for (let i = 0; i + 4 <= len; i += 4) {
    const kind = rng.int(8);
    const v = kind < 4 ? rng.int(256) : kind < 7 ? (i >> 4) & 0xffff : rng.int(0x100000000);
    buf.writeUInt32LE(v >>> 0, i);
  }
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Small utilities

/** mulberry32: tiny, fast, deterministic; quality is ample for picking offsets. */
class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

function seededUuid(seed: number): string {
  const h = createHash('sha1').update(`drivesnap-bench-${seed}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function mib(bytes: number): string {
  return (bytes / MiB).toFixed(0);
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${stderr.trim().slice(-2000)}`)),
    );
  });
}
