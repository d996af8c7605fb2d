/**
 * `npm run bench`: builds the workloads (2 GiB ext4 images of real files, 1 GiB of random data, a fleet of
 * drives), runs drivesnap's steps from local files and through the emulator (in a child process), the
 * peers (borg, restic) where installed, the codec primitives, and a section under a simulated WAN, all in
 * one run, side by side; writes medians, ratios and the issues' targets to docs/benchmarks.md.
 *   npm run bench -- --trials 3 --size-mib 2048 --sparse-gib 64 --no-peers --out docs/benchmarks.md
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseBandwidth } from '../emulator/index.js';
import { codecBenchmarks } from './codecs.js';
import { type StepResult, chunkCodec, emulatorSteps, fileSteps, singleBackupStep, sparseSteps } from './drivesnap-steps.js';
import { type BenchEmulator, startEmulatorProcess } from './emulator-process.js';
import { buildFleet } from './fleet.js';
import { median } from './measure.js';
import { runPeerArchives } from './peer-archives.js';
import { type PeerResult, detectPeers, runPeerBenchmarks } from './peers.js';
import { buildRandomImage } from './random-image.js';
import { renderReport } from './report.js';
import { changeFleetFiles, fleetSteps, resetFleetFiles, wanSteps } from './wan-steps.js';
import { buildWorkload } from './workload.js';

const MiB = 1024 * 1024;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      trials: { type: 'string', default: '1' },
      'size-mib': { type: 'string', default: '2048' },
      'sparse-gib': { type: 'string', default: '64' },
      concurrency: { type: 'string', default: '8' },
      dir: { type: 'string', default: join(tmpdir(), 'drivesnap-bench') },
      out: { type: 'string', default: 'docs/benchmarks.md' },
      peers: { type: 'boolean', default: true },
      'no-peers': { type: 'boolean', default: false },
      'random-mib': { type: 'string', default: '1024' },
      wan: { type: 'boolean', default: true },
      'no-wan': { type: 'boolean', default: false },
      'wan-latency-ms': { type: 'string', default: '30' },
      'wan-bandwidth': { type: 'string', default: '1Gbit' },
      'wan-concurrency': { type: 'string', default: '4,8,16,32' },
      'fleet-drives': { type: 'string', default: '20' },
      'fleet-size-mib': { type: 'string', default: '512' },
      'fleet-changed': { type: 'string', default: '2' },
    },
  });
  const wan = { latencyMs: Number(values['wan-latency-ms']), bandwidthBytesPerSec: parseBandwidth('--wan-bandwidth', values['wan-bandwidth']) };
  if (!(wan.latencyMs >= 0)) throw new Error('--wan-latency-ms takes milliseconds, e.g. 30');
  const wanConcurrencies = values['wan-concurrency'].split(',').map(Number);
  if (wanConcurrencies.some((n) => !(Number.isInteger(n) && n > 0))) throw new Error('--wan-concurrency takes positive integers separated by commas, e.g. 4,8,16,32');
  const fleetSizeBytes = Number(values['fleet-size-mib']) * MiB;
  if (fleetSizeBytes > Number(values['size-mib']) * MiB) throw new Error('--fleet-size-mib must not exceed --size-mib (fleet drives are cut from the base image)');
  const randomBytes = Number(values['random-mib']) * MiB;
  const trials = Number(values.trials);
  const concurrency = Number(values.concurrency);
  const log = (l: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${l}\n`);
  const startedLoad = loadavg()[0]!;
  const workload = await buildWorkload(join(values.dir, 'workload'), { sizeBytes: Number(values['size-mib']) * MiB, log });
  log(`workload ready: ${workload.base}, ${workload.changedBlocks.length} changed blocks`);
  const ctx = { workload, dir: values.dir, concurrency, log };

  const randomImage = await buildRandomImage(join(values.dir, 'workload'), randomBytes, log);
  const codec = await chunkCodec(join(values.dir, 'codec'));
  log(`chunk codec: ${codec}`);
  const codecs = await codecBenchmarks(workload.base, log);
  const steps: StepResult[] = [];
  const peers: PeerResult[] = [];
  const runPeers = values.peers && !values['no-peers'];
  const peerVersions = runPeers ? await detectPeers() : {};
  // A fresh emulator data directory for each use, removed afterwards: each trial creates six drives.
  const withEmulator = async <T>(fn: (e: BenchEmulator) => Promise<T>): Promise<T> => {
    const emulatorDir = join(values.dir, 'emulator');
    await rm(emulatorDir, { recursive: true, force: true });
    const emulator = await startEmulatorProcess(emulatorDir);
    try {
      return await fn(emulator);
    } finally {
      await emulator.close();
      await rm(emulatorDir, { recursive: true, force: true });
    }
  };
  for (let t = 0; t < trials; t++) {
    log(`trial ${t + 1}/${trials}`);
    steps.push(...(await fileSteps(ctx)));
    steps.push(await singleBackupStep(ctx, randomImage, randomBytes, 'full-incompressible'));
    steps.push(...(await withEmulator((e) => emulatorSteps(ctx, e))));
    if (runPeers) {
      peers.push(...(await runPeerBenchmarks(workload, join(values.dir, 'peers'), { log })));
      const plan = [{ step: 'full-incompressible' as const, files: [randomImage], imageBytes: randomBytes }];
      peers.push(...(await runPeerArchives(peerVersions, join(values.dir, 'peers'), plan, log)));
    }
  }
  steps.push(...(await sparseSteps(ctx, Number(values['sparse-gib']) * 1024 * MiB)));
  if (values.wan && !values['no-wan']) {
    // Once per run, not per trial: the WAN paces these steps, so they vary little and cost the most time.
    const fleet = await buildFleet(join(values.dir, 'workload', 'fleet'), workload.base, Number(values['fleet-drives']), fleetSizeBytes, Number(values['fleet-changed']), log);
    steps.push(...(await withEmulator((e) => wanSteps(ctx, e, { wan, concurrencies: wanConcurrencies }))));
    steps.push(...(await withEmulator((e) => fleetSteps(ctx, e, fleet, wan))));
    if (runPeers) {
      const total = fleet.sizeBytes * fleet.drives.length;
      const plan = [
        { step: 'fleet-full' as const, files: fleet.drives, imageBytes: total },
        { step: 'fleet-nightly' as const, files: fleet.drives, imageBytes: total, before: () => changeFleetFiles(fleet) },
      ];
      peers.push(...(await runPeerArchives(peerVersions, join(values.dir, 'peers'), plan, log, () => resetFleetFiles(fleet))));
    }
  }

  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const report = renderReport({
    date: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine: `${cpus().length} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node.js ${process.version}, load average ${startedLoad.toFixed(2)} at start`,
    peerVersions,
    codec,
    wan,
    trials,
    workload,
    steps,
    peers,
    codecs,
    median,
  });
  const previous = await readFile(values.out, 'utf8').catch(() => '');
  const marker = '<!-- bench:results -->';
  const head = previous.includes(marker) ? previous.slice(0, previous.indexOf(marker)) : '# Benchmarks\n\n';
  await writeFile(values.out, `${head}${marker}\n${report}`);
  log(`wrote ${values.out}`);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
