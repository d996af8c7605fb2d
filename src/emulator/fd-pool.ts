/**
 * Open file handles of drive files, kept in a small LRU so the hot read/write path never opens or closes
 * a file. A handle in use is never closed under its user: eviction and `forget` close it on last release.
 */
import { type FileHandle, open } from 'node:fs/promises';

interface Entry {
  handle: Promise<FileHandle>;
  users: number;
  /** Dropped from the pool; close when the last user releases it. */
  retired: boolean;
}

export class FdPool {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly maxOpen = 64) {}

  /** Runs fn with an open read-write handle of path. */
  async with<T>(path: string, fn: (handle: FileHandle) => Promise<T>): Promise<T> {
    let entry = this.entries.get(path);
    if (entry) {
      // Re-insert to mark as most recently used.
      this.entries.delete(path);
      this.entries.set(path, entry);
    } else {
      this.evict(this.maxOpen - 1);
      entry = { handle: open(path, 'r+'), users: 0, retired: false };
      this.entries.set(path, entry);
      const opened = entry;
      opened.handle.catch(() => {
        if (this.entries.get(path) === opened) this.entries.delete(path);
      });
    }
    entry.users++;
    try {
      return await fn(await entry.handle);
    } finally {
      entry.users--;
      if (entry.retired && entry.users === 0) await closeQuietly(entry);
    }
  }

  /** Drops the handle of a path (destroyed drive); closes it now or when its last user is done. */
  async forget(path: string): Promise<void> {
    const entry = this.entries.get(path);
    if (!entry) return;
    this.entries.delete(path);
    entry.retired = true;
    if (entry.users === 0) await closeQuietly(entry);
  }

  async closeAll(): Promise<void> {
    const all = [...this.entries.keys()];
    await Promise.all(all.map((p) => this.forget(p)));
  }

  private evict(keep: number): void {
    for (const [path, entry] of this.entries) {
      if (this.entries.size <= keep) return;
      if (entry.users > 0) continue;
      this.entries.delete(path);
      entry.retired = true;
      void closeQuietly(entry);
    }
  }
}

async function closeQuietly(entry: Entry): Promise<void> {
  try {
    await (await entry.handle).close();
  } catch {
    // A handle that failed to open has nothing to close.
  }
}
