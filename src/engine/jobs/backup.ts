/**
 * Backup: a source (API drive, image file) into a new snapshot. Every snapshot is logically full; only
 * chunks the repository does not hold yet are compressed, sealed and stored ("known chunks", as the
 * Proxmox client does it, but against everything the repository holds, not just the last snapshot).
 */
import { hostname } from 'node:os';
import pLimit from 'p-limit';
import { ID_BYTES, type SnapshotMeta } from '../../repo/format/index.js';
import type { JobRepository } from '../../repo/interfaces.js';
import { TOOL_VERSION } from '../../version.js';
import { isAllZero } from '../codec.js';
import type { BlockSource } from '../ends/types.js';
import { type JobControls, type JobRun, jobControls, jobLock, runJob } from '../job-runner.js';
import { cpuSlots } from '../pipeline.js';
import type { Progress } from '../progress.js';
import { rangeCount, ranges } from '../ranges.js';

export interface BackupTarget {
  driveUuid: string;
  driveName: string;
  account: string;
  endpoint: string;
  /** The drive was claimed by a running server: the copy is crash-consistent only. */
  claimed: boolean;
}

export interface BackupOptions extends JobControls {
  repo: JobRepository;
  source: BlockSource;
  target: BackupTarget;
  tags?: string[];
  /** Extra metadata kept in the manifest (e.g. the server that claimed the drive). */
  extra?: Record<string, unknown>;
}

export interface BackupResult {
  snapshotId: string;
  progress: Progress;
  meta: SnapshotMeta;
}

export function backupJobKey(target: BackupTarget, source: Pick<BlockSource, 'description'>): string {
  return `backup:${target.account}:${target.driveUuid}:${source.description}`;
}

export async function backup(o: BackupOptions): Promise<BackupResult> {
  const { repo, source } = o;
  const chunkSize = repo.chunkSize;
  const label = `backup of ${source.description}`;
  const lock = await jobLock(repo, o.signal, label);
  try {
    // Under the shared lock no prune runs, so what the index says the repository holds stays true.
    await repo.sync();
    const generation = await repo.generation();
    const table = Buffer.alloc(rangeCount(source.size, chunkSize) * ID_BYTES);
    const cpu = pLimit(cpuSlots());
    // Two ranges with the same content in flight at once: the second waits for the first's upload.
    const inFlight = new Map<string, Promise<number>>();
    // Chunks taken as stored because the index says so (or an earlier run did): proven before the commit.
    const reused = new Set<string>();
    let resumedZero = 0;
    let newCount = 0;
    let storedBytes = 0;

    const { progress, committed } = await runJob(
      {
        kind: 'backup',
        label,
        size: source.size,
        chunkSize,
        records: source.once ? undefined : repo.jobs,
        record: { key: backupJobKey(o.target, source), info: { size: source.size, generation, chunkSize } },
        durable: () => repo.flushChunks(),
        ...jobControls(o),
      },
      {
        resumed: (i, id) => {
          if (id) {
            id.copy(table, i * ID_BYTES);
            reused.add(id.toString('hex'));
          } else resumedZero++;
        },
        step: async (r, slot, run) => {
          const data = await source.read(r.offset, r.length, run.buffer(slot, r.length));
          if (isAllZero(data)) {
            run.done(r, 'zero', { read: r.length });
            return;
          }
          const id = await repo.chunkId(data);
          const hex = id.toString('hex');
          let outcome: 'new' | 'unchanged' = 'unchanged';
          let written = 0;
          const pending = inFlight.get(hex);
          if (pending) await pending;
          else if (repo.hasChunk(id)) reused.add(hex);
          else {
            const upload = (async () => {
              const object = await cpu(() => repo.encodeChunk(data, id));
              await repo.putChunk(id, object);
              return object.length;
            })();
            inFlight.set(hex, upload);
            try {
              written = await upload;
            } finally {
              inFlight.delete(hex);
            }
            outcome = 'new';
            newCount++;
            storedBytes += written;
          }
          id.copy(table, r.index * ID_BYTES);
          run.done(r, outcome, { id, read: r.length, written });
        },
        commit: async (run) => {
          const parent = repo.listSnapshots({ driveUuid: o.target.driveUuid }).at(-1)?.id;
          const restored = await storeMissingReused(o, run, table, reused, parent);
          newCount += restored.count;
          storedBytes += restored.bytes;
          const n = run.progress.rangesTotal;
          const zeroTotal = run.progress.count('zero') + resumedZero;
          const meta = backupSnapshotMeta(o.target, {
            size: source.size,
            chunkSize,
            tags: o.tags,
            parent: parent ?? null,
            counts: { zero: zeroTotal, new: newCount, reused: n - zeroTotal - newCount },
            extra: { ...o.extra, storedBytes },
          });
          return { snapshotId: await repo.saveSnapshot(meta, table), meta };
        },
      },
    );
    return { ...committed, progress };
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
  run: JobRun,
  table: Buffer,
  reused: Set<string>,
  parent: string | undefined,
): Promise<{ count: number; bytes: number }> {
  const { repo, source } = o;
  if (parent) {
    const parentTable = await repo.provenTable(parent);
    for (let at = 0; at < parentTable.length; at += ID_BYTES) reused.delete(parentTable.toString('hex', at, at + ID_BYTES));
  }
  const missing = new Set(await repo.missingChunks(reused));
  if (missing.size === 0) return { count: 0, bytes: 0 };
  repo.forgetChunks([...missing].map((hex) => Buffer.from(hex, 'hex')));
  repo.warnings.push(`the index listed ${missing.size} chunk(s) the repository does not hold: they were stored again (run \`drivesnap check\`)`);
  const stored = new Set<string>();
  let bytes = 0;
  await run.pass(
    ranges(source.size, repo.chunkSize, (i) => !missing.has(table.toString('hex', i * ID_BYTES, (i + 1) * ID_BYTES))),
    async (r) => {
      const data = await source.read(r.offset, r.length);
      run.progress.io({ read: r.length });
      const id = await repo.chunkId(data);
      const hex = id.toString('hex');
      if (!stored.has(hex) && !repo.hasChunk(id)) {
        stored.add(hex);
        const object = await repo.encodeChunk(data, id);
        await repo.putChunk(id, object);
        bytes += object.length;
        run.progress.io({ written: object.length });
      }
      // The source may have changed since the first pass: the snapshot names what was read now.
      id.copy(table, r.index * ID_BYTES);
    },
  );
  return { count: stored.size, bytes };
}

/**
 * A backup snapshot's metadata, built in one place: the engine's commit and the sampled incremental of an
 * unwritten drive (src/ops/incremental-source.ts) both record snapshots of this shape.
 */
export function backupSnapshotMeta(
  target: BackupTarget,
  m: { size: number; chunkSize: number; tags?: string[]; parent: string | null; counts: SnapshotMeta['counts']; extra: Record<string, unknown> },
): SnapshotMeta {
  return {
    driveUuid: target.driveUuid,
    driveName: target.driveName,
    accountName: target.account,
    endpoint: target.endpoint,
    size: m.size,
    chunkSize: m.chunkSize,
    time: new Date().toISOString(),
    host: hostname(),
    tags: m.tags ?? [],
    parent: m.parent,
    toolVersion: TOOL_VERSION,
    counts: m.counts,
    claimed: target.claimed,
    extra: m.extra,
  };
}
