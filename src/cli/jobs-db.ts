/**
 * Where jobs that have no repository (copy, clone) keep their checkpoints: a small SQLite database in the
 * user's state directory, so an interrupted copy resumes.
 */
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { RepoIndex } from '../repo/index-db.js';
import { writableIndexPath } from '../repo/index-path.js';
import type { JobRecords } from '../repo/interfaces.js';

/** The jobs database's path, once its directory exists and it can be written (a bad path fails at once). */
export function jobsIndexPath(): string {
  return writableIndexPath(configuredJobsPath());
}

function configuredJobsPath(): string {
  if (process.env.DRIVESNAP_JOBS_DB) return process.env.DRIVESNAP_JOBS_DB;
  const xdg = process.env.XDG_STATE_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.local', 'state');
  return join(base, 'drivesnap', 'jobs.sqlite');
}

/** The user's jobs database, as job records (it is a SQLite index file holding only jobs). */
export interface JobsDb extends JobRecords {
  close(): void;
}

export function openJobsDb(): JobsDb {
  return RepoIndex.open(jobsIndexPath());
}
