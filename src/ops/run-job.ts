/**
 * `drivesnap run JOBFILE`: one pass of a job file (docs/jobfile.md): back up every selected drive, apply
 * the retention policy to the drives backed up, and prune / check when their cadence is due. The backups
 * go through the one orchestrator (./backup-orchestrator.ts), as `backup` does. Last runs of prune and
 * check are the repository's local settings on this host (losing the index only makes them due again,
 * which is safe).
 *
 * Several hosts can share one repository with `shard` (`run --shard K/N`, ./shard.ts): host K backs up
 * the drives whose UUID hashes to K (a selection that failed is reported by every host, since none can
 * tell whose drives it held). Retention only ever thins the drives this pass backed up, so shards never
 * forget each other's snapshots. Prune and check run on shard 1 only: the locks would keep two prunes
 * apart anyway (prune takes the exclusive lock, and is skipped while another host backs up), but N hosts
 * racing for it, and N checks reading the same data, buy nothing.
 *
 * Outcome (./backup-plan.ts, runExitCode): 0 all drives backed up; 3 some failed, some succeeded; 1 all
 * failed, or check found problems (a damaged repository must page someone). A failed prune makes an
 * otherwise clean run 3. Stopped by the signal: no prune or check starts, and the run ends INTERRUPTED.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { passwordFromEnv } from '../config/env.js';
import { DEFAULT_CONCURRENCY } from '../engine/defaults.js';
import type { Progress } from '../engine/progress.js';
import { DrivesnapError, ExitCode, errorMessage, exitCodeOf } from '../errors.js';
import { RepoLockedError } from '../repo/locks.js';
import { Repository } from '../repo/repository.js';
import { openStore, parseRepositoryLocation } from '../store/open.js';
import { checkRepository } from './check.js';
import { isDue } from './cadence.js';
import { forget } from './forget.js';
import { type JobFile, loadJobFile } from './jobfile.js';
import { prune } from './prune.js';
import { type BackupEvent, type BackupOutcome, backupAll, DEFAULT_PARALLEL_DRIVES, throwIfStopped } from './backup-orchestrator.js';
import { runExitCode } from './backup-plan.js';
import type { AccountClients } from './resolve-drive.js';
import { type RunTarget, selectDrives, targetItems } from './run-select.js';
import { inShard, type Shard } from './shard.js';
import type { DrivePass, PassOutcome } from './run-status.js';
import { reportPass } from './run-status-writer.js';

export const LAST_PRUNE_KEY = 'run:last-prune';
export const LAST_CHECK_KEY = 'run:last-check';
/** How long a drive waits for another host's exclusive lock (its forget or prune) before it fails. */
export const RUN_LOCK_WAIT_MS = 120_000;

export type RunEvent = Record<string, unknown> & { event: string };

/** What the caller provides: the API clients and where the index of a repository lives (src/cli). */
export interface RunJobEnv {
  /** The accounts' API clients for `connections` requests at once; closed when the run ends. */
  openClients: (connections: number) => AccountClients & { close(): Promise<void> };
  /** The index file of the repository at `location`, by repository id. */
  indexPathFor: (location: string) => (repoId: string) => string;
}

export interface RunJobOptions extends RunJobEnv {
  /** Called for every step: the backups' events (./backup-orchestrator.ts), forget, prune, check, summary. */
  onEvent?: (e: RunEvent | BackupEvent) => void;
  now?: () => Date;
  /** The stop signal: no new drive or range starts; the run ends with INTERRUPTED. */
  signal?: AbortSignal;
  /** `run --read-all`: read every drive in full this pass. */
  readAll?: boolean;
  /** `run --drives N`: drives backed up at once (else the job file's parallelDrives, else 4). */
  drives?: number;
  /** `run --shard K/N`: this host backs up its share of the drives only. */
  shard?: Shard;
  /** A progress display per drive backed up (src/cli/progress-view.ts). */
  progress?: (label: string) => { update(p: Progress): void; stop(): void };
}

export interface RunSummary {
  drives: { location: string; ok: boolean; snapshot?: string; error?: { code: string; message: string } }[];
  forgotten: number;
  pruned?: { deleted: number; freedBytes: number } | { skipped: string };
  checked?: { problems: number };
  /** `K/N` when the pass backed up one shard of the drives. */
  shard?: string;
  exitCode: number;
}

