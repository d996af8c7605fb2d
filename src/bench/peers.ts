/**
 * The same workload through borg and restic, for comparison with drivesnap's figures.
 *
 * Both tools read the image as a regular local file (borg's --read-special is only for devices), so
 * they are spared the HTTP range reads drivesnap does against the drive API; their numbers are a
 * best case for them. Peers absent from the machine are skipped: CI never has them.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { dirSize, mbPerSec, measureCommand, type ProcessMeasure, settleDisk, warmFiles } from './measure.js';
import type { Workload } from './workload.js';

export type PeerTool = 'borg' | 'restic';
export type PeerStep =
  | 'init'
  | 'full'
  | 'incremental'
  | 'relayout'
  | 'restore'
  | 'restore-durable'
  | 'full-incompressible'
  | 'fleet-full'
  | 'fleet-nightly';

export interface PeerVersions {
  borg?: string;
  restic?: string;
}

export interface PeerResult {
  tool: PeerTool;
  /** Tool settings that tell results apart: borg's compression, restic's repository format. */
  variant: string;
  version: string;
  step: PeerStep;
  trial: number;
  wallMs: number;
  userMs: number;
  sysMs: number;
  peakRssBytes: number;
  /** Image bytes read (backup) or written (restore); basis of mbPerSec. 0 for init. */
  imageBytes: number;
  /** MB/s (10^6 bytes) of image. */
  mbPerSec: number;
  /** Apparent size (du -sb) of the repository after this step, for backup steps. */
  repoBytes?: number;
  /** Restore only: whether the restored image matched `base` byte for byte (undefined if not checked). */
  verified?: boolean;
}

export interface PeerOptions {
  /** Which peers to run (default: every one detected). */
  tools?: PeerTool[];
  /** Borg compressions, one repository each. */
  borgCompressions?: string[];
  /** Password for restic's always-on encryption; default $RESTIC_PASSWORD or a fixed bench one. */
  resticPassword?: string;
  /** Hash the restored image against base (costs two reads of the image); default true. */
  verifyRestore?: boolean;
  /** Fresh-repository repetitions of the whole sequence, for medians; default 1. */
  trials?: number;
  /** Keep repositories after the run (for inspection); default false. */
  keep?: boolean;
  log?: (line: string) => void;
}

/** Versions of the peers installed here, probed by running them. */
export async function detectPeers(): Promise<PeerVersions> {
  const probe = (cmd: string, args: string[], re: RegExp): string | undefined => {
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 15_000 });
    if (r.error || r.status !== 0) return undefined;
    return re.exec(`${r.stdout}${r.stderr}`)?.[1];
  };
  const versions: PeerVersions = {};
  const borg = probe('borg', ['--version'], /borg\s+(\S+)/);
  const restic = probe('restic', ['version'], /restic\s+(\S+)/);
  if (borg) versions.borg = borg;
  if (restic) versions.restic = restic;
  return versions;
}

/** Runs init, full, incremental, relayout and restore for each peer present; returns one row per step. */
export async function runPeerBenchmarks(workload: Workload, workDir: string, opts: PeerOptions = {}): Promise<PeerResult[]> {
  const versions = await detectPeers();
  const wanted = opts.tools ?? (['borg', 'restic'] as PeerTool[]);
  const log = opts.log ?? (() => {});
  const results: PeerResult[] = [];
  const ctx: Ctx = { workload, log, verify: opts.verifyRestore ?? true, baseHash: undefined };
  await mkdir(workDir, { recursive: true });
  for (let trial = 0; trial < (opts.trials ?? 1); trial++) {
    for (const tool of wanted) {
      const version = versions[tool];
      if (!version) {
        log(`peers: ${tool} not installed, skipped`);
        continue;
      }
      if (tool === 'borg') {
        for (const compression of opts.borgCompressions ?? ['zstd,3', 'lz4']) {
          const dir = join(workDir, `borg-${compression.replace(/\W/g, '')}-${trial}`);
          results.push(...(await withDir(dir, opts.keep, () => runBorg(ctx, dir, compression, version, trial))));
        }
      } else {
        const dir = join(workDir, `restic-${trial}`);
        const password = opts.resticPassword ?? process.env.RESTIC_PASSWORD ?? 'drivesnap-bench';
        results.push(...(await withDir(dir, opts.keep, () => runRestic(ctx, dir, password, version, trial))));
      }
    }
  }
  return results;
}

interface Ctx {
  workload: Workload;
  log: (line: string) => void;
  verify: boolean;
  baseHash: string | undefined;
}

async function withDir<T>(dir: string, keep: boolean | undefined, fn: () => Promise<T>): Promise<T> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  try {
    return await fn();
  } finally {
    if (!keep) await rm(dir, { recursive: true, force: true });
  }
}

/** The backups in the order a user would make them: full, then incremental, then another drive. */
function backupSteps(w: Workload): { step: PeerStep; image: string }[] {
  return [
    { step: 'full', image: w.base },
    { step: 'incremental', image: w.changed },
    { step: 'relayout', image: w.relayout },
  ];
}

