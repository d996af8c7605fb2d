/**
 * Backup: a source (API drive, image file) into a new snapshot. Every snapshot is logically full; only
 * chunks the repository does not hold yet are compressed, sealed and stored ("known chunks", as the
 * Proxmox client does it, but against everything the repository holds, not just the last snapshot).
 */
import { hostname } from 'node:os';
import pLimit from 'p-limit';
import { DrivesnapError, ExitCode } from '../../errors.js';
import { chunkId, encodeChunk, type SnapshotMeta } from '../../repo/format/index.js';
import type { Repository } from '../../repo/repository.js';
import { TOOL_VERSION } from '../../version.js';
import { CheckpointWriter, resumeJob } from '../checkpoint.js';
import { isAllZero } from '../codec.js';
import type { BlockSource } from '../ends/types.js';
import { RangesFailedError, assertAllRangesAccounted } from '../errors.js';
import { SlotBuffers, cpuSlots, runRanges } from '../pipeline.js';
import { Progress } from '../progress.js';
import { rangeCount, ranges } from '../ranges.js';

export interface BackupTarget {
  driveUuid: string;
  driveName: string;
  account: string;
  endpoint: string;
  /** The drive was claimed by a running server: the copy is crash-consistent only. */
  claimed: boolean;
}

export interface BackupOptions {
  repo: Repository;
  source: BlockSource;
  target: BackupTarget;
  tags?: string[];
  concurrency?: number;
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
  /** Extra metadata kept in the manifest (e.g. the server that claimed the drive). */
  extra?: Record<string, unknown>;
}

export interface BackupResult {
  snapshotId: string;
  progress: Progress;
  meta: SnapshotMeta;
}

export async function backup(o: BackupOptions): Promise<BackupResult> {
  const { repo, source } = o;
  const chunkSize = repo.config.chunkSize;
  const n = rangeCount(source.size, chunkSize);
  const lock = await repo.lock(false);
  try {
    // Under the shared lock no prune runs, so what the index says the repository holds stays true.
    await repo.sync();
    const generation = await repo.generation();
    const key = `backup:${o.target.account}:${o.target.driveUuid}:${source.description}`;
    const done = resumeJob(repo.index, key, { size: source.size, generation, chunkSize });
    const table = Buffer.alloc(n * 32);
    const progress = new Progress('backup', source.size, n);
    if (o.onProgress) progress.onUpdate(o.onProgress);
    for (const [i, id] of done) {
      if (id) id.copy(table, i * 32);
      progress.range('resumed', Math.min(chunkSize, source.size - i * chunkSize));
    }
    const checkpoints = new CheckpointWriter(repo.index, key);
    const buffers = new SlotBuffers(chunkSize);
    const cpu = pLimit(cpuSlots());
    // Two ranges with the same content in flight at once: the second waits for the first's upload.
    const inFlight = new Map<string, Promise<void>>();
    // Chunks taken as stored because the index says so: proven against the store before the commit.
    const reused = new Set<string>();
    for (const id of done.values()) if (id) reused.add(id.toString('hex'));
    let newCount = 0;
    let zeroCount = 0;
    let storedBytes = 0;

    const failures = await runRanges(
      ranges(source.size, chunkSize, (i) => done.has(i)),
      async (r, slot) => {
        const data = await source.read(r.offset, r.length, buffers.get(slot, r.length));
        if (isAllZero(data)) {
          zeroCount++;
          checkpoints.record(r.index, null);
          progress.range('zero', r.length, { read: r.length });
          return;
        }
        // Hashing runs on this thread (node:crypto, no copy): nothing to schedule.
        const id = await chunkId(data, repo.ctx);
        const hex = id.toString('hex');
        let outcome: 'new' | 'unchanged' = 'unchanged';
        let written = 0;
        const pending = inFlight.get(hex);
        if (pending) {
          await pending;
        } else if (repo.index.hasChunk(id)) {
          reused.add(hex);
        } else {
          const upload = (async () => {
            const object = await cpu(() => encodeChunk(data, id, repo.ctx));
            await repo.putChunk(id, object);
            repo.index.addChunks([{ id, size: object.length }]);
            written = object.length;
          })();
          inFlight.set(hex, upload);
          try {
            await upload;
          } finally {
            inFlight.delete(hex);
          }
          outcome = 'new';
          newCount++;
          storedBytes += written;
        }
        id.copy(table, r.index * 32);
        checkpoints.record(r.index, id);
        progress.range(outcome, r.length, { read: r.length, written });
      },
      { concurrency: o.concurrency ?? 8, signal: o.signal, isFatal: isFatalError },
    );
    checkpoints.flush();
    if (failures.length > 0) throw new RangesFailedError(`backup of ${source.description}`, failures, chunkSize, true);
    if (o.signal?.aborted) throw o.signal.reason ?? new DrivesnapError('INTERRUPTED', 'backup interrupted', ExitCode.interrupted);
    assertAllRangesAccounted(`backup of ${source.description}`, progress.snapshot().rangesDone, n);

    const parent = repo.index.listSnapshots({ driveUuid: o.target.driveUuid }).at(-1)?.id;
    const restored = await storeMissingReused(o, table, reused, parent, chunkSize, progress);
    newCount += restored.count;
    storedBytes += restored.bytes;
    const zeroTotal = zeroCount + [...done.values()].filter((id) => id === null).length;
    const meta: SnapshotMeta = {
      driveUuid: o.target.driveUuid,
      driveName: o.target.driveName,
      accountName: o.target.account,
      endpoint: o.target.endpoint,
      size: source.size,
      chunkSize,
      time: new Date().toISOString(),
      host: hostname(),
      tags: o.tags ?? [],
      parent: parent ?? null,
      toolVersion: TOOL_VERSION,
      counts: { zero: zeroTotal, new: newCount, reused: n - zeroTotal - newCount },
      claimed: o.target.claimed,
      extra: { ...o.extra, storedBytes },
    };
    const snapshotId = await repo.saveSnapshot(meta, table);
    repo.index.endJob(key);
    return { snapshotId, progress, meta };
  } finally {
    await lock.release();
  }
}

