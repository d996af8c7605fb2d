/**
 * Where jobs that have no repository (copy, clone) keep their checkpoints: a small SQLite database in the
 * user's state directory, so an interrupted copy resumes.
 */
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

export function jobsIndexPath(): string {
  if (process.env.DRIVESNAP_JOBS_DB) return process.env.DRIVESNAP_JOBS_DB;
  const xdg = process.env.XDG_STATE_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.local', 'state');
  return join(base, 'drivesnap', 'jobs.sqlite');
}
