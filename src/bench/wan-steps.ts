/**
 * The API section under a simulated WAN (issue 11 §4): drivesnap against the emulator (in its own
 * process) with per-request latency and a per-account bandwidth. Throughput of incremental backup,
 * restore to a new drive and drive-to-drive copy as a function of --concurrency; the counter lines of
 * issue 11 (bytes read of an untouched drive, rollback, second copy); and a fleet nightly.
 * Setup steps (uploads, the full backups) run without the WAN: only what a night costs is measured.
 */
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { WanSpec } from '../emulator/index.js';
import { CLI, type StepContext, type StepResult, baseEnv, result, run } from './drivesnap-steps.js';
import type { BenchEmulator } from './emulator-process.js';
import type { Fleet } from './fleet.js';
import { measureCommand } from './measure.js';

export interface WanOptions {
  wan: WanSpec;
  concurrencies: number[];
}

type Io = { apiReads: { requests: number; bytes: number }; apiWrites: { requests: number; bytes: number } };

async function setup(ctx: StepContext, emulator: BenchEmulator, name: string) {
  const dir = join(ctx.dir, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const [a] = emulator.accounts;
  const env: NodeJS.ProcessEnv = { ...baseEnv(dir, join(dir, 'repo')), EHURI: emulator.url, EHAUTH: `${a!.user}:${a!.secret}` };
  await writeFile(env.DRIVESNAP_CONFIG!, 'accounts: {}\n');
  await measureCommand(process.execPath, [CLI, 'init'], { env });
  const io = async <T>(fn: () => Promise<T>): Promise<[T, Io]> => {
    await emulator.resetStats();
    const v = await fn();
    const s = await emulator.stats();
    return [v, { apiReads: { requests: s.readRequests, bytes: s.readBytes }, apiWrites: { requests: s.writeRequests, bytes: s.writeBytes } }];
  };
  return { dir, env, io };
}

/** Sweep and counter lines on the workload's images; the emulator starts and ends with no WAN. */
export async function wanSteps(ctx: StepContext, emulator: BenchEmulator, opts: WanOptions): Promise<StepResult[]> {
  const w = ctx.workload;
  const { dir, env, io } = await setup(ctx, emulator, 'wan');
  const c = (n: number) => ['--concurrency', String(n)];
  const out: StepResult[] = [];
  const step = async (name: string, n: number, args: string[]) => {
    ctx.log(`drivesnap wan: ${name} at --concurrency ${n}`);
    const [r, counts] = await io(() => run(env, [...args, ...c(n)]));
    out.push(result('wan', name, w.sizeBytes, r, { ...counts, concurrency: n }));
    return r;
  };
  try {
    ctx.log('drivesnap wan: setup (no WAN): upload and full backup');
    await run(env, ['copy', w.base, 'eh:wan', '--to-new', '--compress', '0', ...c(ctx.concurrency)]);
    const full = await run(env, ['backup', 'eh:wan', ...c(ctx.concurrency)]);
    const s1 = full.job.snapshot!;
    await emulator.setWan(opts.wan);
    await step('incremental-untouched', ctx.concurrency, ['backup', 'eh:wan']);
    for (const n of opts.concurrencies) {
      // --read-all: the drive is untouched, so without it the backup is the sample check alone (the line above).
      await step('incremental', n, ['backup', 'eh:wan', '--read-all']);
      await step('restore-new', n, ['restore', s1, '--to-new', `eh:restored-${n}`]);
      await step('copy', n, ['copy', 'eh:wan', `eh:copy-${n}`, '--to-new']);
    }
    // The day's writes (5% of blocks) land on the drive, then the night's backup.
    await emulator.setWan(undefined);
    await run(env, ['copy', w.changed, 'eh:wan', ...c(ctx.concurrency)]);
    await emulator.setWan(opts.wan);
    await step('incremental-5%', ctx.concurrency, ['backup', 'eh:wan']);
    const copyOf = `eh:copy-${opts.concurrencies.includes(ctx.concurrency) ? ctx.concurrency : opts.concurrencies[0]}`;
    await step('copy-again-5%', ctx.concurrency, ['copy', 'eh:wan', copyOf]);
    await step('rollback-5%', ctx.concurrency, ['restore', s1, '--to', 'eh:wan']);
  } finally {
    await emulator.setWan(undefined);
    await rm(dir, { recursive: true, force: true });
  }
  return out;
}

/**
 * The fleet nightly: full backups of all drives (no WAN), the day's writes on the first few, then under
 * the WAN the night's backup as one `backup` command with every drive, and (into a second repository
 * with the same full) as one command per drive, one after another.
 */
export async function fleetSteps(ctx: StepContext, emulator: BenchEmulator, fleet: Fleet, wan: WanSpec): Promise<StepResult[]> {
  await resetFleetFiles(fleet); // an interrupted run may have left the day's writes in place
  const { dir, env, io } = await setup(ctx, emulator, 'fleet');
  const seqEnv: NodeJS.ProcessEnv = { ...env, DRIVESNAP_REPO: join(dir, 'repo-seq'), DRIVESNAP_JOBS_DB: join(dir, 'jobs-seq.sqlite') };
  await measureCommand(process.execPath, [CLI, 'init'], { env: seqEnv });
  const c = ['--concurrency', String(ctx.concurrency)];
  const names = fleet.drives.map((_, i) => `eh:fleet-${i}`);
  const total = fleet.sizeBytes * fleet.drives.length;
  const out: StepResult[] = [];
  try {
    ctx.log(`drivesnap fleet: setup (no WAN): upload ${names.length} drives, full backups into two repositories`);
    for (const [i, image] of fleet.drives.entries()) await run(env, ['copy', image, names[i]!, '--to-new', '--compress', '0', ...c]);
    const [full, fullIo] = await io(() => run(env, ['backup', ...names, ...c]));
    out.push(result('emulator', 'fleet-full', total, full, fullIo));
    for (const name of names) await run(seqEnv, ['backup', name, ...c]);
    for (const [i, image] of fleet.changed.entries()) await run(env, ['copy', image, names[i]!, ...c]);
    await emulator.setWan(wan);
    ctx.log('drivesnap fleet: nightly, one command');
    const [nightly, nightlyIo] = await io(() => run(env, ['backup', ...names, ...c]));
    out.push(result('wan', 'fleet-nightly', total, nightly, nightlyIo));
    // The baselines: one command per drive, trusting the counters; and as the issue measured it before
    // counters were used, every drive read in full (--read-all).
    for (const [step, extra] of [
      ['fleet-nightly-sequential', []],
      ['fleet-nightly-sequential-read-all', ['--read-all']],
    ] as const) {
      ctx.log(`drivesnap fleet: nightly, one command per drive${extra.length ? ' reading all' : ''}`);
      const [seq, seqIo] = await io(async () => {
        const runs = [];
        for (const name of names) runs.push(await run(seqEnv, ['backup', name, ...extra, ...c]));
        return runs;
      });
      const sum = (f: (r: (typeof seq)[number]) => number) => seq.reduce((a, r) => a + f(r), 0);
      out.push({
        ...result('wan', step, total, seq[0]!, seqIo),
        wallMs: sum((r) => r.m.wallMs),
        userMs: sum((r) => r.m.userMs),
        sysMs: sum((r) => r.m.sysMs),
        peakRssBytes: Math.max(...seq.map((r) => r.m.peakRssBytes)),
        bytesRead: sum((r) => r.job.bytesRead ?? 0),
        bytesWritten: sum((r) => r.job.bytesWritten ?? 0),
        counts: {},
      });
    }
  } finally {
    await emulator.setWan(undefined);
    await rm(dir, { recursive: true, force: true });
  }
  return out;
}

/** Puts the fleet's files in their state at the full backup (the peers change them in place). */
export async function resetFleetFiles(fleet: Fleet): Promise<void> {
  for (const [i, original] of fleet.originals.entries()) await copyFile(original, fleet.drives[i]!);
}

/** The day's writes, on the files. */
export async function changeFleetFiles(fleet: Fleet): Promise<void> {
  for (const [i, changed] of fleet.changed.entries()) await copyFile(changed, fleet.drives[i]!);
}
