/**
 * `drivesnap benchmark`: how fast this machine (and, when asked, an API endpoint and a repository's store)
 * does each thing a backup does to a 4 MiB range, so users can plan windows: hash, gzip and gunzip
 * (ISA-L when its addon is built, node:zlib, and pako for comparison), AES-256-GCM, the repository's chunk
 * codec, drive API writes and reads, store puts and gets. The report names the gzip codec chunks use.
 *
 * Each measurement repeats its operation until its share of the time budget is spent (at least once) and
 * reports bytes per second of input. One stream each: the engine runs several ranges at once, so a job's
 * throughput can exceed a single figure here up to the number of cores (CPU work) or connections (I/O).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type { ApiClient } from '../api/client.js';
import { addonCodecAt } from '../codec/active.js';
import { isalUnavailableReason } from '../codec/isal.js';
import { codecLabel } from '../codec/types.js';
import {
  type CodecContext,
  chunkId,
  decodeChunk,
  deriveKeys,
  encodeChunk,
  gzipCodecLabel,
  newConfig,
  newMasterKey,
} from '../repo/format/index.js';
import type { ObjectStore } from '../store/types.js';
import { MiB } from '../util/size.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** The unit of all work in drivesnap: one range. */
export const BENCH_BLOCK = 4 * MiB;
export const DEFAULT_BENCH_SECONDS = 3;
/** Scratch objects in a repository's store live under this prefix, and are removed afterwards. */
export const STORE_PREFIX = 'benchmark/';

export interface Measurement {
  name: string;
  group: 'cpu' | 'api' | 'store';
  /** Input bytes processed, over `ms`. */
  bytes: number;
  ms: number;
  ops: number;
  /** Bytes per second. */
  throughput: number;
  /** Output size over input size, for compressors. */
  ratio?: number;
  note?: string;
}

export interface Skipped {
  name: string;
  reason: string;
}

export interface BenchmarkOptions {
  /** Total time budget, shared by the measurements; default 3 s. */
  seconds?: number;
  /** Measure API writes and reads on a scratch drive this creates and destroys. */
  api?: ApiClient;
  /** Measure puts and gets on this store (a repository's), under `benchmark/`. */
  store?: ObjectStore;
  /** The repository's codec context, so the chunk codec runs as its backups will; default an encrypted one. */
  ctx?: CodecContext;
  /** Parallel requests for the API and store measurements; default 4. */
  connections?: number;
  onMeasurement?: (m: Measurement) => void;
}

export interface BenchmarkReport {
  results: Measurement[];
  skipped: Skipped[];
  blockBytes: number;
  /** The gzip codec and level chunks are compressed with: "isal-igzip L1", "node:zlib L2". */
  codec: string;
}

/** Half text-like (compresses like file system contents), half random (like compressed media). */
export function sampleBlock(size = BENCH_BLOCK): Buffer {
  const key = createHash('sha256').update('drivesnap-benchmark').digest();
  const block = createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(size));
  const half = Math.floor(size / 2);
  for (let i = 0; i < half; i++) block[i] = 0x61 + (block[i]! & 0x0f);
  return block;
}

/** Repeats `op` until `budgetMs` passes (at least once); `op` returns the bytes it processed. */
async function measure(budgetMs: number, op: () => Promise<number> | number): Promise<{ bytes: number; ms: number; ops: number }> {
  const start = performance.now();
  let bytes = 0;
  let ops = 0;
  do {
    bytes += await op();
    ops++;
  } while (performance.now() - start < budgetMs);
  return { bytes, ms: performance.now() - start, ops };
}

/** `parallel` workers repeating `op(i)` until the budget passes; every worker runs at least once. */
async function measureParallel(budgetMs: number, parallel: number, op: (i: number) => Promise<number>) {
  const start = performance.now();
  let bytes = 0;
  let ops = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      do {
        bytes += await op(ops++);
      } while (performance.now() - start < budgetMs);
    }),
  );
  return { bytes, ms: performance.now() - start, ops };
}

