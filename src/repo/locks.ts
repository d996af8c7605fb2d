/**
 * Repository locks, restic's model: backups hold shared locks, prune holds an exclusive one. A lock is an
 * object `locks/<hex>`; to acquire, write our own lock first, then list and read the others. Because both
 * sides write before they look, two contenders cannot both miss each other (the store is read-after-write
 * consistent): at worst both back off, never both proceed.
 *
 * The holder refreshes its object periodically; one not refreshed for staleAfterMs is stale, and so is one
 * taken on this host by a process that has exited. Stale locks are ignored when acquiring and removed by
 * `drivesnap unlock`.
 */
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { ObjectNotFoundError } from '../store/errors.js';
import type { ObjectStore } from '../store/types.js';
import { backoffDelayMs, type RetryPolicy } from '../util/retry-policy.js';
import { abortableSleep } from '../util/stop-request.js';
import { LockLostError, RepoLockedError } from './locks-errors.js';
import {
  currentUser,
  decodeLock,
  encodeLock,
  isStale,
  LOCK_PREFIX,
  type LockInfo,
  newLockName,
} from './locks-object.js';

export { isStale, type LockInfo } from './locks-object.js';
export { LockLostError, RepoLockedError } from './locks-errors.js';

export const DEFAULT_STALE_AFTER_MS = 30 * 60_000;
export const DEFAULT_REFRESH_EVERY_MS = 5 * 60_000;
/** Waits between tries while the repository is locked; how long to keep trying is the caller's waitMs. */
const LOCKED_BACKOFF: RetryPolicy = { maxAttempts: Number.POSITIVE_INFINITY, baseDelayMs: 100, maxDelayMs: 5_000 };

export interface AcquireLockOptions {
  exclusive: boolean;
  staleAfterMs?: number;
  refreshEveryMs?: number;
  /** Keep retrying for this long (real time) while the repository is locked; 0 = fail at once. */
  waitMs?: number;
  /** The clock written into locks and used to judge staleness; tests inject one. */
  now?: () => number;
  /** Called once if the lock is lost while held; the holder should stop its work. */
  onLost?: (err: Error) => void;
  /** Ends the wait for a locked repository early, rejecting with the signal's reason (Ctrl-C). */
  signal?: AbortSignal;
}

interface LockSettings {
  staleAfterMs: number;
  refreshEveryMs: number;
  now: () => number;
  onLost?: (err: Error) => void;
}

export async function acquireLock(store: ObjectStore, opts: AcquireLockOptions): Promise<RepoLock> {
  const settings: LockSettings = {
    staleAfterMs: opts.staleAfterMs ?? DEFAULT_STALE_AFTER_MS,
    refreshEveryMs: opts.refreshEveryMs ?? DEFAULT_REFRESH_EVERY_MS,
    now: opts.now ?? Date.now,
    onLost: opts.onLost,
  };
  const giveUpAt = performance.now() + (opts.waitMs ?? 0);
  for (let attempt = 0; ; attempt++) {
    opts.signal?.throwIfAborted();
    const taken = new Date(settings.now()).toISOString();
    const own: LockInfo = {
      name: newLockName(),
      host: hostname(),
      pid: process.pid,
      user: currentUser(),
      time: taken,
      refreshed: taken,
      exclusive: opts.exclusive,
    };
    await store.put(own.name, encodeLock(own));
    let holders: LockInfo[];
    try {
      holders = await conflictingLocks(store, own, settings);
    } catch (err) {
      await store.delete(own.name).catch(() => undefined);
      throw err;
    }
    if (holders.length === 0) return new RepoLock(store, own, settings);
    await store.delete(own.name);
    const remaining = giveUpAt - performance.now();
    if (remaining <= 0) throw new RepoLockedError(store.location, holders);
    // The shared full-jitter backoff keeps two contenders that backed off together from colliding again.
    await abortableSleep(Math.min(remaining, backoffDelayMs(LOCKED_BACKOFF, attempt + 1)), opts.signal);
  }
}

/** Every readable lock in the repository, the oldest first. */
export async function listLocks(store: ObjectStore): Promise<LockInfo[]> {
  const locks: LockInfo[] = [];
  for (const { lock } of await readAllLocks(store)) if (lock !== undefined) locks.push(lock);
  return locks.sort(byTime);
}

/** Deletes stale locks, and objects under locks/ that are not locks at all. Returns how many. */
export async function removeStaleLocks(
  store: ObjectStore,
  opts: { staleAfterMs?: number; now?: () => number } = {},
): Promise<number> {
  const staleAfterMs = opts.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const now = (opts.now ?? Date.now)();
  let removed = 0;
  for (const { name, lock } of await readAllLocks(store)) {
    if (lock !== undefined && !isStale(lock, now, staleAfterMs)) continue;
    await store.delete(name);
    removed++;
  }
  return removed;
}

