/**
 * drivesnap's side of the benchmark: the same steps as the peers (full, incremental, cross-drive, restore
 * to new, restore onto a 5%-different target, copy between accounts), each as a real CLI process so wall
 * time and peak RSS include everything a user pays for, from a local file and through the emulator.
 */
import { copyFile, mkdir, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { packagePath } from '../util/package-root.js';
import type { BenchEmulator } from './emulator-process.js';
import { dirSize, measureCommand, settleDisk, warmFiles } from './measure.js';
import type { Workload } from './workload.js';

/** What users run: the launcher, which runs the bundle (scripts/bundle.mjs) built by `npm ci`. */
export const CLI = packagePath('bin', 'drivesnap');

export interface StepResult {
  tool: 'drivesnap';
  via: 'file' | 'emulator' | 'wan';
  step: string;
  wallMs: number;
  /** CPU of the drivesnap process alone (GNU time of the child): the client's share, not the emulator's. */
  userMs: number;
  sysMs: number;
  peakRssBytes: number;
  /** Bytes of drive or image covered by the step (the basis of MB/s). */
  imageBytes: number;
  bytesRead: number;
  bytesWritten: number;
  repoBytes?: number;
  /** Ranges by outcome, from the job's own counts. */
  counts: Record<string, number>;
  /** Emulator write calls and decoded bytes written during the step. */
  apiWrites?: { requests: number; bytes: number };
  /** Emulator read calls and bytes read during the step. */
  apiReads?: { requests: number; bytes: number };
  /** --concurrency of the step when it is not the run's default (the WAN sweep). */
  concurrency?: number;
}

export interface StepContext {
  workload: Workload;
  dir: string;
  concurrency: number;
  log: (line: string) => void;
}

interface JobLine {
  bytesRead?: number;
  bytesWritten?: number;
  counts?: Record<string, number>;
  snapshot?: string;
  event?: string;
}

function parseJobOutput(stdout: string): JobLine {
  const lines = stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as JobLine);
  return lines.findLast((l) => l.event === 'snapshot' || l.event === undefined) ?? lines.at(-1) ?? {};
}

export async function run(env: NodeJS.ProcessEnv, args: string[]) {
  const m = await measureCommand(process.execPath, [CLI, ...args, '--json'], { env });
  return { m, job: parseJobOutput(m.stdout) };
}

export function result(via: StepResult['via'], step: string, imageBytes: number, r: Awaited<ReturnType<typeof run>>, extra: Partial<StepResult> = {}): StepResult {
  return {
    tool: 'drivesnap',
    via,
    step,
    wallMs: r.m.wallMs,
    userMs: r.m.userMs,
    sysMs: r.m.sysMs,
    peakRssBytes: r.m.peakRssBytes,
    imageBytes,
    bytesRead: r.job.bytesRead ?? 0,
    bytesWritten: r.job.bytesWritten ?? 0,
    counts: r.job.counts ?? {},
    ...extra,
  };
}