/** An operation's output is dropped; what counts is the input it consumed. */
function bytesOf(_output: Uint8Array, input: Uint8Array): number {
  return input.length;
}

function result(name: string, group: Measurement['group'], m: { bytes: number; ms: number; ops: number }, extra: Partial<Measurement> = {}): Measurement {
  return { name, group, ...m, throughput: m.bytes / (Math.max(m.ms, 0.001) / 1000), ...extra };
}

type Pako = { gzip(d: Uint8Array, o?: { level?: number }): Uint8Array; inflate(d: Uint8Array): Uint8Array };

async function loadPako(): Promise<Pako | undefined> {
  try {
    // A development dependency: present in a source checkout, maybe not in an installed package.
    return (await import('pako')) as unknown as Pako;
  } catch {
    return undefined;
  }
}

export async function runBenchmark(o: BenchmarkOptions = {}): Promise<BenchmarkReport> {
  const ctx = o.ctx ?? (await encryptedContext());
  // A repository may use chunks smaller than 4 MiB: the codec refuses larger blocks.
  const block = sampleBlock(Math.min(BENCH_BLOCK, ctx.config.chunkSize));
  const pako = await loadPako();
  const cpuCount = 13;
  const shares = cpuCount + (o.api ? 2 : 0) + (o.store ? 2 : 0);
  const budgetMs = ((o.seconds ?? DEFAULT_BENCH_SECONDS) * 1000) / shares;
  const results: Measurement[] = [];
  const skipped: Skipped[] = [];
  const add = (m: Measurement) => {
    results.push(m);
    o.onMeasurement?.(m);
  };

  add(result('sha256', 'cpu', await measure(budgetMs, () => bytesOf(createHash('sha256').update(block).digest(), block))));
  const gz1 = await gzipAsync(block, { level: 1 });
  const gz6 = await gzipAsync(block, { level: 6 });
  add(result('gzip level 1 (node:zlib)', 'cpu', await measure(budgetMs, async () => bytesOf(await gzipAsync(block, { level: 1 }), block)), { ratio: gz1.length / block.length }));
  add(result('gzip level 6 (node:zlib)', 'cpu', await measure(budgetMs, async () => bytesOf(await gzipAsync(block, { level: 6 }), block)), { ratio: gz6.length / block.length }));
  add(result('gunzip (node:zlib)', 'cpu', await measure(budgetMs, async () => (await gunzipAsync(gz6)).length)));
  const level = ctx.config.compression.level;
  const addon = addonCodecAt(level);
  if (addon) {
    const name = codecLabel(addon, level);
    const gzIsal = (await addon.gzip(block, level))!;
    add(result(`gzip (${name})`, 'cpu', await measure(budgetMs, async () => bytesOf((await addon.gzip(block, level))!, block)), { ratio: gzIsal.length / block.length }));
    add(result(`gunzip (${addon.inflater})`, 'cpu', await measure(budgetMs, async () => (await addon.gunzip(gz6, block.length)).length)));
  } else {
    for (const name of ['gzip (native addon)', 'gunzip (native addon)']) skipped.push({ name, reason: isalUnavailableReason ?? 'not available' });
  }
  if (pako) {
    const pz = pako.gzip(block, { level: 6 });
    add(result('gzip level 6 (pako)', 'cpu', await measure(budgetMs, () => bytesOf(pako.gzip(block, { level: 6 }), block)), { ratio: pz.length / block.length }));
    add(result('gunzip (pako)', 'cpu', await measure(budgetMs, () => pako.inflate(gz6).length)));
  } else {
    for (const name of ['gzip level 6 (pako)', 'gunzip (pako)']) skipped.push({ name, reason: 'pako is not installed (a development dependency)' });
  }
  const key = randomBytes(32);
  const nonce = randomBytes(12);
  const sealed = gcmSeal(key, nonce, block);
  add(result('aes-256-gcm encrypt', 'cpu', await measure(budgetMs, () => bytesOf(gcmSeal(key, nonce, block), block))));
  add(result('aes-256-gcm decrypt', 'cpu', await measure(budgetMs, () => gcmOpen(key, nonce, sealed).length)));
  const id = await chunkId(block, ctx);
  const object = await encodeChunk(block, id, ctx);
  const codec = ctx.config.encryption === 'none' ? 'plain' : 'encrypted';
  const note = `${codec} repository, gzip level ${level}, ${gzipCodecLabel(level)}`;
  add(result('chunk id', 'cpu', await measure(budgetMs, async () => bytesOf(await chunkId(block, ctx), block)), { note }));
  add(
    result('chunk encode', 'cpu', await measure(budgetMs, async () => bytesOf(await encodeChunk(block, id, ctx), block)), {
      ratio: object.length / block.length,
      note,
    }),
  );
  add(result('chunk decode + verify', 'cpu', await measure(budgetMs, async () => (await decodeChunk(object, id, ctx)).length), { note }));

  const parallel = o.connections ?? 4;
  if (o.api) for (const m of await apiBenchmark(o.api, block, budgetMs, parallel)) add(m);
  if (o.store) for (const m of await storeBenchmark(o.store, block, budgetMs, parallel)) add(m);
  return { results, skipped, blockBytes: block.length, codec: gzipCodecLabel(level) };
}