async function runBorg(ctx: Ctx, dir: string, compression: string, version: string, trial: number): Promise<PeerResult[]> {
  const repo = join(dir, 'repo');
  const env = borgEnv(dir);
  const row = rowMaker('borg', compression, version, trial, ctx.workload.sizeBytes);
  const out: PeerResult[] = [];
  ctx.log(`peers: borg ${compression}: init`);
  out.push(row('init', await measureCommand('borg', ['init', '-e', 'none', repo], { env }), 0));
  for (const { step, image } of backupSteps(ctx.workload)) {
    ctx.log(`peers: borg ${compression}: ${step}`);
    // Relative path from the image's directory so the archive holds just the file name.
    const args = ['create', '--chunker-params', 'fixed,4194304', '--compression', compression, `${repo}::${step}`, basename(image)];
    await warmFiles([image]);
    await settleDisk();
    const m = await measureCommand('borg', args, { env, cwd: dirname(image) });
    out.push({ ...row(step, m), repoBytes: await dirSize(repo) });
  }
  ctx.log(`peers: borg ${compression}: restore`);
  const target = join(dir, 'restore');
  await mkdir(target, { recursive: true });
  const name = basename(ctx.workload.base);
  await settleDisk();
  const m = await measureCommand('borg', ['extract', `${repo}::full`, name], { env, cwd: target });
  out.push(row('restore', m), row('restore-durable', await durable(m, join(target, name))));
  out.at(-1)!.verified = (await verify(ctx, join(target, name))).verified;
  return out;
}

async function runRestic(ctx: Ctx, dir: string, password: string, version: string, trial: number): Promise<PeerResult[]> {
  const repo = join(dir, 'repo');
  const env = resticEnv(dir, password);
  const init = await measureCommand('restic', ['init'], { env });
  // The variant names the repository format: v2 compresses (zstd, "auto"), v1 does not.
  const format = /"version":\s*(\d+)/.exec((await measureCommand('restic', ['cat', 'config'], { env })).stdout)?.[1];
  const row = rowMaker('restic', `repo-v${format ?? '?'}`, version, trial, ctx.workload.sizeBytes);
  const out: PeerResult[] = [row('init', init, 0)];
  for (const { step, image } of backupSteps(ctx.workload)) {
    ctx.log(`peers: restic: ${step}`);
    const args = ['backup', '--quiet', '--host', 'drivesnap-bench', '--tag', step, basename(image)];
    await warmFiles([image]);
    await settleDisk();
    const m = await measureCommand('restic', args, { env, cwd: dirname(image) });
    out.push({ ...row(step, m), repoBytes: await dirSize(repo) });
  }
  ctx.log('peers: restic: restore');
  const target = join(dir, 'restore');
  const args = ['restore', 'latest', '--host', 'drivesnap-bench', '--tag', 'full', '--target', target];
  await settleDisk();
  const m = await measureCommand('restic', args, { env });
  // Backed up by a relative name, the file sits at the snapshot's root: <target>/base.img.
  const restored = join(target, basename(ctx.workload.base));
  out.push(row('restore', m), row('restore-durable', await durable(m, restored)));
  out.at(-1)!.verified = (await verify(ctx, restored)).verified;
  return out;
}

export function borgEnv(dir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    // Keeps borg's cache, config, keys and security dirs inside the bench dir, not in ~.
    BORG_BASE_DIR: join(dir, 'home'),
    BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'yes',
    BORG_RELOCATED_REPO_ACCESS_IS_OK: 'yes',
    BORG_PASSPHRASE: '',
  };
}

export function resticEnv(dir: string, password = process.env.RESTIC_PASSWORD ?? 'drivesnap-bench'): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, RESTIC_REPOSITORY: join(dir, 'repo'), RESTIC_PASSWORD: password, RESTIC_CACHE_DIR: join(dir, 'cache') };
  // A password file or command in the caller's environment would override ours or prompt.
  delete env.RESTIC_PASSWORD_FILE;
  delete env.RESTIC_PASSWORD_COMMAND;
  return env;
}

/**
 * The restore made durable as drivesnap's is: the peer's extract, then `sync -f` of the restored file,
 * timed together (the peers do not fsync what they write).
 */
async function durable(extract: ProcessMeasure, file: string): Promise<ProcessMeasure> {
  const s = await measureCommand('sync', ['-f', file]);
  return {
    ...extract,
    wallMs: extract.wallMs + s.wallMs,
    userMs: extract.userMs + s.userMs,
    sysMs: extract.sysMs + s.sysMs,
    peakRssBytes: Math.max(extract.peakRssBytes, s.peakRssBytes),
  };
}

export function rowMaker(tool: PeerTool, variant: string, version: string, trial: number, imageSize: number) {
  return (step: PeerStep, m: ProcessMeasure, imageBytes = imageSize): PeerResult => ({
    tool,
    variant,
    version,
    step,
    trial,
    wallMs: Math.round(m.wallMs),
    userMs: m.userMs,
    sysMs: m.sysMs,
    peakRssBytes: m.peakRssBytes,
    imageBytes,
    mbPerSec: Math.round(mbPerSec(imageBytes, m.wallMs) * 10) / 10,
  });
}

/** Checks a restored image against base, then deletes it (2 GiB per peer adds up). */
async function verify(ctx: Ctx, restored: string): Promise<{ verified?: boolean }> {
  try {
    if (!ctx.verify) return {};
    ctx.baseHash ??= await sha256File(ctx.workload.base);
    return { verified: (await sha256File(restored)) === ctx.baseHash };
  } catch {
    return { verified: false }; // nothing restored where the tool should have put it
  } finally {
    await rm(restored, { force: true });
  }
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })
      .on('data', (d) => hash.update(d))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}