export function baseEnv(dir: string, repo: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DRIVESNAP_REPO: repo,
    DRIVESNAP_PASSWORD: 'bench-password',
    DRIVESNAP_JOBS_DB: join(dir, 'jobs.sqlite'),
    DRIVESNAP_CONFIG: join(dir, 'accounts.yaml'),
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/** Backups and restores of the image files themselves. */
export async function fileSteps(ctx: StepContext): Promise<StepResult[]> {
  const w = ctx.workload;
  const dir = join(ctx.dir, 'file');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const repo = join(dir, 'repo');
  const env = baseEnv(dir, repo);
  await writeFile(env.DRIVESNAP_CONFIG!, 'accounts: {}\n');
  const c = ['--concurrency', String(ctx.concurrency)];
  const out: StepResult[] = [];
  await measureCommand(process.execPath, [CLI, 'init'], { env });
  const backups = await fileBackups(ctx, env, [
    ['full', w.base],
    ['incremental', w.changed],
    ['relayout', w.relayout],
  ]);
  out.push(...backups.results);
  const snap = backups.snapshots[0]!;
  ctx.log('drivesnap file: restore to a new file');
  const fresh = join(dir, 'restored.img');
  await settleDisk();
  out.push(result('file', 'restore', w.sizeBytes, await run(env, ['restore', snap, '--to', fresh, ...c])));
  await rm(fresh, { force: true });
  ctx.log('drivesnap file: copy to a new file');
  out.push(result('file', 'copy', w.sizeBytes, await run(env, ['copy', w.base, fresh, '--to-new', ...c])));
  await rm(fresh, { force: true });
  ctx.log('drivesnap file: restore onto a 5%-different file');
  const target = join(dir, 'target.img');
  await copyFile(w.changed, target);
  out.push(result('file', 'restore-5%', w.sizeBytes, await run(env, ['restore', snap, '--to', target, ...c])));
  // The repository's other trade-off: level 2 deflates through igzip, 2-3x faster and 9% larger than the default.
  const fastRepo = join(dir, 'repo-level2');
  const fastEnv = { ...env, DRIVESNAP_REPO: fastRepo, DRIVESNAP_JOBS_DB: join(dir, 'jobs-level2.sqlite') };
  await measureCommand(process.execPath, [CLI, 'init', '--compression-level', '2'], { env: fastEnv });
  const level2 = await fileBackups(ctx, fastEnv, [
    ['full-level2', w.base],
    ['incremental-level2', w.changed],
  ]);
  out.push(...level2.results);
  await rm(dir, { recursive: true, force: true });
  return out;
}

/** Backups of image files one after another into the repository `env` names, each from a warm page cache. */
async function fileBackups(ctx: StepContext, env: NodeJS.ProcessEnv, steps: [step: string, image: string][]): Promise<{ results: StepResult[]; snapshots: (string | undefined)[] }> {
  const results: StepResult[] = [];
  const snapshots: (string | undefined)[] = [];
  for (const [step, image] of steps) {
    ctx.log(`drivesnap file: backup ${step}`);
    await warmFiles([image]);
    await settleDisk();
    const r = await run(env, ['backup', image, '--concurrency', String(ctx.concurrency)]);
    results.push(result('file', step, ctx.workload.sizeBytes, r, { repoBytes: await dirSize(env.DRIVESNAP_REPO!, 'apparent') }));
    snapshots.push(r.job.snapshot);
  }
  return { results, snapshots };
}

/** The same through the drive API (the emulator on loopback), plus a copy between two accounts. */
export async function emulatorSteps(ctx: StepContext, emulator: BenchEmulator): Promise<StepResult[]> {
  const w = ctx.workload;
  const dir = join(ctx.dir, 'api');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const repo = join(dir, 'repo');
  const [a, b] = emulator.accounts;
  const env: NodeJS.ProcessEnv = { ...baseEnv(dir, repo), EHURI: emulator.url, EHAUTH: `${a!.user}:${a!.secret}`, BENCH_B_SECRET: b!.secret };
  await writeFile(env.DRIVESNAP_CONFIG!, `accounts:\n  b:\n    url: ${emulator.url}\n    user: ${b!.user}\n    secretEnv: BENCH_B_SECRET\n`);
  const c = ['--concurrency', String(ctx.concurrency)];
  const out: StepResult[] = [];
  const writes = async <T>(fn: () => Promise<T>): Promise<[T, { requests: number; bytes: number }]> => {
    await emulator.resetStats();
    const v = await fn();
    const s = await emulator.stats();
    return [v, { requests: s.writeRequests, bytes: s.writeBytes }];
  };
  ctx.log('drivesnap api: uploading the images to drives');
  for (const [name, image] of [
    ['base', w.base],
    ['changed', w.changed],
    ['relayout', w.relayout],
    ['target', w.changed],
  ] as const) {
    const [r, apiWrites] = await writes(() => run(env, ['copy', image, `eh:${name}`, '--to-new', '--compress', '0', ...c]));
    if (name === 'base') out.push(result('emulator', 'upload', w.sizeBytes, r, { apiWrites }));
  }
  await measureCommand(process.execPath, [CLI, 'init'], { env });
  for (const step of ['full', 'incremental', 'relayout'] as const) {
    const drive = step === 'full' ? 'base' : step === 'incremental' ? 'changed' : 'relayout';
    ctx.log(`drivesnap api: backup ${step}`);
    const r = await run(env, ['backup', `eh:${drive}`, ...c]);
    out.push(result('emulator', step, w.sizeBytes, r, { repoBytes: await dirSize(repo, 'apparent') }));
    if (step === 'full') env.BENCH_BASE_SNAPSHOT = r.job.snapshot;
  }
  const snap = env.BENCH_BASE_SNAPSHOT!;
  ctx.log('drivesnap api: restore to a new drive');
  let [r, apiWrites] = await writes(() => run(env, ['restore', snap, '--to-new', 'eh:restored', ...c]));
  out.push(result('emulator', 'restore', w.sizeBytes, r, { apiWrites }));
  ctx.log('drivesnap api: restore onto a 5%-different drive');
  [r, apiWrites] = await writes(() => run(env, ['restore', snap, '--to', 'eh:target', ...c]));
  out.push(result('emulator', 'restore-5%', w.sizeBytes, r, { apiWrites }));
  ctx.log('drivesnap api: copy to another account');
  [r, apiWrites] = await writes(() => run(env, ['copy', 'eh:base', 'b:base-copy', '--to-new', ...c]));
  out.push(result('emulator', 'copy-accounts', w.sizeBytes, r, { apiWrites }));
  await rm(dir, { recursive: true, force: true });
  return out;
}

/**
 * Backup, restore and copy of a large sparse image: memory must not grow with drive size (compare the peaks
 * with the same steps on the workload image).
 */
export async function sparseSteps(ctx: StepContext, sizeBytes: number): Promise<StepResult[]> {
  const dir = join(ctx.dir, 'sparse');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const image = join(dir, 'sparse.img');
  // Real data at the start, the rest a hole: as a large, mostly empty disk looks.
  await copyFile(ctx.workload.base, image);
  await truncate(image, sizeBytes);
  const env = baseEnv(dir, join(dir, 'repo'));
  await writeFile(env.DRIVESNAP_CONFIG!, 'accounts: {}\n');
  await measureCommand(process.execPath, [CLI, 'init'], { env });
  const c = ['--concurrency', String(ctx.concurrency)];
  const gib = `${sizeBytes / 2 ** 30}GiB`;
  const out: StepResult[] = [];
  try {
    ctx.log(`drivesnap file: backup of a ${gib} sparse image`);
    const backup = await run(env, ['backup', image, ...c]);
    out.push(result('file', `full-sparse-${gib}`, sizeBytes, backup));
    ctx.log(`drivesnap file: restore of the ${gib} sparse snapshot to a new file`);
    out.push(result('file', `restore-sparse-${gib}`, sizeBytes, await run(env, ['restore', backup.job.snapshot!, '--to', join(dir, 'restored.img'), ...c])));
    await rm(join(dir, 'restored.img'), { force: true });
    ctx.log(`drivesnap file: copy of the ${gib} sparse image to a new file`);
    out.push(result('file', `copy-sparse-${gib}`, sizeBytes, await run(env, ['copy', image, join(dir, 'copy.img'), '--to-new', ...c])));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return out;
}

/** Full backup of one image into a fresh repository (the incompressible workload). */
export async function singleBackupStep(ctx: StepContext, image: string, sizeBytes: number, step: string): Promise<StepResult> {
  const dir = join(ctx.dir, 'single');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const repo = join(dir, 'repo');
  const env = baseEnv(dir, repo);
  await writeFile(env.DRIVESNAP_CONFIG!, 'accounts: {}\n');
  try {
    await measureCommand(process.execPath, [CLI, 'init'], { env });
    ctx.log(`drivesnap file: backup ${step}`);
    await warmFiles([image]);
    await settleDisk();
    const r = await run(env, ['backup', image, '--concurrency', String(ctx.concurrency)]);
    return result('file', step, sizeBytes, r, { repoBytes: await dirSize(repo, 'apparent') });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The gzip codec this build compresses chunks with, as `drivesnap benchmark --json` names it. */
export async function chunkCodec(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const m = await measureCommand(process.execPath, [CLI, 'benchmark', '--seconds', '1', '--json'], { env: baseEnv(dir, join(dir, 'none')), allowFailure: true });
  const line = m.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { event?: string; codec?: string })
    .find((l) => l.codec !== undefined);
  return line?.codec ?? `unknown (benchmark exited ${m.exitCode})`;
}
