/**
 * Where a repository's index lives. A local repository keeps it inside itself (under `cache/`, a prefix
 * the format never lists, so it never shows up as an object); an S3 repository keeps it in the user's
 * cache directory, one directory per repository id, so several repositories never share an index.
 */
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { UsageError } from '../errors.js';

export function defaultIndexPath(opts: { localRepoDir?: string; repoId: string }): string {
  if (opts.localRepoDir !== undefined) return join(opts.localRepoDir, 'cache', 'index.sqlite');
  if (!/^[A-Za-z0-9._-]+$/.test(opts.repoId) || /^\.+$/.test(opts.repoId)) {
    throw new UsageError(
      `repository id "${opts.repoId}" cannot name a cache directory; check the repository's config object`,
    );
  }
  return join(cacheHome(), 'drivesnap', opts.repoId, 'index.sqlite');
}

/** XDG says a relative XDG_CACHE_HOME is invalid and must be ignored. */
function cacheHome(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  if (xdg !== undefined && xdg !== '' && isAbsolute(xdg)) return xdg;
  return join(homedir(), '.cache');
}
