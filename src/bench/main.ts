/**
 * `npm run bench`: builds the workload (2 GiB ext4 images of real files), runs drivesnap's steps from local
 * files and through the emulator, the peers (borg, restic) where installed, and the codec primitives, all
 * in one run, side by side; writes medians and ratios to docs/benchmarks.md with the machine and command.
 *   npm run bench -- --trials 3 --size-mib 2048 --sparse-gib 64 --no-peers --out docs/benchmarks.md
 */
import '../util/threadpool.js';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startEmulator } from '../emulator/index.js';
import { codecBenchmarks } from './codecs.js';
import { type StepResult, emulatorSteps, fileSteps, sparseStep } from './drivesnap-steps.js';
import { median } from './measure.js';
import { type PeerResult, detectPeers, runPeerBenchmarks } from './peers.js';
import { renderReport } from './report.js';
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
    },
  });
  const trials = Number(values.trials);
  const concurrency = Number(values.concurrency);
  const log = (l: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${l}\n`);
  const startedLoad = loadavg()[0]!;
  const workload = await buildWorkload(join(values.dir, 'workload'), { sizeBytes: Number(values['size-mib']) * MiB, log });
  log(`workload ready: ${workload.base}, ${workload.changedBlocks.length} changed blocks`);
  const ctx = { workload, dir: values.dir, concurrency, log };

  const codecs = await codecBenchmarks(workload.base, log);
  const steps: StepResult[] = [];
  const peers: PeerResult[] = [];
  const runPeers = values.peers && !values['no-peers'];
  for (let t = 0; t < trials; t++) {
    log(`trial ${t + 1}/${trials}`);
    steps.push(...(await fileSteps(ctx)));
    // A fresh data directory per trial, removed afterwards: each trial creates six 2 GiB drives.
    const emulatorDir = join(values.dir, 'emulator');
    await rm(emulatorDir, { recursive: true, force: true });
    const emulator = await startEmulator({
      dataDir: emulatorDir,
      accounts: [
        { user: crypto.randomUUID(), secret: crypto.randomUUID() },
        { user: crypto.randomUUID(), secret: crypto.randomUUID() },
      ],
    });
    try {
      steps.push(...(await emulatorSteps(ctx, emulator)));
    } finally {
      await emulator.close();
      await rm(emulatorDir, { recursive: true, force: true });
    }
    if (runPeers) peers.push(...(await runPeerBenchmarks(workload, join(values.dir, 'peers'), { log })));
  }
  steps.push(await sparseStep(ctx, Number(values['sparse-gib']) * 1024 * MiB));

  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const report = renderReport({
    date: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine: `${cpus().length} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node.js ${process.version}, load average ${startedLoad.toFixed(2)} at start`,
    peerVersions: await detectPeers(),
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
