/**
 * Where a repository's index lives. A local repository keeps it inside itself (under `cache/`, a prefix
 * the format never lists, so it never shows up as an object); an S3 repository keeps it in the user's
 * cache directory, one directory per repository id, so several repositories never share an index.
 */
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { xdgDir } from '../config/env.js';
import { DrivesnapError, UsageError } from '../errors.js';
import { errnoCode } from '../util/fs-errors.js';
import { makeDirectorySync } from '../util/make-directory.js';

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
  return xdgDir('XDG_CACHE_HOME') ?? join(homedir(), '.cache');
}

/**
 * The index path, once its directory exists and it can be written: checked here because SQLite says only
 * "unable to open database file", and Node's recursive mkdir spins forever under /proc.
 */
export function writableIndexPath(path: string): string {
  const dir = dirname(path);
  makeDirectorySync(dir);
  for (const [what, at] of [
    ['directory', dir],
    ['file', path],
  ] as const) {
    try {
      accessSync(at, constants.W_OK);
    } catch (err) {
      const code = errnoCode(err);
      if (what === 'file' && code === 'ENOENT') continue;
      throw new DrivesnapError(
        'INDEX_READ_ONLY',
        `the index ${what} ${at} is read-only for this user (${code ?? 'error'}): drivesnap keeps the repository's ` +
          'index cache there and must write it; make it writable, or set DRIVESNAP_INDEX to a file in a writable directory',
      );
    }
  }
  return path;
}
