/**
 * The local SQLite index: a cache of what the repository holds (chunk ids, the snapshot catalogue, each
 * snapshot's chunk table) plus job checkpoints, so that a backup asks "do we have this chunk?" without a
 * network call (Proxmox's known-chunks set, kept across runs). The repository alone restores everything;
 * losing or dropping this file loses nothing but time to resync.
 *
 * Several processes may share one file (backups of different drives into one repository): WAL lets readers
 * run beside a writer, busy_timeout makes writers queue rather than fail, and each batch is one
 * transaction so a crash leaves whole batches or none.
 */
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ID_BYTES } from './format/ids.js';
import { ZERO_ID } from './format/manifest.js';
import { ChunkTableInvalidError, SnapshotAmbiguousError } from './index-errors.js';
import {
  type CheckpointEntry,
  SNAPSHOT_COLUMN_LIST,
  type SnapshotColumns,
  type SnapshotRow,
  snapshotFromColumns,
  snapshotToColumns,
} from './index-rows.js';
import { prepareSchema } from './index-schema.js';
import { makeDirectorySync } from '../util/make-directory.js';

export type { CheckpointEntry, SnapshotRow } from './index-rows.js';
export { defaultIndexPath } from './index-path.js';
export { SnapshotAmbiguousError } from './index-errors.js';

/** Rows per page when walking all chunk ids, so no statement stays open across the caller's work. */
const WALK_PAGE = 10_000;
/** How long a writer waits for another process's transaction before giving up with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 30_000;
/** Page cache per connection: holds the hot part of a million-chunk id B-tree, so random inserts stay fast. */
const CACHE_KIB = 64 * 1024;

export interface SnapshotFilter {
  driveUuid?: string;
  tag?: string;
  host?: string;
}

type Stmt<P extends unknown[] = unknown[], R = unknown> = Database.Statement<P, R>;

export class RepoIndex {
  private readonly db: Database.Database;
  private readonly listStatements = new Map<string, Stmt<string[], SnapshotColumns>>();
  private readonly s: ReturnType<typeof prepareStatements>;

  private constructor(
    readonly path: string,
    db: Database.Database,
  ) {
    this.db = db;
    this.s = prepareStatements(db);
  }

