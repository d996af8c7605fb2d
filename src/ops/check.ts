/**
 * Check: the repository's structure (config, keys, every manifest readable, every referenced chunk
 * present, the index consistent with the store) and, on request, the data (chunks read back and checked
 * against their ids). Each problem names its object; the caller exits non-zero when any is found.
 */
import pLimit from 'p-limit';
import { errorMessage } from '../errors.js';
import { chunkObjectName, ID_BYTES, snapshotObjectName, tableEntry, ZERO_ID } from '../repo/format/index.js';
import type { Repository } from '../repo/repository.js';

export type ProblemKind =
  | 'key-unreadable'
  | 'manifest-unreadable'
  | 'chunk-missing'
  | 'chunk-corrupt'
  | 'index-stale-snapshot'
  | 'index-missing-snapshot'
  | 'index-stale-chunk'
  | 'index-wrong-snapshot';

export interface Problem {
  kind: ProblemKind;
  object: string;
  message: string;
}

export interface CheckOptions {
  /** Fraction of chunks (0..1) to read back and verify; 1 = --read-data. */
  readData?: number;
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface CheckResult {
  problems: Problem[];
  snapshots: number;
  chunks: number;
  unreferencedChunks: number;
  chunksRead: number;
}

export async function checkRepository(repo: Repository, opts: CheckOptions = {}): Promise<CheckResult> {
  const problems: Problem[] = [];
  const lock = await repo.lock(false);
  try {
    // Compare the store with an index brought up to date under this lock, not with one from before it.
    await repo.sync();
    for (const { object, error } of await repo.unreadableKeys()) {
      problems.push({ kind: 'key-unreadable', object, message: errorMessage(error) });
    }
    // The store's chunks, by id.
    const stored = new Map<string, number>();
    for await (const c of repo.storedChunks()) stored.set(c.hex, c.size);
    // Every manifest, read from the store itself (not the index), and what it references.
    const referenced = new Set<string>();
    const storeSnapshots = new Set<string>();
    for await (const id of repo.storedSnapshotIds()) {
      const object = snapshotObjectName(id);
      storeSnapshots.add(id);
      try {
        const m = await repo.loadManifest(id);
        if (repo.indexMatches(id, m) === 'differs') {
          problems.push({
            kind: 'index-wrong-snapshot',
            object,
            message: `the index's record of snapshot ${id.slice(0, 12)} (its size or chunk table) differs from the repository: run \`check --repair-index\``,
          });
        }
        let missing = 0;
        let firstMissing = '';
        for (let i = 0; i * ID_BYTES < m.table.length; i++) {
          const id = tableEntry(m.table, i);
          if (id.equals(ZERO_ID)) continue;
          const hex = id.toString('hex');
          referenced.add(hex);
          if (!stored.has(hex)) {
            if (missing === 0) firstMissing = hex;
            missing++;
          }
        }
        if (missing > 0) {
          problems.push({
            kind: 'chunk-missing',
            object,
            message: `snapshot ${id.slice(0, 12)} references ${missing} missing chunk(s), first ${chunkObjectName(Buffer.from(firstMissing, 'hex'))}`,
          });
        }
      } catch (err) {
        problems.push({ kind: 'manifest-unreadable', object, message: errorMessage(err) });
      }
    }
    // The index against the store.
    const indexed = repo.indexedSnapshotIds();
    for (const id of indexed) {
      if (!storeSnapshots.has(id)) {
        problems.push({ kind: 'index-stale-snapshot', object: snapshotObjectName(id), message: 'the index lists a snapshot the repository does not hold' });
      }
    }
    for (const id of storeSnapshots) {
      if (!indexed.has(id)) {
        problems.push({ kind: 'index-missing-snapshot', object: snapshotObjectName(id), message: 'the index does not list this snapshot' });
      }
    }
    let staleChunks = 0;
    for (const id of repo.indexedChunkIds()) if (!stored.has(id.toString('hex'))) staleChunks++;
    if (staleChunks > 0) {
      problems.push({
        kind: 'index-stale-chunk',
        object: repo.indexSummary().path,
        message: `the index lists ${staleChunks} chunk(s) the repository does not hold (a backup would skip uploading them): run \`check --repair-index\``,
      });
    }

    let chunksRead = 0;
    const fraction = opts.readData ?? 0;
    if (fraction > 0) {
      const ids = [...stored.keys()].filter((hex) => fraction >= 1 || inSubset(hex, fraction));
      const limit = pLimit(opts.concurrency ?? 4);
      await Promise.all(
        ids.map((hex) =>
          limit(async () => {
            const id = Buffer.from(hex, 'hex');
            try {
              await repo.readChunk(id);
            } catch (err) {
              problems.push({ kind: 'chunk-corrupt', object: chunkObjectName(id), message: errorMessage(err) });
            }
            opts.onProgress?.(++chunksRead, ids.length);
          }),
        ),
      );
    }
    let unreferenced = 0;
    for (const hex of stored.keys()) if (!referenced.has(hex)) unreferenced++;
    return { problems, snapshots: storeSnapshots.size, chunks: stored.size, unreferencedChunks: unreferenced, chunksRead };
  } finally {
    await lock.release();
  }
}

/**
 * Picks a subset by the chunk id itself (ids are uniformly distributed), offset by the day, so successive
 * daily `--read-data-subset` runs cover different chunks and the whole repository over time.
 */
export function inSubset(hex: string, fraction: number, day = Math.floor(Date.now() / 86_400_000)): boolean {
  const v = Number.parseInt(hex.slice(0, 8), 16) / 2 ** 32;
  const start = (day * fraction) % 1;
  const end = start + fraction;
  return end <= 1 ? v >= start && v < end : v >= start || v < end - 1;
}