async function encryptedContext(): Promise<CodecContext> {
  return { config: newConfig({ encrypted: true }), keys: await deriveKeys(newMasterKey()) };
}

function gcmSeal(key: Buffer, nonce: Buffer, data: Buffer): Buffer {
  const c = createCipheriv('aes-256-gcm', key, nonce);
  return Buffer.concat([c.update(data), c.final(), c.getAuthTag()]);
}

function gcmOpen(key: Buffer, nonce: Buffer, sealed: Buffer): Buffer {
  const d = createDecipheriv('aes-256-gcm', key, nonce);
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([d.update(sealed.subarray(0, sealed.length - 16)), d.final()]);
}

/**
 * Raw (uncompressed) 4 MiB writes, then reads, on a scratch drive: the endpoint's own speed, without
 * compression helping. The drive is destroyed whatever happens.
 */
async function apiBenchmark(api: ApiClient, block: Buffer, budgetMs: number, parallel: number): Promise<Measurement[]> {
  const slots = parallel * 2;
  const drive = await api.createDrive({ name: `drivesnap-benchmark-${randomBytes(4).toString('hex')}`, size: slots * block.length });
  try {
    const note = `${parallel} connections, ${api.url}`;
    const write = await measureParallel(budgetMs, parallel, async (i) => {
      await api.writeDrive(drive.uuid, (i % slots) * block.length, block, { encoding: 'raw' });
      return block.length;
    });
    const read = await measureParallel(budgetMs, parallel, async (i) => (await api.readDrive(drive.uuid, (i % slots) * block.length, block.length)).length);
    return [result('api write (raw)', 'api', write, { note }), result('api read', 'api', read, { note })];
  } finally {
    await api.destroyDrive(drive.uuid);
  }
}

/** Puts then gets of 4 MiB objects under `benchmark/`, all deleted afterwards. */
async function storeBenchmark(store: ObjectStore, block: Buffer, budgetMs: number, parallel: number): Promise<Measurement[]> {
  const prefix = `${STORE_PREFIX}${randomBytes(6).toString('hex')}-`;
  const names = new Set<string>();
  try {
    const note = `${parallel} at once, ${store.location}`;
    const put = await measureParallel(budgetMs, parallel, async (i) => {
      const name = `${prefix}${i}`;
      names.add(name);
      await store.put(name, block);
      return block.length;
    });
    const written = [...names];
    const get = await measureParallel(budgetMs, parallel, async (i) => (await store.get(written[i % written.length]!)).length);
    return [result('store put', 'store', put, { note }), result('store get', 'store', get, { note })];
  } finally {
    for (const name of names) await store.delete(name);
  }
}
