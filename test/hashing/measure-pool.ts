/**
 * Measures chunk-id hashing on the main thread against HashPool (not a test; run by hand on a quiet machine):
 *   npx tsx test/hashing/measure-pool.ts [--gib 2] [--file-gib 1] [--runs 3] [--file /tmp/hash-measure.bin] [--only TEXT]
 * (--only runs the cases whose name contains TEXT, e.g. for `node --cpu-prof --import tsx ...`.)
 * (a) HMAC-SHA-256 of --gib GiB of 4 MiB ranges on the main thread (node:crypto, as chunkId does today);
 * (b) the same through the pool with 1 and 2 workers, 8 ranges in flight;
 * (c) a mini backup pipeline: the engine's runRanges over a page-cached file of random bytes (--file-gib),
 *     each range read into its slot buffer (SlotBuffers, shared memory) by the file source, checked for zeros,
 *     then hashed: main thread against the pool.
 * Prints wall time, GB/s and process CPU (user + sys, all threads) per case, medians of --runs, and ratios.
 */
import { createSecretKey, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { openFileSource } from '../../src/engine/ends/file.js';
import { runRanges, SlotBuffers } from '../../src/engine/pipeline.js';
import { ranges } from '../../src/engine/ranges.js';
import { rangeId } from '../../src/hashing/digest.js';
import { HashPool } from '../../src/hashing/index.js';
import { isAllZero } from '../../src/repo/format/index.js';

const RANGE = 4 * 1024 * 1024;
const IN_FLIGHT = 8;
const { values } = parseArgs({
  options: {
    gib: { type: 'string', default: '2' },
    'file-gib': { type: 'string', default: '1' },
    runs: { type: 'string', default: '3' },
    file: { type: 'string', default: '/tmp/hash-measure.bin' },
    only: { type: 'string' },
  },
});
const totalBytes = Number(values.gib) * 1024 ** 3;
const fileBytes = Number(values['file-gib']) * 1024 ** 3;
const key = createSecretKey(randomBytes(32));

interface Figure {
  seconds: number;
  cpuSeconds: number;
}

async function timed(fn: () => Promise<void>): Promise<Figure> {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  await fn();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  return { seconds, cpuSeconds: (used.user + used.system) / 1e6 };
}

/** 8 ranges of random bytes, hashed over and over: the content does not change SHA-256's speed. */
function fillSlots(buffers: SlotBuffers): Buffer[] {
  return Array.from({ length: IN_FLIGHT }, (_, slot) => {
    const b = buffers.get(slot, RANGE);
    randomBytes(RANGE).copy(b);
    return b;
  });
}

async function inMemory(hash: (b: Buffer) => Promise<Buffer> | Buffer, slots: Buffer[]): Promise<void> {
  const perSlot = Math.ceil(totalBytes / RANGE / IN_FLIGHT);
  await Promise.all(
    slots.map(async (b) => {
      for (let i = 0; i < perSlot; i++) await hash(b);
    }),
  );
}

async function pipeline(path: string, buffers: SlotBuffers, hash: (b: Buffer) => Promise<Buffer> | Buffer): Promise<void> {
  const source = await openFileSource(path);
  try {
    const failures = await runRanges(
      ranges(source.size, RANGE, () => false),
      async (r, slot) => {
        const data = await source.read(r.offset, r.length, buffers.get(slot, r.length));
        if (isAllZero(data)) return;
        await hash(data);
      },
      { concurrency: IN_FLIGHT },
    );
    if (failures.length > 0) throw failures[0]?.error;
  } finally {
    await source.close();
  }
}

async function makeFile(path: string): Promise<void> {
  if (existsSync(path) && statSync(path).size === fileBytes) return;
  const out = createWriteStream(path);
  for (let done = 0; done < fileBytes; done += RANGE) {
    if (!out.write(randomBytes(RANGE))) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function main(): Promise<void> {
  await makeFile(values.file);
  await readFile(values.file).then(() => undefined); // into the page cache
  const pools = { 1: new HashPool({ key, workers: 1 }), 2: new HashPool({ key, workers: 2 }) };
  const shared = fillSlots(new SlotBuffers(RANGE));
  const plain = fillSlots(new SlotBuffers(RANGE));
  // Workers start (and tsx transpiles) before anything is timed.
  await Promise.all([pools[1].hash(shared[0] as Buffer), pools[2].hash(shared[0] as Buffer), pools[2].hash(shared[1] as Buffer)]);

  const all: [string, number, () => Promise<void>][] = [
    ['(a) main thread, in memory', totalBytes, () => inMemory((b) => rangeId(b, key), plain)],
    ['(b) pool 1 worker, in memory', totalBytes, () => inMemory((b) => pools[1].hash(b), shared)],
    ['(b) pool 2 workers, in memory', totalBytes, () => inMemory((b) => pools[2].hash(b), shared)],
    ['(c) main thread, file pipeline', fileBytes, () => pipeline(values.file, new SlotBuffers(RANGE), (b) => rangeId(b, key))],
    ['(c) pool 1 worker, file pipeline', fileBytes, () => pipeline(values.file, new SlotBuffers(RANGE), (b) => pools[1].hash(b))],
    ['(c) pool 2 workers, file pipeline', fileBytes, () => pipeline(values.file, new SlotBuffers(RANGE), (b) => pools[2].hash(b))],
  ];
  const cases = all.filter(([name]) => !values.only || name.includes(values.only));
  const results = new Map<string, Figure[]>(cases.map(([name]) => [name, []]));
  for (let run = 0; run < Number(values.runs); run++) {
    for (const [name, , fn] of cases) results.get(name)?.push(await timed(fn));
  }
  const med = new Map<string, Figure>();
  for (const [name, bytes] of cases) {
    const figs = results.get(name) ?? [];
    const m = { seconds: median(figs.map((f) => f.seconds)), cpuSeconds: median(figs.map((f) => f.cpuSeconds)) };
    med.set(name, m);
    const runs = figs.map((f) => f.seconds.toFixed(2)).join(' ');
    console.log(`${name.padEnd(36)} ${m.seconds.toFixed(2)} s  ${(bytes / m.seconds / 1e9).toFixed(2)} GB/s  cpu ${m.cpuSeconds.toFixed(2)} s  (runs: ${runs})`);
  }
  const ratio = (pool: string, main: string): string | undefined => {
    const p = med.get(pool);
    const m = med.get(main);
    return p && m ? (p.seconds / m.seconds).toFixed(2) : undefined;
  };
  const ratios = [
    ['in memory, 1 worker', ratio('(b) pool 1 worker, in memory', '(a) main thread, in memory')],
    ['in memory, 2 workers', ratio('(b) pool 2 workers, in memory', '(a) main thread, in memory')],
    ['file pipeline, 1 worker', ratio('(c) pool 1 worker, file pipeline', '(c) main thread, file pipeline')],
    ['file pipeline, 2 workers', ratio('(c) pool 2 workers, file pipeline', '(c) main thread, file pipeline')],
  ].filter(([, r]) => r !== undefined);
  if (ratios.length > 0) console.log(`time, pool / main thread (below 1: the pool is faster): ${ratios.map(([n, r]) => `${n} ${r}`).join(', ')}`);
  await Promise.all([pools[1].close(), pools[2].close()]);
}

await main();
