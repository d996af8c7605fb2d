/**
 * Prune: delete the chunks no snapshot references, under the exclusive lock. Order matters: snapshots are
 * forgotten (manifests deleted) before prune runs, prune only ever deletes unreferenced chunks, and it
 * advances the repository's generation BEFORE deleting anything, so every host's index relists chunks on
 * its next open even when this prune is killed half way. No manifest ever points at a missing chunk.
 */
import pLimit from 'p-limit';
import type { Repository } from '../repo/repository.js';

export interface PruneResult {
  referenced: number;
  stored: number;
  deleted: number;
  freedBytes: number;
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
    const referenced = repo.index.referencedChunkIds();
    const unreferenced: { name: string; id: Buffer; size: number }[] = [];
    let stored = 0;
    for await (const o of repo.store.list('chunks/')) {
      const hex = o.name.slice(o.name.lastIndexOf('/') + 1);
      if (!/^[0-9a-f]{64}$/.test(hex)) continue;
      stored++;
      if (!referenced.has(hex)) unreferenced.push({ name: o.name, id: Buffer.from(hex, 'hex'), size: o.size });
    }
    const freedBytes = unreferenced.reduce((s, c) => s + c.size, 0);
    if (opts.dryRun || unreferenced.length === 0) {
      return { referenced: referenced.size, stored, deleted: 0, freedBytes: opts.dryRun ? freedBytes : 0, dryRun: Boolean(opts.dryRun) };
    }
    const generation = await repo.advanceGeneration();
    const limit = pLimit(opts.concurrency ?? 16);
    let done = 0;
    const batch: Buffer[] = [];
    await Promise.all(
      unreferenced.map((c) =>
        limit(async () => {
          await repo.store.delete(c.name);
          batch.push(c.id);
          if (batch.length >= 256) repo.index.removeChunks(batch.splice(0));
          opts.onDelete?.(++done, unreferenced.length);
        }),
      ),
    );
    repo.index.removeChunks(batch);
    // Our own index saw every deletion: it is current for the new generation.
    repo.index.set('generation', generation);
    return { referenced: referenced.size, stored, deleted: unreferenced.length, freedBytes, dryRun: false };
  } finally {
    await lock.release();
  }
}
