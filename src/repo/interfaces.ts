/**
 * What the rest of drivesnap may ask of a repository, in small interfaces (desync's store interfaces,
 * restic's backend): the engine's jobs see a `JobRepository`, never the store, the index or the codec
 * context behind it. `Repository` implements them all; only src/repo knows the object layout.
 */
import type { SnapshotMeta, ChunkEncoding } from './format/index.js';
import type { CheckpointEntry, SnapshotFilter, SnapshotRow } from './index-db.js';
import type { RepoLock } from './locks.js';

/**
 * A jobs database: the checkpoints of interrupted jobs, found by key. A repository keeps its backups' and
 * restores' records in its index; copy and clone keep theirs in the user's jobs database (src/cli/jobs-db.ts).
 */
export interface JobRecords {
  /** Starts (or resumes) the job named key; progress already recorded under key is kept. */
  beginJob(key: string, info: Record<string, unknown>): void;
  /** Records finished ranges of a job, in one transaction. */
  checkpoint(key: string, entries: CheckpointEntry[]): void;
  /** Range → chunk id (null for all-zero / no id) of every range the job has finished. */
  jobProgress(key: string): Map<number, Buffer | null>;
  jobInfo(key: string): Record<string, unknown> | undefined;
  /** Forgets a job and its progress (it finished, or was abandoned). */
  endJob(key: string): void;
}

/** A chunk's payload as stored, authenticated under its id: a gzip stream, or the range itself. */
export interface ChunkPayload {
  encoding: ChunkEncoding;
  payload: Buffer;
}

/** Chunks by id: what a backup stores and a restore reads. */
export interface ChunkRepository {
  /** Every range of a snapshot is this long but the last. */
  readonly chunkSize: number;
  /** The id a range is stored under (SHA-256, or HMAC-SHA-256 in an encrypted repository). */
  chunkId(data: Uint8Array): Promise<Buffer>;
  /**
   * Whether the index says the repository holds the chunk, or this process stored it (a cache:
   * `missingChunks` asks the store).
   */
  hasChunk(id: Buffer): boolean;
  /**
   * The stored object of a range (compressed, sealed): CPU work the caller may schedule. The object may be
   * one of the repository's reused buffers: once `putChunk` has stored it, it is the repository's again,
   * so read nothing of it after that (its length stays valid).
   */
  encodeChunk(data: Buffer, id: Buffer): Promise<Buffer>;
  /**
   * Stores an encoded chunk; the object's buffer is reused afterwards. The chunk is durable, and in the
   * index, once `flushChunks` has resolved: nothing durable (a manifest, a checkpoint) may name it before.
   */
  putChunk(id: Buffer, object: Buffer): Promise<void>;
  /** Makes every chunk stored so far durable and records it in the index (saveSnapshot runs it first). */
  flushChunks(): Promise<void>;
  /**
   * A chunk's payload, authenticated (the stored gzip stream is not inflated). With `into` (the caller's
   * reused buffer, maxChunkObjectBytes(chunkSize) long) the object is read and opened there, allocating
   * nothing per chunk: the payload is then a view of `into`, valid until the caller reuses it.
   */
  openChunk(id: Buffer, into?: Buffer): Promise<ChunkPayload>;
  /** A chunk's range, authenticated and inflated. */
  readChunk(id: Buffer): Promise<Buffer>;
  /**
   * Which of these chunks the store itself does not hold (asked of the store, never the index); chunks this
   * process stored and has not flushed yet count as held.
   */
  missingChunks(hexIds: Iterable<string>): Promise<string[]>;
  /** Drops chunks from the index (the store was found not to hold them). */
  forgetChunks(ids: Buffer[]): void;
}

/** A snapshot as the repository holds it (authenticated, or proven against its id). */
export interface AuthenticSnapshot {
  id: string;
  meta: SnapshotMeta;
  table: Buffer;
}

/** Snapshots: the catalogue (from the index) and the manifests (from the store). */
export interface SnapshotStore {
  listSnapshots(filter?: SnapshotFilter): SnapshotRow[];
  /** A snapshot by id, unique id prefix, or `latest` (of one drive when `drive` is given). */
  resolveSnapshot(ref: string, drive?: string): SnapshotRow;
  /** The metadata and table read from the store and authenticated; the index is corrected to match. */
  authenticSnapshot(id: string): Promise<AuthenticSnapshot>;
  /** A snapshot's table, from the index when it is proven against the snapshot id, else from the store. */
  provenTable(id: string): Promise<Buffer>;
  /** Writes the manifest (after every chunk it names) and records it in the index. */
  saveSnapshot(meta: SnapshotMeta, table: Buffer): Promise<string>;
}

/** What a job (backup, restore) needs of a repository: chunks, snapshots, its lock and its job records. */
export interface JobRepository extends ChunkRepository, SnapshotStore {
  /** Problems met that did not stop the job (shown by the CLI). */
  readonly warnings: string[];
  readonly jobs: JobRecords;
  lock(exclusive: boolean, waitMs?: number, signal?: AbortSignal): Promise<RepoLock>;
  /** Brings the index up to date with the store (call it under the lock). */
  sync(): Promise<unknown>;
  /** Changes whenever a prune deletes chunks: a checkpoint from another generation may name deleted chunks. */
  generation(): Promise<string>;
}
