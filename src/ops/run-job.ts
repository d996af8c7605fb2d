/**
 * `drivesnap run JOBFILE`: one pass of a job file (docs/jobfile.md): back up every selected drive, apply
 * the retention policy to the drives backed up, and prune / check when their cadence is due. Last runs of
 * prune and check are remembered in the index's key/value table (per host: losing the index only makes
 * them due again, which is safe).
 *
 * Outcome: 0 all drives backed up; 3 some failed, some succeeded; 1 all failed, or check found problems
 * (a damaged repository must page someone). A failed prune makes an otherwise clean run 3.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { indexPathFor } from '../cli/repo-context.js';
import { Clients } from '../cli/open-ends.js';
import { driveSource } from '../engine/ends/drive.js';
import { backup } from '../engine/jobs/backup.js';
import { DrivesnapError, ExitCode, errorMessage } from '../errors.js';
import { RepoLockedError } from '../repo/locks.js';
import { Repository } from '../repo/repository.js';
import { openStore, parseRepositoryLocation } from '../store/open.js';
import { checkRepository } from './check.js';
import { isDue } from './cadence.js';
import { forget } from './forget.js';
import { type JobFile, loadJobFile } from './jobfile.js';
import { prune } from './prune.js';
import { selectDrives } from './run-select.js';

export const LAST_PRUNE_KEY = 'run:last-prune';
export const LAST_CHECK_KEY = 'run:last-check';

export type RunEvent = Record<string, unknown> & { event: string };

export interface RunJobOptions {
  /** Called for every step: snapshot, error, forget, prune, check, summary. */
  onEvent?: (e: RunEvent) => void;
  now?: () => Date;
  signal?: AbortSignal;
}

export interface DriveOutcome {
  drive: string;
  ok: boolean;
  snapshot?: string;
  error?: { code: string; message: string };
}

export interface RunSummary {
  drives: DriveOutcome[];
  forgotten: number;
  pruned?: { deleted: number; freedBytes: number } | { skipped: string };
  checked?: { problems: number };
  exitCode: number;
}

export async function loadJob(path: string): Promise<JobFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new DrivesnapError('JOBFILE_UNREADABLE', `cannot read the job file ${path}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`, ExitCode.usage);
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
      throw new DrivesnapError('PASSWORD_FILE', `cannot read the password file ${path} the job file names`, ExitCode.usage);
    }
  }
  const name = passwordEnv ?? 'DRIVESNAP_PASSWORD';
  const value = process.env[name];
  if (passwordEnv !== undefined && !value) {
    throw new DrivesnapError('PASSWORD_ENV', `the job file takes the password from ${name}, which is not set`, ExitCode.usage);
  }
  return value || undefined;
}

/** A relative local repository is relative to the job file, not to wherever cron starts us. */
function repoLocation(job: JobFile, jobDir: string): string {
  const loc = parseRepositoryLocation(job.repository.location, jobDir);
  return loc.kind === 'local' ? loc.dir : job.repository.location;
}

export async function openJobRepository(job: JobFile, jobPath: string): Promise<Repository> {
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

export async function runJob(jobPath: string, opts: RunJobOptions = {}): Promise<RunSummary> {
  const emit = opts.onEvent ?? (() => {});
  const now = opts.now ?? (() => new Date());
  const job = await loadJob(jobPath);
  const repo = await openJobRepository(job, jobPath);
  const concurrency = job.concurrency ?? 8;
  const clients = new Clients(concurrency);
  const summary: RunSummary = { drives: [], forgotten: 0, exitCode: ExitCode.ok };
  try {
    const backedUp = new Set<string>();
    for (const target of await selectDrives(job.drives, clients)) {
      if ('error' in target) {
        summary.drives.push(failed(target.label, target.error, emit));
        continue;
      }
      const { drive } = target;
      try {
        const client = await clients.get(target.account);
        const claimed = drive.claimed.length > 0;
        const result = await backup({
          repo,
          source: driveSource({ api: client, uuid: drive.uuid, size: drive.size, description: target.label }),
          target: { driveUuid: drive.uuid, driveName: drive.name, account: target.account, endpoint: target.url, claimed },
          tags: job.tags,
          concurrency,
          signal: opts.signal,
          extra: claimed ? { claimedBy: drive.claimed } : {},
        });
        backedUp.add(drive.uuid);
        const p = result.progress.snapshot();
        emit({ event: 'snapshot', drive: target.label, snapshot: result.snapshotId, claimed, bytes: p.bytesTotal, counts: p.counts, bytesWritten: p.bytesWritten });
        summary.drives.push({ drive: target.label, ok: true, snapshot: result.snapshotId });
      } catch (err) {
        summary.drives.push(failed(target.label, err, emit));
      }
    }

    // Only drives with a fresh snapshot are thinned: a drive whose backups keep failing keeps its history.
    if (job.retention && backedUp.size > 0) {
      const { groupBy, ...policy } = job.retention;
      const r = await forget(repo, policy, { groupBy, timeZone: job.timeZone, driveUuids: backedUp, waitMs: 60_000 });
      summary.forgotten = r.removed;
      emit({ event: 'forget', removed: r.removed, kept: r.kept, snapshots: r.groups.flatMap((g) => g.remove.map((e) => e.id)) });
    }

    let maintenanceFailed = false;
    if (job.prune && isDue(repo.index.get(LAST_PRUNE_KEY), job.prune.every, now())) {
      try {
        const p = await prune(repo, { concurrency });
        repo.index.set(LAST_PRUNE_KEY, now().toISOString());
        summary.pruned = { deleted: p.deleted, freedBytes: p.freedBytes };
        emit({ event: 'prune', deleted: p.deleted, freedBytes: p.freedBytes });
      } catch (err) {
        // Another host pruning or backing up holds a lock: prune stays due and runs next time.
        if (!(err instanceof RepoLockedError)) maintenanceFailed = true;
        summary.pruned = { skipped: errorMessage(err) };
        emit({ event: 'prune', skipped: true, code: (err as DrivesnapError).code ?? 'INTERNAL', message: errorMessage(err) });
      }
    }
    let checkProblems = 0;
    if (job.check && isDue(repo.index.get(LAST_CHECK_KEY), job.check.every, now())) {
      const c = await checkRepository(repo, { readData: (job.check.readDataSubset ?? 0) / 100, concurrency });
      repo.index.set(LAST_CHECK_KEY, now().toISOString());
      checkProblems = c.problems.length;
      summary.checked = { problems: checkProblems };
      for (const p of c.problems) emit({ event: 'problem', ...p });
      emit({ event: 'check', problems: checkProblems, snapshots: c.snapshots, chunks: c.chunks, chunksRead: c.chunksRead });
    }

    const failures = summary.drives.filter((d) => !d.ok).length;
    summary.exitCode =
      failures === summary.drives.length || checkProblems > 0
        ? ExitCode.failure
        : failures > 0 || maintenanceFailed
          ? ExitCode.partial
          : ExitCode.ok;
    emit({ event: 'summary', ...summary });
    return summary;
  } finally {
    await clients.close();
    await repo.close();
  }
}

function failed(label: string, err: unknown, emit: (e: RunEvent) => void): DriveOutcome {
  const error = { code: (err as DrivesnapError).code ?? 'INTERNAL', message: errorMessage(err) };
  emit({ event: 'error', drive: label, ...error });
  return { drive: label, ok: false, error };
}