/**
 * The index is a cache: a chunk it lists may be gone from the store (a damaged or edited index, a chunk
 * deleted behind drivesnap's back). Before a snapshot may reference the chunks this backup reused, they
 * are asked of the store, except those the parent snapshot references (its table proven against its id):
 * a chunk lost from under a snapshot is damage `check` reports. Missing ones are dropped from the index
 * and stored again from the source, so the snapshot committed is whole.
 */
async function storeMissingReused(
  o: BackupOptions,
  table: Buffer,
  reused: Set<string>,
  parent: string | undefined,
  chunkSize: number,
  progress: Progress,
): Promise<{ count: number; bytes: number }> {
  const { repo, source } = o;
  if (parent) {
    const parentTable = await repo.provenTable(parent);
    for (let at = 0; at < parentTable.length; at += 32) reused.delete(parentTable.toString('hex', at, at + 32));
  }
  const missing = new Set(await repo.missingChunks(reused));
  if (missing.size === 0) return { count: 0, bytes: 0 };
  repo.index.removeChunks([...missing].map((hex) => Buffer.from(hex, 'hex')));
  repo.warnings.push(`the index listed ${missing.size} chunk(s) the repository does not hold: they were stored again (run \`drivesnap check\`)`);
  const stored = new Set<string>();
  let bytes = 0;
  const failures = await runRanges(
    ranges(source.size, chunkSize, (i) => !missing.has(table.toString('hex', i * 32, i * 32 + 32))),
    async (r) => {
      const data = await source.read(r.offset, r.length);
      progress.io({ read: r.length });
      const id = await chunkId(data, repo.ctx);
      const hex = id.toString('hex');
      if (!stored.has(hex) && !repo.index.hasChunk(id)) {
        stored.add(hex);
        const object = await encodeChunk(data, id, repo.ctx);
        await repo.putChunk(id, object);
        repo.index.addChunks([{ id, size: object.length }]);
        bytes += object.length;
        progress.io({ written: object.length });
      }
      // The source may have changed since the first pass: the snapshot names what was read now.
      id.copy(table, r.index * 32);
    },
    { concurrency: o.concurrency ?? 8, signal: o.signal, isFatal: isFatalError },
  );
  if (failures.length > 0) throw new RangesFailedError(`backup of ${source.description}`, failures, chunkSize, true);
  return { count: stored.size, bytes };
}

/** Errors that will fail every range alike: stop at once instead of trying the rest. */
export function isFatalError(err: unknown): boolean {
  const word = (err as { word?: string }).word;
  return word === 'auth' || word === 'missing' || word === 'billing' || word === 'full';
}
