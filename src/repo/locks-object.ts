/**
 * A lock as stored: the object `locks/<random hex>` holding who took it and when it was last refreshed.
 * Lock objects are plain JSON even in an encrypted repository: they must be readable by `unlock` and by
 * other hosts without the password, and carry nothing about the data (host, pid, user, times).
 */
import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { z } from 'zod';
import { userNameFromEnv } from '../config/env.js';

export const LOCK_PREFIX = 'locks/';

export interface LockInfo {
  /** The lock's object name, `locks/<hex>`: what to delete to break it. */
  name: string;
  host: string;
  pid: number;
  user: string;
  /** ISO time the lock was taken. */
  time: string;
  /** ISO time the holder last proved it is alive. */
  refreshed: string;
  exclusive: boolean;
}

const lockBody = z.object({
  host: z.string(),
  pid: z.number().int(),
  user: z.string(),
  time: z.string(),
  refreshed: z.string(),
  exclusive: z.boolean(),
});

export function newLockName(): string {
  return LOCK_PREFIX + randomBytes(16).toString('hex');
}

export function encodeLock(lock: LockInfo): Buffer {
  const { name: _name, ...body } = lock;
  return Buffer.from(JSON.stringify(body));
}

/** The lock in data, or undefined when data is not a lock this version understands. */
export function decodeLock(name: string, data: Buffer): LockInfo | undefined {
  let json: unknown;
  try {
    json = JSON.parse(data.toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = lockBody.safeParse(json);
  return parsed.success ? { name, ...parsed.data } : undefined;
}

/**
 * A lock is stale when its holder has not refreshed it for staleAfterMs, or when it was taken on this host
 * by a process that no longer exists (a crash or kill -9 leaves such locks behind).
 */
export function isStale(lock: LockInfo, now: number, staleAfterMs: number): boolean {
  const refreshed = Date.parse(lock.refreshed);
  if (Number.isNaN(refreshed) || now - refreshed > staleAfterMs) return true;
  return lock.host === hostname() && !isProcessAlive(lock.pid);
}

export function isProcessAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The user name for lock messages; userInfo throws when the uid has no passwd entry (containers). */
export function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return userNameFromEnv() ?? String(process.getuid?.() ?? 'unknown');
  }
}