  /** Opens (creating directories and file as needed) the index at path. */
  static open(path: string): RepoIndex {
    makeDirectorySync(dirname(path));
    try {
      return new RepoIndex(path, openDatabase(path));
    } catch (err) {
      if (!isUnreadableDatabase(err)) throw err;
      // Only a cache: a damaged file is replaced, and the caller's resync fills the new one.
      for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
      return new RepoIndex(path, openDatabase(path));
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  // ---- chunks -------------------------------------------------------------------------------------

  hasChunk(id: Buffer): boolean {
    return this.s.hasChunk.get(id) !== undefined;
  }

  /** Records chunks as stored; ids already present keep their row. One transaction. */
  addChunks(rows: { id: Buffer; size: number }[]): void {
    const add = this.db.transaction(() => {
      for (const row of rows) this.s.addChunk.run(row.id, row.size);
    });
    add.immediate();
  }

  removeChunks(ids: Buffer[]): void {
    const remove = this.db.transaction(() => {
      for (const id of ids) this.s.removeChunk.run(id);
    });
    remove.immediate();
  }

  chunkCount(): number {
    return this.s.chunkCount.get() ?? 0;
  }

  storedBytes(): number {
    return this.s.storedBytes.get() ?? 0;
  }

  /** Every chunk id, in id order, read a page at a time so the caller may write to the index meanwhile. */
  *allChunkIds(): Iterable<Buffer> {
    let page = this.s.firstChunkPage.all(WALK_PAGE);
    while (page.length > 0) {
      yield* page;
      if (page.length < WALK_PAGE) return;
      page = this.s.nextChunkPage.all(page[page.length - 1]!, WALK_PAGE);
    }
  }

  /** Replaces the chunk set with what a listing of the store found, in one transaction. */
  replaceAllChunks(rows: Iterable<{ id: Buffer; size: number }>): void {
    const replace = this.db.transaction(() => {
      this.s.removeAllChunks.run();
      for (const row of rows) this.s.addChunk.run(row.id, row.size);
    });
    replace.immediate();
  }

  // ---- snapshots ----------------------------------------------------------------------------------

  /** Adds (or replaces) a snapshot and its chunk table: n × 32-byte ids, all zero for an all-zero range. */
  addSnapshot(row: SnapshotRow, table: Buffer): void {
    if (table.length % ID_BYTES !== 0) throw new ChunkTableInvalidError(row.id, table.length);
    const add = this.db.transaction(() => {
      this.s.putSnapshot.run(snapshotToColumns(row));
      this.s.putTable.run(row.id, table);
    });
    add.immediate();
  }

  removeSnapshot(id: string): void {
    const remove = this.db.transaction(() => {
      this.s.removeSnapshot.run(id);
      this.s.removeTable.run(id);
    });
    remove.immediate();
  }

  /** Snapshots matching every given filter, oldest first. */
  listSnapshots(filter: SnapshotFilter = {}): SnapshotRow[] {
    const params: string[] = [];
    const where: string[] = [];
    if (filter.driveUuid !== undefined) {
      where.push('drive_uuid = ?');
      params.push(filter.driveUuid);
    }
    if (filter.host !== undefined) {
      where.push('host = ?');
      params.push(filter.host);
    }
    if (filter.tag !== undefined) {
      where.push('EXISTS (SELECT 1 FROM json_each(snapshots.tags) WHERE json_each.value = ?)');
      params.push(filter.tag);
    }
    return this.listStatement(where).all(...params).map(snapshotFromColumns);
  }

  /** The snapshot whose id is idOrPrefix, or the only one whose id starts with it. */
  findSnapshot(idOrPrefix: string): SnapshotRow | undefined {
    if (idOrPrefix === '') return undefined;
    const exact = this.s.getSnapshot.get(idOrPrefix);
    if (exact !== undefined) return snapshotFromColumns(exact);
    const matches = this.s.findByPrefix.all(idOrPrefix.length, idOrPrefix);
    if (matches.length > 1) throw new SnapshotAmbiguousError(idOrPrefix, matches.map((m) => m.id));
    return matches.length === 1 ? snapshotFromColumns(matches[0]!) : undefined;
  }

  snapshotTable(id: string): Buffer | undefined {
    return this.s.getTable.get(id);
  }

  snapshotIds(): Set<string> {
    return new Set(this.s.snapshotIds.all());
  }

  /** Hex ids of every chunk any snapshot's table names (zero markers excluded): what prune must keep. */
  referencedChunkIds(): Set<string> {
    const referenced = new Set<string>();
    for (const table of this.s.allTables.iterate()) {
      for (let offset = 0; offset + ID_BYTES <= table.length; offset += ID_BYTES) {
        if (ZERO_ID.compare(table, offset, offset + ID_BYTES) === 0) continue;
        referenced.add(table.toString('hex', offset, offset + ID_BYTES));
      }
    }
    return referenced;
  }

  // ---- job checkpoints ----------------------------------------------------------------------------

  /** Starts (or resumes) the job named key; progress already recorded under key is kept. */
  beginJob(key: string, info: Record<string, unknown>): void {
    this.s.beginJob.run(key, JSON.stringify(info));
  }

  /** Records finished ranges of a job, in one transaction. */
  checkpoint(key: string, entries: CheckpointEntry[]): void {
    const record = this.db.transaction(() => {
      this.s.ensureJob.run(key);
      for (const entry of entries) this.s.putProgress.run(key, entry.range, entry.id);
    });
    record.immediate();
  }

  /** Range → chunk id (null for all-zero / no id) of every range the job has finished. */
  jobProgress(key: string): Map<number, Buffer | null> {
    const progress = new Map<number, Buffer | null>();
    for (const row of this.s.getProgress.all(key)) progress.set(row.range, row.id);
    return progress;
  }

  jobInfo(key: string): Record<string, unknown> | undefined {
    const info = this.s.getJobInfo.get(key);
    return info === undefined ? undefined : (JSON.parse(info) as Record<string, unknown>);
  }

  /** Keys of unfinished jobs, optionally only those starting with prefix, in key order. */
  listJobs(prefix = ''): string[] {
    return this.s.listJobs.all(prefix.length, prefix);
  }

  /** Forgets a job and its progress (it finished, or was abandoned). */
  endJob(key: string): void {
    const end = this.db.transaction(() => {
      this.s.removeProgress.run(key);
      this.s.removeJob.run(key);
    });
    end.immediate();
  }

  // ---- key/value ----------------------------------------------------------------------------------

  get(key: string): string | undefined {
    return this.s.getValue.get(key);
  }

  set(key: string, value: string): void {
    this.s.setValue.run(key, value);
  }

  /**
   * Drops everything cached from the repository (chunks, snapshots, tables, key/values) before a rebuild.
   * Job checkpoints describe work on drives, not the repository, so they stay unless asked.
   */
  clear(opts: { checkpoints?: boolean } = {}): void {
    const clear = this.db.transaction(() => {
      this.db.exec('DELETE FROM chunks; DELETE FROM snapshots; DELETE FROM snapshot_tables; DELETE FROM kv;');
      if (opts.checkpoints === true) this.db.exec('DELETE FROM job_progress; DELETE FROM jobs;');
    });
    clear.immediate();
  }

  // ---- statement caches ---------------------------------------------------------------------------

  private listStatement(where: string[]): Stmt<string[], SnapshotColumns> {
    const clause = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
    let stmt = this.listStatements.get(clause);
    if (stmt === undefined) {
      stmt = this.db.prepare<string[], SnapshotColumns>(
        `SELECT ${SNAPSHOT_COLUMN_LIST} FROM snapshots ${clause} ORDER BY time, id`,
      );
      this.listStatements.set(clause, stmt);
    }
    return stmt;
  }
}

function openDatabase(path: string): Database.Database {
  const db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
  try {
    db.pragma('journal_mode = WAL');
    // In WAL, NORMAL loses at most the last transactions on power loss, never consistency: fine for a cache.
    db.pragma('synchronous = NORMAL');
    db.pragma(`cache_size = -${CACHE_KIB}`);
    prepareSchema(db);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

function isUnreadableDatabase(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT';
}

function prepareStatements(db: Database.Database) {
  return {
    hasChunk: db.prepare<[Buffer], number>('SELECT 1 FROM chunks WHERE id = ?').pluck(),
    addChunk: db.prepare<[Buffer, number]>('INSERT OR IGNORE INTO chunks (id, size) VALUES (?, ?)'),
    removeChunk: db.prepare<[Buffer]>('DELETE FROM chunks WHERE id = ?'),
    removeAllChunks: db.prepare<[]>('DELETE FROM chunks'),
    chunkCount: db.prepare<[], number>('SELECT count(*) FROM chunks').pluck(),
    storedBytes: db.prepare<[], number>('SELECT coalesce(sum(size), 0) FROM chunks').pluck(),
    firstChunkPage: db.prepare<[number], Buffer>('SELECT id FROM chunks ORDER BY id LIMIT ?').pluck(),
    nextChunkPage: db
      .prepare<[Buffer, number], Buffer>('SELECT id FROM chunks WHERE id > ? ORDER BY id LIMIT ?')
      .pluck(),

    putSnapshot: db.prepare<[SnapshotColumns]>(
      `INSERT OR REPLACE INTO snapshots (${SNAPSHOT_COLUMN_LIST}) VALUES (@id, @drive_uuid, @drive_name,
       @account, @endpoint, @size, @time, @host, @tags, @parent, @chunk_count, @zero_count, @new_count,
       @claimed, @meta)`,
    ),
    putTable: db.prepare<[string, Buffer]>('INSERT OR REPLACE INTO snapshot_tables (id, ids) VALUES (?, ?)'),
    removeSnapshot: db.prepare<[string]>('DELETE FROM snapshots WHERE id = ?'),
    removeTable: db.prepare<[string]>('DELETE FROM snapshot_tables WHERE id = ?'),
    getSnapshot: db.prepare<[string], SnapshotColumns>(
      `SELECT ${SNAPSHOT_COLUMN_LIST} FROM snapshots WHERE id = ?`,
    ),
    findByPrefix: db.prepare<[number, string], SnapshotColumns>(
      `SELECT ${SNAPSHOT_COLUMN_LIST} FROM snapshots WHERE substr(id, 1, ?) = ? ORDER BY id`,
    ),
    getTable: db.prepare<[string], Buffer>('SELECT ids FROM snapshot_tables WHERE id = ?').pluck(),
    snapshotIds: db.prepare<[], string>('SELECT id FROM snapshots').pluck(),
    allTables: db.prepare<[], Buffer>('SELECT ids FROM snapshot_tables').pluck(),

    beginJob: db.prepare<[string, string]>(
      'INSERT INTO jobs (key, info) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET info = excluded.info',
    ),
    ensureJob: db.prepare<[string]>("INSERT OR IGNORE INTO jobs (key, info) VALUES (?, '{}')"),
    putProgress: db.prepare<[string, number, Buffer | null]>(
      'INSERT OR REPLACE INTO job_progress (job, range, id) VALUES (?, ?, ?)',
    ),
    getProgress: db.prepare<[string], { range: number; id: Buffer | null }>(
      'SELECT range, id FROM job_progress WHERE job = ? ORDER BY range',
    ),
    getJobInfo: db.prepare<[string], string>('SELECT info FROM jobs WHERE key = ?').pluck(),
    listJobs: db
      .prepare<[number, string], string>('SELECT key FROM jobs WHERE substr(key, 1, ?) = ? ORDER BY key')
      .pluck(),
    removeProgress: db.prepare<[string]>('DELETE FROM job_progress WHERE job = ?'),
    removeJob: db.prepare<[string]>('DELETE FROM jobs WHERE key = ?'),

    getValue: db.prepare<[string], string>('SELECT value FROM kv WHERE key = ?').pluck(),
    setValue: db.prepare<[string, string]>(
      'INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ),
  };
}
