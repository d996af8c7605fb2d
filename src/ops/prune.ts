/**
 * Prune: delete the chunks no snapshot references, under the exclusive lock. Order matters: snapshots are
 * forgotten (manifests deleted) before prune runs, prune only ever deletes unreferenced chunks, and it
 * advances the repository's generation BEFORE deleting anything, so every host's index relists chunks on
 * its next open even when this prune is killed half way. No manifest ever points at a missing chunk.
 * It also deletes what interrupted backups left in the store (a local store's temp files of chunks never
 * flushed): under the exclusive lock no other backup can be writing them.
 */
import type { Repository, StoredChunk } from '../repo/repository.js';
import type { Leftovers } from '../store/types.js';

export interface PruneResult {
  referenced: number;
  stored: number;
  deleted: number;
  freedBytes: number;
  /** Unfinished uploads deleted (or, with dryRun, found): not counted in `freedBytes`. */
  leftovers: Leftovers;
  dryRun: boolean;
}

export interface PruneOptions {
  dryRun?: boolean;
  concurrency?: number;
  /** Called once per deleted chunk, for progress. */
  onDelete?: (done: number, total: number) => void;
  /** Wait this long for other hosts' locks to go before failing with exit code 11. */
  waitMs?: number;
}

export async function prune(repo: Repository, opts: PruneOptions = {}): Promise<PruneResult> {
  const lock = await repo.lock(true, opts.waitMs);
  try {
    // Under the exclusive lock nobody adds snapshots: what the store holds now is the whole truth.
    await repo.sync();
    // The index's tables decide what is deleted: each is proven against its snapshot id first.
    await repo.proveIndexSnapshots();
    const referenced = repo.referencedChunkIds();
    const unreferenced: StoredChunk[] = [];
    let stored = 0;
    for await (const c of repo.storedChunks()) {
      stored++;
      if (!referenced.has(c.hex)) unreferenced.push(c);
    }
    const freedBytes = unreferenced.reduce((s, c) => s + c.size, 0);
    const dryRun = Boolean(opts.dryRun);
    const leftovers = await repo.removeLeftovers({ dryRun });
    if (dryRun || unreferenced.length === 0) {
      return { referenced: referenced.size, stored, deleted: 0, freedBytes: dryRun ? freedBytes : 0, leftovers, dryRun };
    }
    await repo.deleteChunks(unreferenced, { concurrency: opts.concurrency ?? DELETE_CONCURRENCY, onDelete: opts.onDelete });
    return { referenced: referenced.size, stored, deleted: unreferenced.length, freedBytes, leftovers, dryRun };
  } finally {
    await lock.release();
  }
}

/** Deletes in flight at once: small requests, so more than the range jobs' default. */
const DELETE_CONCURRENCY = 16;
