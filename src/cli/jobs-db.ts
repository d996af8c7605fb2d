/**
 * Where jobs that have no repository (copy, clone) keep their checkpoints: a small SQLite database in the
 * user's state directory, so an interrupted copy resumes.
 */
import { join } from 'node:path';
import { envText, homeDir, xdgDir } from '../config/env.js';
import { RepoIndex } from '../repo/index-db.js';
import { writableIndexPath } from '../repo/index-path.js';
import type { JobRecords } from '../repo/interfaces.js';

/** The jobs database's path, once its directory exists and it can be written (a bad path fails at once). */
export function jobsIndexPath(): string {
  return writableIndexPath(configuredJobsPath());
}

function configuredJobsPath(): string {
  const base = xdgDir('XDG_STATE_HOME') ?? join(homeDir(), '.local', 'state');
  return envText('DRIVESNAP_JOBS_DB') ?? join(base, 'drivesnap', 'jobs.sqlite');
}

/** The user's jobs database, as job records (it is a SQLite index file holding only jobs). */
export interface JobsDb extends JobRecords {
  close(): void;
}

export function openJobsDb(): JobsDb {
  return RepoIndex.open(jobsIndexPath());
}