/** Deletes every lock, live or not (`unlock --remove-all`). Returns how many. */
export async function removeAllLocks(store: ObjectStore): Promise<number> {
  const names: string[] = [];
  for await (const object of store.list(LOCK_PREFIX)) names.push(object.name);
  for (const name of names) await store.delete(name);
  return names.length;
}

/** A held lock. Obtain one from acquireLock; release it when the work is done. */
export class RepoLock {
  private current: LockInfo;
  private readonly timer: NodeJS.Timeout;
  private inFlight: Promise<void> | undefined;
  private lostWith: Error | undefined;
  private released = false;

  constructor(
    private readonly store: ObjectStore,
    lock: LockInfo,
    private readonly settings: LockSettings,
  ) {
    this.current = lock;
    this.timer = setInterval(() => {
      if (this.inFlight === undefined) void this.refreshOnce();
    }, settings.refreshEveryMs);
    // A held lock must not keep the process alive on its own.
    this.timer.unref();
  }

  get info(): LockInfo {
    return { ...this.current };
  }

  get lost(): boolean {
    return this.lostWith !== undefined;
  }

  /** Why the lock was lost, when it was. */
  get lostError(): Error | undefined {
    return this.lostWith;
  }

  /** Throws the LockLostError if the lock was lost: long jobs call this between steps. */
  assertHeld(): void {
    if (this.lostWith !== undefined) throw this.lostWith;
  }

  /** Refreshes now (the timer does this on its own); throws LockLostError if the lock is gone. */
  async refresh(): Promise<void> {
    await this.inFlight;
    await this.refreshOnce();
    this.assertHeld();
  }

  /** Stops refreshing and deletes the lock object. Safe to call twice. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.timer);
    await this.inFlight;
    await this.store.delete(this.current.name);
  }

  private refreshOnce(): Promise<void> {
    const run = this.rewriteLock().finally(() => {
      this.inFlight = undefined;
    });
    this.inFlight = run;
    return run;
  }

  /** Never throws: failures end up as the lost state, which the holder checks. */
  private async rewriteLock(): Promise<void> {
    if (this.released || this.lostWith !== undefined) return;
    const now = this.settings.now();
    const { location } = this.store;
    const name = this.current.name;
    try {
      if ((await this.store.stat(name)) === undefined) {
        this.markLost(new LockLostError(location, name, 'was removed by another process (drivesnap unlock?)'));
        return;
      }
      const next = { ...this.current, refreshed: new Date(now).toISOString() };
      await this.store.put(name, encodeLock(next));
      this.current = next;
    } catch (err) {
      // A passing store fault is fine as long as the lock cannot go stale before the next attempt.
      const sinceRefresh = now - Date.parse(this.current.refreshed);
      if (sinceRefresh + this.settings.refreshEveryMs >= this.settings.staleAfterMs) {
        this.markLost(
          new LockLostError(location, name, `could not be refreshed for ${Math.round(sinceRefresh / 1000)} s`, {
            cause: err,
          }),
        );
      }
    }
  }

  private markLost(err: Error): void {
    this.lostWith = err;
    clearInterval(this.timer);
    try {
      this.settings.onLost?.(err);
    } catch (callbackErr) {
      process.emitWarning(`onLost callback failed: ${String(callbackErr)}`);
    }
  }
}

async function conflictingLocks(store: ObjectStore, own: LockInfo, settings: LockSettings): Promise<LockInfo[]> {
  const now = settings.now();
  const holders: LockInfo[] = [];
  for (const { lock } of await readAllLocks(store)) {
    if (lock === undefined || lock.name === own.name) continue;
    if (!own.exclusive && !lock.exclusive) continue;
    if (isStale(lock, now, settings.staleAfterMs)) continue;
    holders.push(lock);
  }
  return holders.sort(byTime);
}

/** Every object under locks/ with its decoded lock (undefined when unreadable); vanished ones skipped. */
async function readAllLocks(store: ObjectStore): Promise<{ name: string; lock: LockInfo | undefined }[]> {
  const names: string[] = [];
  for await (const object of store.list(LOCK_PREFIX)) names.push(object.name);
  const read = await Promise.all(
    names.map(async (name) => {
      try {
        return { name, lock: decodeLock(name, await store.get(name)) };
      } catch (err) {
        // Released between our list and our read.
        if (err instanceof ObjectNotFoundError) return undefined;
        throw err;
      }
    }),
  );
  return read.filter((entry) => entry !== undefined);
}

function byTime(a: LockInfo, b: LockInfo): number {
  return a.time < b.time ? -1 : a.time > b.time ? 1 : 0;
}
