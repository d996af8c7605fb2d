/**
 * One-off measurement of the gzip codecs (not a test; run by hand, nothing else running):
 *   npx tsx test/codec/measure-gzip.ts IMAGE [runs=3] [blocks=64] [encode-only|codecs-only|levels]
 * IMAGE is a drive image such as the bench workload's base.img (src/bench/workload.ts). Reports, as medians
 * of the runs: gzip and gunzip MB/s on one thread and the ratio for node:zlib and ISA-L at levels 1..3 on
 * the image's non-zero 4 MiB blocks and on random blocks; the chunk encode path (8 in flight) on 1 GiB of
 * random data and the stored ratio on the image, previous path against sampled. `levels`: only the
 * addon's deflaters on the image's blocks, igzip at 1..3 and libdeflate (when built in) at 1..9.
 */
import { randomBytes } from 'node:crypto';
import { type CodecLevels, defaultCodecLevels, encodePathFigure, encodeStrategies, type GzipFigure, gzipCodecFigures, sampleChunks } from '../../src/bench/codecs.js';
import { median } from '../../src/bench/measure.js';
import { newConfig } from '../../src/repo/format/index.js';

const [image, runsArg, blocksArg, only] = process.argv.slice(2);
if (!image) throw new Error('usage: measure-gzip.ts IMAGE [runs] [blocks]');
const runs = Number(runsArg ?? 3);
const MiB = 1024 * 1024;
const workload = await sampleChunks(image, Number(blocksArg ?? 64));
const random = Array.from({ length: 16 }, () => randomBytes(4 * MiB));
const level = newConfig({ encrypted: false }).compression.level;

async function codecTable(name: string, blocks: Buffer[], codecs?: CodecLevels[]): Promise<void> {
  const all: GzipFigure[][] = [];
  for (let r = 0; r < runs; r++) all.push(await gzipCodecFigures(blocks, codecs));
  console.log(`\n${name}: ${blocks.length} x 4 MiB, one thread, medians of ${runs}`);
  console.log('| codec | level | gzip MB/s | gunzip MB/s | ratio | compressed MiB |\n|---|---|---|---|---|---|');
  const bytes = blocks.reduce((n, b) => n + b.length, 0);
  all[0]!.forEach((f, i) => {
    const m = (k: 'gzipMBs' | 'gunzipMBs' | 'ratio') => median(all.map((run) => run[i]![k]));
    const mib = bytes / m('ratio') / MiB;
    console.log(`| ${f.codec} | ${f.level} | ${m('gzipMBs').toFixed(0)} | ${m('gunzipMBs').toFixed(0)} | ${m('ratio').toFixed(4)} | ${mib.toFixed(1)} |`);
  });
}

async function encodeTable(name: string, blocks: Buffer[], rounds: number): Promise<void> {
  console.log(`\nchunk encode path, ${name}: ${((blocks.length * rounds * 4) / 1024).toFixed(2)} GiB, 8 in flight, medians of ${runs}`);
  console.log('| path | MB/s | stored ratio |\n|---|---|---|');
  for (const [label, decide] of encodeStrategies(level)) {
    const figures = [];
    for (let r = 0; r < runs; r++) figures.push(await encodePathFigure(blocks, decide, rounds));
    console.log(`| ${label} | ${median(figures.map((f) => f.mbPerSec)).toFixed(0)} | ${median(figures.map((f) => f.ratio)).toFixed(4)} |`);
  }
}

if (only === 'levels') {
  await codecTable('workload blocks', workload, defaultCodecLevels([1, 2, 3, 4, 5, 6, 7, 8, 9]).slice(1));
} else if (only !== 'encode-only') {
  await codecTable('workload blocks', workload);
  await codecTable('random blocks', random.slice(0, 8));
}
if (only !== 'codecs-only' && only !== 'levels') {
  await encodeTable('random data', random, 16);
  await encodeTable('workload blocks', workload, 1);
}
