/**
 * In-process throughput of the hot-path primitives on 4 MiB chunks of the workload: node:zlib against
 * pako (the reason drivesnap uses node:zlib), node:zlib against igzip and libdeflate per level, SHA-256, the repository's
 * chunk codec, and the chunk encode path on incompressible (random) data against the previous one.
 */
import { createHash, randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gunzip, gunzipSync, gzip, gzipSync } from 'node:zlib';
import { deflate as pakoGzip, inflate as pakoInflate } from 'pako';
import { gzipIfSmaller } from '../codec/incompressible.js';
import { codecOver, isalAddon, isalCodec } from '../codec/isal.js';
import { codecLabel, type GzipCodec } from '../codec/types.js';
import { zlibCodec } from '../codec/zlib.js';
import { isAllZero } from '../engine/codec.js';
import { chunkId, decodeChunk, deriveKeys, encodeChunk, gzipCodecLabel, newConfig, newMasterKey, sealEnvelope } from '../repo/format/index.js';

const MiB = 1024 * 1024;
const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export interface CodecResult {
  name: string;
  mbPerSec: number;
  ratio?: number;
}

export async function sampleChunks(image: string, count: number): Promise<Buffer[]> {
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

export async function timeIt(bytes: number, fn: () => Promise<unknown> | unknown): Promise<number> {
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
  for (const f of await gzipCodecFigures(chunks)) {
    record(`gzip ${f.codec} L${f.level} (one thread)`, f.gzipMBs, f.ratio);
    const from = f.inflater === f.codec ? `L${f.level}` : `${f.codec} L${f.level}`;
    record(`gunzip ${f.inflater}, from ${from} (one thread)`, f.gunzipMBs);
  }
  const random = Array.from({ length: 8 }, () => randomBytes(4 * MiB));
  for (const [name, decide] of encodeStrategies(newConfig({ encrypted: false }).compression.level)) {
    const f = await encodePathFigure(random, decide, 4);
    record(`chunk payload on random data, ${name} (8 in flight)`, f.mbPerSec, f.ratio);
  }
  for (const encrypted of [false, true]) {
    const config = newConfig({ encrypted });
    const ctx = { config, keys: encrypted ? await deriveKeys(newMasterKey()) : undefined };
    const ids = await Promise.all(chunks.map((c) => chunkId(c, ctx)));
    let objects: Buffer[] = [];
    const label = encrypted ? 'encrypted' : 'plain';
    record(
      `chunk encode, ${label}, ${gzipCodecLabel(config.compression.level)} (all in flight)`,
      await timeIt(raw, async () => {
        objects = await Promise.all(chunks.map((c, i) => encodeChunk(c, ids[i]!, ctx)));
      }),
      raw / objects.reduce((s, o) => s + o.length, 0),
    );
    record(`chunk decode+verify, ${label} (all in flight)`, await timeIt(raw, () => parallel(objects, (o) => decodeChunk(o, ids[objects.indexOf(o)]!, ctx))));
  }
  return out;
}

/** One 4 MiB block after another on one thread, per codec and level: the per-core figures. */
export interface GzipFigure {
  /** What deflates, at `level` (its own scale). */
  codec: string;
  level: number;
  /** What inflates what it wrote. */
  inflater: string;
  gzipMBs: number;
  gunzipMBs: number;
  ratio: number;
}

/** `fn` over each block in turn; MB/s counts `rawBytes`, the uncompressed side, both ways. */
async function sequential(blocks: Buffer[], rawBytes: number, fn: (b: Buffer) => Promise<Buffer>): Promise<{ mbPerSec: number; out: Buffer[] }> {
  const out: Buffer[] = [];
  const mbPerSec = await timeIt(
    rawBytes,
    async () => {
      for (const b of blocks) out.push(await fn(b));
    },
  );
  return { mbPerSec, out };
}

/** A codec and the repository gzip levels to measure it at. */
export type CodecLevels = [GzipCodec, number[]];

/** igzip through the addon even when it deflates through libdeflate, or undefined without the addon. */
export function igzipCodec(): GzipCodec | undefined {
  return isalAddon && codecOver(isalAddon, true);
}

/**
 * The codecs compared by default: node:zlib, and igzip at levels 1..3 when the addon is built, and
 * libdeflate at `libdeflateLevels` when the addon deflates through it.
 */
export function defaultCodecLevels(libdeflateLevels = [1, 2, 3, 4]): CodecLevels[] {
  const out: CodecLevels[] = [[zlibCodec, [1, 2, 3]]];
  const igzip = igzipCodec();
  if (igzip) out.push([igzip, [1, 2, 3]]);
  if (isalCodec && isalCodec.deflater !== 'isal-igzip') out.push([isalCodec, libdeflateLevels]);
  return out;
}

/** Each codec at each of its repository gzip levels on the given blocks, through the codec's own gzip and gunzip. */
export async function gzipCodecFigures(blocks: Buffer[], codecs: CodecLevels[] = defaultCodecLevels()): Promise<GzipFigure[]> {
  const bytes = blocks.reduce((s, b) => s + b.length, 0);
  const max = Math.max(...blocks.map((b) => b.length));
  const figures: GzipFigure[] = [];
  for (const [codec, levels] of codecs) {
    for (const level of levels) {
      const packed = await sequential(blocks, bytes, async (b) => (await codec.gzip(b, level))!);
      const unpacked = await sequential(packed.out, bytes, (g) => codec.gunzip(g, max));
      const ratio = bytes / packed.out.reduce((s, o) => s + o.length, 0);
      figures.push({ codec: codec.deflater, level: codec.nativeLevel(level), inflater: codec.inflater, gzipMBs: packed.mbPerSec, gunzipMBs: unpacked.mbPerSec, ratio });
    }
  }
  return figures;
}

/** How a range becomes its stored payload: undefined keeps it raw. */
type RawDecision = (data: Buffer) => Promise<Buffer | undefined>;

/** The previous chunk path: gzip all of it, keep raw when that did not shrink it. */
const gzipAllThenCompare = (codec: GzipCodec, level: number): RawDecision => async (data) => {
  const out = (await codec.gzip(data, level))!;
  return out.length < data.length ? out : undefined;
};

/**
 * The chunk encode path (compress or keep raw, then seal) over `rounds` passes of the blocks with `inFlight`
 * blocks at once, as the engine runs it: MB/s and the stored size ratio.
 */
export async function encodePathFigure(blocks: Buffer[], decide: RawDecision, rounds = 1, inFlight = 8): Promise<{ mbPerSec: number; ratio: number }> {
  let stored = 0;
  let next = 0;
  const total = blocks.length * rounds;
  const worker = async () => {
    for (let i = next++; i < total; i = next++) {
      const data = blocks[i % blocks.length]!;
      const payload = await decide(data);
      const object = await sealEnvelope('chunk', 'bench', payload ?? data, payload === undefined, undefined);
      stored += object.length; // after the await: `stored += await ...` would read `stored` before it
    }
  };
  const bytes = total * (blocks[0]?.length ?? 0);
  const mbPerSec = await timeIt(bytes, () => Promise.all(Array.from({ length: inFlight }, worker)));
  return { mbPerSec, ratio: bytes / stored };
}

/** The encode strategies compared: the previous path on node:zlib, and sampled on each available codec. */
export function encodeStrategies(level: number): [string, RawDecision][] {
  const out: [string, RawDecision][] = [[`gzip all, node:zlib L${level} (previous path)`, gzipAllThenCompare(zlibCodec, level)]];
  out.push([`sampled, ${codecLabel(zlibCodec, level)}`, (d) => gzipIfSmaller(zlibCodec, d, level)]);
  // igzip apart from the addon's codec only when that one deflates through libdeflate.
  const addonCodecs = [isalCodec, isalCodec?.deflater === 'isal-igzip' ? undefined : igzipCodec()];
  for (const codec of addonCodecs) {
    if (!codec) continue;
    out.push([`sampled, ${codecLabel(codec, level)}`, (d) => gzipIfSmaller(codec, d, level)]);
    out.push([`gzip all, ${codecLabel(codec, level)}`, gzipAllThenCompare(codec, level)]);
  }
  return out;
}