export async function loadJob(path: string): Promise<JobFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new DrivesnapError('JOBFILE_UNREADABLE', `cannot read the job file ${path}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`);
  }
  return loadJobFile(text, path);
}

/** The password the job file names: its file (relative to the job file), its variable, or DRIVESNAP_PASSWORD. */
async function jobPassword(job: JobFile, jobDir: string): Promise<string | undefined> {
  const { passwordFile, passwordEnv } = job.repository;
  if (passwordFile !== undefined) {
    const path = isAbsolute(passwordFile) ? passwordFile : resolve(jobDir, passwordFile);
    try {
      return (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
    } catch {
      throw new DrivesnapError('PASSWORD_FILE', `cannot read the password file ${path} the job file names`);
    }
  }
  const name = passwordEnv ?? 'DRIVESNAP_PASSWORD';
  const value = passwordFromEnv(name);
  if (passwordEnv !== undefined && value === undefined) {
    throw new DrivesnapError('PASSWORD_ENV', `the job file takes the password from ${name}, which is not set`);
  }
  return value;
}

/** A relative local repository is relative to the job file, not to wherever cron starts us. */
function repoLocation(job: JobFile, jobDir: string): string {
  const loc = parseRepositoryLocation(job.repository.location, jobDir);
  return loc.kind === 'local' ? loc.dir : job.repository.location;
}

export async function openJobRepository(job: JobFile, jobPath: string, indexPathFor: RunJobEnv['indexPathFor']): Promise<Repository> {
  const jobDir = dirname(resolve(jobPath));
  const location = repoLocation(job, jobDir);
  const password = await jobPassword(job, jobDir);
  const store = openStore(location, { endpoint: job.repository.s3Endpoint, uploadBytesPerSecond: job.bandwidthLimit });
  try {
    return await Repository.open(store, { password, indexPath: indexPathFor(location) });
  } catch (err) {
    await store.close();
    throw err;
  }
}

export async function runJob(jobPath: string, opts: RunJobOptions): Promise<RunSummary> {
  const emit = opts.onEvent ?? (() => {});
  const now = opts.now ?? (() => new Date());
  const job = await loadJob(jobPath);
  const startedAt = new Date();
  let reported = false;
  const report = async (pass: Omit<PassOutcome, 'startedAt' | 'finishedAt'>) => {
    reported = true;
    await reportJobPass(job, jobPath, { startedAt, finishedAt: new Date(), ...pass }, emit);
  };
  const failedPass = async (err: unknown, outcomes?: readonly BackupOutcome[]) => {
    if (reported) return;
    const errorCode = (err as DrivesnapError).code ?? 'INTERNAL';
    await report({ exitCode: exitCodeOf(errorCode), errorCode, drives: outcomes && drivePasses(outcomes) });
  };
  let repo: Repository;
  try {
    repo = await openJobRepository(job, jobPath, opts.indexPathFor);
  } catch (err) {
    await failedPass(err);
    throw err;
  }
  const concurrency = job.concurrency ?? DEFAULT_CONCURRENCY;
  const clients = opts.openClients(concurrency);
  const { shard } = opts;
  const summary: RunSummary = { drives: [], forgotten: 0, exitCode: ExitCode.ok, ...(shard ? { shard: `${shard.index}/${shard.count}` } : {}) };
  let outcomes: BackupOutcome[] | undefined;
  try {
    const items = targetItems(shardOfTargets(await selectDrives(job.drives, clients), shard), clients);
    outcomes = await backupAll({
      repo,
      items,
      tags: job.tags,
      concurrency,
      drives: opts.drives ?? job.parallelDrives ?? DEFAULT_PARALLEL_DRIVES,
      lockWaitMs: RUN_LOCK_WAIT_MS,
      progress: opts.progress,
      readBytesPerSecond: job.bandwidthLimit,
      readAll: opts.readAll,
      fullReadEvery: job.fullReadEvery,
      signal: opts.signal,
      onEvent: emit,
    });
    summary.drives = outcomes.map(({ location, ok, snapshot, error }) => ({ location, ok, snapshot, error }));
    const backedUp = new Set(outcomes.flatMap((o) => (o.driveUuid ? [o.driveUuid] : [])));
    // Only drives with a fresh snapshot are thinned: a drive whose backups keep failing keeps its history.
    if (job.retention && backedUp.size > 0) {
      const { groupBy, ...policy } = job.retention;
      try {
        const r = await forget(repo, policy, { groupBy, timeZone: job.timeZone, driveUuids: backedUp, waitMs: 60_000 });
        summary.forgotten = r.removed;
        emit({ event: 'forget', removed: r.removed, kept: r.kept, snapshots: r.groups.flatMap((g) => g.remove.map((e) => e.id)) });
      } catch (err) {
        // Another host still backing up (another shard) holds its lock: the next pass applies the policy.
        if (!(err instanceof RepoLockedError)) throw err;
        emit({ event: 'forget', skipped: true, code: err.code, message: errorMessage(err) });
      }
    }

    let upkeepFailed = false;
    // Upkeep is shard 1's (see the module comment).
    const upkeep = !shard || shard.index === 1;
    throwIfStopped(opts.signal);
    if (upkeep && job.prune && isDue(repo.localSetting(LAST_PRUNE_KEY), job.prune.every, now())) {
      try {
        const p = await prune(repo, { concurrency });
        repo.setLocalSetting(LAST_PRUNE_KEY, now().toISOString());
        summary.pruned = { deleted: p.deleted, freedBytes: p.freedBytes };
        emit({ event: 'prune', deleted: p.deleted, freedBytes: p.freedBytes });
      } catch (err) {
        // Another host pruning or backing up holds a lock: prune stays due and runs next time.
        if (!(err instanceof RepoLockedError)) upkeepFailed = true;
        summary.pruned = { skipped: errorMessage(err) };
        emit({ event: 'prune', skipped: true, code: (err as DrivesnapError).code ?? 'INTERNAL', message: errorMessage(err) });
      }
    }
    let checkProblems = 0;
    throwIfStopped(opts.signal);
    if (upkeep && job.check && isDue(repo.localSetting(LAST_CHECK_KEY), job.check.every, now())) {
      const c = await checkRepository(repo, { readData: (job.check.readDataSubset ?? 0) / 100, concurrency });
      repo.setLocalSetting(LAST_CHECK_KEY, now().toISOString());
      checkProblems = c.problems.length;
      summary.checked = { problems: checkProblems };
      for (const p of c.problems) emit({ event: 'problem', ...p });
      emit({ event: 'check', problems: checkProblems, snapshots: c.snapshots, chunks: c.chunks, chunksRead: c.chunksRead });
    }

    const failed = summary.drives.filter((d) => !d.ok).length;
    const emptyShare = shard !== undefined && summary.drives.length === 0;
    summary.exitCode = runExitCode({ drives: summary.drives.length, failed, checkProblems, upkeepFailed, emptyShare });
    await report({ exitCode: summary.exitCode, drives: drivePasses(outcomes) });
    emit({ event: 'summary', ...summary });
    return summary;
  } catch (err) {
    await failedPass(err, outcomes);
    throw err;
  } finally {
    await clients.close();
    await repo.close();
  }
}

/** The job file's `status` block: status file and Prometheus file (relative to the job file), pings. */
async function reportJobPass(job: JobFile, jobPath: string, pass: PassOutcome, emit: NonNullable<RunJobOptions['onEvent']>): Promise<void> {
  if (!job.status) return;
  const jobDir = dirname(resolve(jobPath));
  const at = (path: string | undefined) => (path === undefined ? undefined : resolve(jobDir, path));
  const { warnings } = await reportPass(
    { job: resolve(jobPath), files: { file: at(job.status.file), prometheus: at(job.status.prometheus) }, ping: job.status.ping },
    pass,
  );
  for (const message of warnings) emit({ event: 'warning', message });
}

/** This host's share of the selected drives; a selection that failed stays with every shard. */
function shardOfTargets(targets: readonly RunTarget[], shard: Shard | undefined): RunTarget[] {
  return shard ? targets.filter((t) => 'error' in t || inShard(t.drive.uuid, shard)) : [...targets];
}

/** The orchestrator's outcomes as the status file counts them. */
function drivePasses(outcomes: readonly BackupOutcome[]): DrivePass[] {
  return outcomes.map((o) => {
    const finishedAt = o.finishedAt ?? new Date();
    return {
      drive: o.location,
      account: o.account,
      uuid: o.driveUuid,
      ok: o.ok,
      startedAt: o.startedAt ?? finishedAt,
      finishedAt,
      bytesRead: o.progress?.bytesRead,
      bytesStored: o.progress?.bytesTotal,
      bytesWritten: o.progress?.bytesWritten,
      snapshot: o.snapshot,
      made: o.made,
      errorCode: o.error?.code,
    };
  });
}
