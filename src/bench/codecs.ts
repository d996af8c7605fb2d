/**
 * In-process throughput of the hot-path primitives on 4 MiB chunks of the workload: node:zlib against
 * pako (the reason drivesnap uses node:zlib), SHA-256, and the repository's chunk codec.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gunzip, gunzipSync, gzip, gzipSync } from 'node:zlib';
import { deflate as pakoGzip, inflate as pakoInflate } from 'pako';
import { chunkId, decodeChunk, deriveKeys, encodeChunk, newConfig, newMasterKey } from '../repo/format/index.js';
import { isAllZero } from '../engine/codec.js';

const MiB = 1024 * 1024;
const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export interface CodecResult {
  name: string;
  mbPerSec: number;
  ratio?: number;
}

async function sampleChunks(image: string, count: number): Promise<Buffer[]> {
  const fh = await open(image, 'r');
  try {
    const size = (await fh.stat()).size;
    const chunks: Buffer[] = [];
    for (let off = 0; off + 4 * MiB <= size && chunks.length < count; off += 4 * MiB) {
      const b = Buffer.alloc(4 * MiB);
      await fh.read(b, 0, b.length, off);
      if (!isAllZero(b)) chunks.push(b);
    }
    return chunks;
  } finally {
    await fh.close();
  }
}

async function timeIt(bytes: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return bytes / 1e6 / ((performance.now() - t0) / 1000);
}

/** Several chunks in flight at once, as the engine runs them. */
const parallel = <T>(items: T[], fn: (t: T) => Promise<unknown>) => Promise.all(items.map(fn));

export async function codecBenchmarks(image: string, log: (l: string) => void): Promise<CodecResult[]> {
  const chunks = await sampleChunks(image, 24);
  const bytes = chunks.length * 4 * MiB;
  const raw = bytes;
  const out: CodecResult[] = [];
  const record = (name: string, mbPerSec: number, ratio?: number) => {
    out.push({ name, mbPerSec, ratio });
    log(`codec: ${name} ${mbPerSec.toFixed(0)} MB/s${ratio ? ` (ratio ${ratio.toFixed(2)})` : ''}`);
  };
  for (const level of [1, 6] as const) {
    let size = 0;
    record(`pako gzip -${level}`, await timeIt(raw, () => {
      for (const c of chunks) size += pakoGzip(c, { level, gzip: true } as never).length;
    }), raw / size);
    size = 0;
    record(`zlib gzipSync -${level}`, await timeIt(raw, () => {
      for (const c of chunks) size += gzipSync(c, { level }).length;
    }), raw / size);
    record(`zlib gzip async -${level} (all in flight)`, await timeIt(raw, () => parallel(chunks, (c) => gzipAsync(c, { level }))));
  }
  const gz = chunks.map((c) => gzipSync(c, { level: 6 }));
  record('pako gunzip', await timeIt(raw, () => {
    for (const g of gz) pakoInflate(g);
  }));
  record('zlib gunzipSync', await timeIt(raw, () => {
    for (const g of gz) gunzipSync(g);
  }));
  record('zlib gunzip async (all in flight)', await timeIt(raw, () => parallel(gz, (g) => gunzipAsync(g))));
  record('sha256 node:crypto (one thread)', await timeIt(raw, () => {
    for (const c of chunks) createHash('sha256').update(c).digest();
  }));
  record('sha256 WebCrypto (all in flight)', await timeIt(raw, () => parallel(chunks, (c) => crypto.subtle.digest('SHA-256', c))));
  for (const encrypted of [false, true]) {
    const config = newConfig({ encrypted });
    const ctx = { config, keys: encrypted ? await deriveKeys(newMasterKey()) : undefined };
    const ids = await Promise.all(chunks.map((c) => chunkId(c, ctx)));
    let objects: Buffer[] = [];
    const label = encrypted ? 'encrypted' : 'plain';
    record(
      `chunk encode, ${label}, gzip -${config.compression.level} (all in flight)`,
      await timeIt(raw, async () => {
        objects = await Promise.all(chunks.map((c, i) => encodeChunk(c, ids[i]!, ctx)));
      }),
      raw / objects.reduce((s, o) => s + o.length, 0),
    );
    record(`chunk decode+verify, ${label} (all in flight)`, await timeIt(raw, () => parallel(objects, (o) => decodeChunk(o, ids[objects.indexOf(o)]!, ctx))));
  }
  return out;
}
