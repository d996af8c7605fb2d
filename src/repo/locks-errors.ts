import { DrivesnapError } from '../errors.js';
import type { LockInfo } from './locks-object.js';

/** Someone else holds a lock that conflicts with the one asked for. */
export class RepoLockedError extends DrivesnapError {
  override name = 'RepoLockedError';
  constructor(
    readonly location: string,
    /** The conflicting locks, the oldest first; the message names the first. */
    readonly holders: LockInfo[],
  ) {
    const holder = holders[0]!;
    const more = holders.length > 1 ? ` and ${holders.length - 1} more` : '';
    super(
      'REPO_LOCKED',
      `repository ${location} is locked ${holder.exclusive ? 'exclusively ' : ''}by ${holder.user}@${holder.host} ` +
        `(pid ${holder.pid}) since ${holder.time}${more}; wait for it to finish, or if that process is gone ` +
        'run `drivesnap unlock` (add --remove-all for a lock that is not yet stale)',
    );
  }
}

/**
 * Our own lock is gone (`unlock --remove-all` elsewhere) or could not be refreshed before others would
 * call it stale: the work is no longer protected from a concurrent prune and should stop.
 */
export class LockLostError extends DrivesnapError {
  override name = 'LockLostError';
  constructor(location: string, lockName: string, why: string, options?: { cause?: unknown }) {
    super(
      'LOCK_LOST',
      `repository ${location}: our lock ${lockName} ${why}; stopping, since the work is no longer protected ` +
        'from a concurrent prune: run it again',
      options,
    );
  }
}
