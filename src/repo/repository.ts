/**
 * A repository: the object store, the format's codecs, the SQLite index and the locks composed in one
 * place. The store is the truth; the index is a cache brought up to date on open (snapshots written by
 * other hosts, chunks deleted by a prune anywhere: see `sync`).
 */
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import pLimit from 'p-limit';
import { hostname } from 'node:os';
import { DrivesnapError } from '../errors.js';
import { nativeDirectIo } from '../codec/active.js';
import { ScratchBuffers } from '../codec/scratch.js';
import { chunkIdPool, type HashPool, nativeChunkIds } from '../hashing/index.js';
import { ObjectNotFoundError } from '../store/errors.js';
import { DIRECT_ALIGN } from '../util/direct-io.js';
import type { Leftovers, ObjectStore } from '../store/types.js';
import {
  type CodecContext,
  type StoredManifest,
  parseManifestMeta,
  provesManifest,
  type RepoConfig,
  type SnapshotMeta,
  CHUNKS_PREFIX,
  CONFIG_OBJECT,
  chunkId,
  chunkObjectName,
  decodeChunk,
  decodeConfig,
  decodeManifest,
  deriveKeys,
  encodeChunk,
  maxChunkObjectBytes,
  encodeConfig,
  encodeManifest,
  makeKeyFile,
  newConfig,
  describeKeyFile,
  isHexId,
  KEYS_PREFIX,
  type KeyFileInfo,
  keyObjectName,
  newMasterKey,
  openChunkPayload,
  openKeyFile,
  peekConfig,
  rangeCount,
  SNAPSHOTS_PREFIX,
  snapshotObjectName,
  WrongPasswordError,
} from './format/index.js';
import { CorruptObjectError, RepoVersionError } from './format/errors.js';
import { type SnapshotFilter, RepoIndex, type SnapshotRow } from './index-db.js';
import type { AuthenticSnapshot, ChunkPayload, JobRecords, JobRepository } from './interfaces.js';
import { type LockInfo, type RepoLock, acquireLock, listLocks } from './locks.js';

export type { AuthenticSnapshot } from './interfaces.js';

export { CONFIG_OBJECT };
/** Advanced by every prune before it deletes anything: an index synced at another generation relists chunks. */
export const GENERATION_OBJECT = 'generation';
/** Idle object buffers kept (encodeChunk): as many as a backup's ranges in flight at the default concurrency. */
const OBJECT_BUFFERS_KEPT = 8;

/** A chunk object as a listing of the store shows it. */
export interface StoredChunk {
  hex: string;
  size: number;
}

/** A key file's public facts (never the key): its id, when and where it was made. */
export type KeyListing = KeyFileInfo & { id: string };

export class RepoNotFoundError extends DrivesnapError {
  constructor(location: string) {
    super('REPO_NOT_FOUND', `no repository at ${location}: create one with \`drivesnap init\` or check --repo`);
  }
}

export interface InitOptions {
  password?: string;
  encrypted: boolean;
  compressionLevel?: number;
  /** For tests: cheaper scrypt parameters. */
  scrypt?: { N: number; r: number; p: number };
  /** Where the index lives, from the repository id (an S3 repository's index is in the user's cache). */
  indexPath: (repoId: string) => string;
}

export interface OpenOptions {
  password?: string;
  indexPath: (repoId: string) => string;
}

export class Repository implements JobRepository {
  /** Problems met while opening or syncing that did not stop the command (shown by the CLI). */
  readonly warnings: string[] = [];
  /** Started on the first range in shared memory (a job's slot buffer); close() ends its workers. */
  private hashPool: HashPool | undefined;
  /** Chunk ids through the addon (null: not in use; undefined: not asked yet). */
  private nativeIds: ((data: Uint8Array) => Promise<Buffer>) | null | undefined;
  /** Buffers encodeChunk seals objects into (see there), and which buffer each object lent out is a view of. */
  private readonly objectBuffers = new ScratchBuffers(OBJECT_BUFFERS_KEPT, objectBuffer);
  private readonly lentObjects = new WeakMap<Buffer, Buffer>();
  /** Chunks stored since the last flushChunks, by hex id: held (hasChunk) but not durable, nor in the index, yet. */
  private readonly unflushed = new Map<string, { id: Buffer; size: number }>();

  /**
   * `store`, `ctx` and `index` are the repository's parts: only src/repo (and tests that damage a
   * repository on purpose) touch them; everything else asks the methods below.
   */
  private constructor(
    readonly store: ObjectStore,
    readonly config: RepoConfig,
    readonly ctx: CodecContext,
    readonly index: RepoIndex,
    private readonly master: Buffer | undefined,
  ) {}

  get location(): string {
    return this.store.location;
  }

  get chunkSize(): number {
    return this.config.chunkSize;
  }

  /** The records of this repository's backups and restores (interrupted ones resume from them). */
  get jobs(): JobRecords {
    return this.index;
  }

  static async init(store: ObjectStore, opts: InitOptions): Promise<Repository> {
    if (await store.stat(CONFIG_OBJECT)) {
      throw new DrivesnapError('REPO_EXISTS', `a repository exists already at ${store.location}`);
    }
    if (opts.encrypted && !opts.password) {
      throw new DrivesnapError(
        'PASSWORD_REQUIRED',
        'an encrypted repository needs a password: set DRIVESNAP_PASSWORD or --password-file (or use --no-encryption)',
      );
    }
    const config = newConfig({ encrypted: opts.encrypted, compressionLevel: opts.compressionLevel });
    // The index first: a path it cannot be kept at fails the init before anything is written to the store.
    const index = RepoIndex.open(opts.indexPath(config.id));
    let master: Buffer | undefined;
    let keys: CodecContext['keys'];
    try {
      if (opts.encrypted) {
        master = newMasterKey();
        keys = await deriveKeys(master);
        const keyFile = await makeKeyFile(master, opts.password!, { scrypt: opts.scrypt, host: hostname() });
        await store.put(keyObjectName(keyFile.id), keyFile.body);
      }
      await store.put(GENERATION_OBJECT, Buffer.from(randomBytes(16).toString('hex')));
      // config last: a repository exists once its config does, so an interrupted init can simply be rerun.
      await store.put(CONFIG_OBJECT, await encodeConfig(config, keys));
    } catch (err) {
      index.close();
      throw err;
    }
    index.clear();
    index.set('repository', config.id);
    index.set('encryption', config.encryption);
    const repo = new Repository(store, config, { config, keys }, index, master);
    await repo.sync();
    return repo;
  }

  static async open(store: ObjectStore, opts: OpenOptions): Promise<Repository> {
    const raw = await readConfigObject(store);
    const peeked = peekConfig(raw);
    const keyNames = await listKeyNames(store);
    // Key files mean an encrypted repository whatever the config says: a config edited to read "none"
    // must not make this client write plaintext (repository-format.md §3, "Downgrade").
    if (peeked.encryption === 'none' && keyNames.length > 0) throw configDowngraded(`the repository holds ${keyNames.length} key file(s)`);
    let master: Buffer | undefined;
    let keys: CodecContext['keys'];
    if (peeked.encryption !== 'none') {
      if (!opts.password) {
        throw new DrivesnapError(
          'PASSWORD_REQUIRED',
          `the repository at ${store.location} is encrypted: set DRIVESNAP_PASSWORD or --password-file`,
        );
      }
      master = await unlockMasterKey(store, keyNames, opts.password);
      keys = await deriveKeys(master);
    }
    const config = await decodeConfig(raw, keys);
    const index = RepoIndex.open(opts.indexPath(config.id));
    if (index.get('repository') !== config.id) {
      index.clear();
      index.set('repository', config.id);
    } else if (index.get('encryption') !== undefined && index.get('encryption') !== config.encryption) {
      // This client has seen the repository encrypted: key files deleted and the config edited together
      // still do not make it write plaintext.
      const seen = index.get('encryption');
      index.close();
      throw configDowngraded(`this computer has seen it with encryption ${seen}`);
    }
    index.set('encryption', config.encryption);
    const repo = new Repository(store, config, { config, keys }, index, master);
    await repo.sync();
    return repo;
  }

  /**
   * Brings the index up to date with the store: snapshots added or removed by any host, and, when a prune
   * has run since the last sync (the generation changed), the whole list of chunks. Call it under a lock
   * so that no prune runs between the sync and the work that trusts it.
   */
  async sync(): Promise<{ added: number; removed: number; chunksRelisted: boolean; unreadable: string[] }> {
    const generation = await this.generation();
    let chunksRelisted = false;
    if (this.index.get('generation') !== generation) {
      const rows: { id: Buffer; size: number }[] = [];
      for await (const c of this.storedChunks()) rows.push({ id: Buffer.from(c.hex, 'hex'), size: c.size });
      this.index.replaceAllChunks(rows);
      chunksRelisted = true;
    }
    const inStore = new Set<string>();
    for await (const id of this.storedSnapshotIds()) inStore.add(id);
    const inIndex = this.index.snapshotIds();
    let added = 0;
    let removed = 0;
    // One damaged manifest must not make the rest of the repository unreachable: it stays out of the
    // index (so nothing restores from it or trusts it), is reported, and `check` names it.
    const unreadable: string[] = [];
    for (const id of inStore) {
      if (inIndex.has(id)) continue;
      let m: StoredManifest;
      try {
        m = await this.loadManifest(id);
      } catch (err) {
        if (!(err instanceof DrivesnapError) || err instanceof WrongPasswordError) throw err;
        unreadable.push(id);
        this.warnings.push(`snapshot ${id.slice(0, 12)} is unreadable and was skipped: ${err.message} (run \`drivesnap check\`)`);
        continue;
      }
      this.index.addSnapshot(snapshotRow(id, m.meta, m.metaJson), m.table);
      added++;
    }
    for (const id of inIndex) {
      if (!inStore.has(id)) {
        this.index.removeSnapshot(id);
        removed++;
      }
    }
    this.index.set('generation', generation);
    return { added, removed, chunksRelisted, unreadable };
  }

  /**
   * Drops the index's cached view of the repository and rebuilds it from the store. What the index
   * remembers about the repository itself (its id, that it is encrypted) is kept.
   */
  async rebuildIndex(): Promise<Awaited<ReturnType<Repository['sync']>>> {
    this.index.clear();
    this.index.set('repository', this.config.id);
    this.index.set('encryption', this.config.encryption);
    return this.sync();
  }

  async generation(): Promise<string> {
    try {
      return (await this.store.get(GENERATION_OBJECT)).toString('utf8').trim();
    } catch (err) {
      if (err instanceof ObjectNotFoundError) return '';
      throw err;
    }
  }

  /** Prune calls this, holding the exclusive lock, before it deletes anything. */
  async advanceGeneration(): Promise<string> {
    const next = randomBytes(16).toString('hex');
    await this.store.put(GENERATION_OBJECT, Buffer.from(next));
    return next;
  }

  /** `signal` ends a wait for a locked repository early (Ctrl-C while another process holds it). */
  lock(exclusive: boolean, waitMs?: number, signal?: AbortSignal): Promise<RepoLock> {
    return acquireLock(this.store, { exclusive, waitMs, signal });
  }

  // ---- chunks ---------------------------------------------------------------------------------------

  /**
   * Through the addon on the thread pool when it is in use (any range, in place); else a range in shared
   * memory (the jobs' slot buffers) is hashed in place on a worker thread, others on this one (src/hashing).
   */
  chunkId(data: Uint8Array): Promise<Buffer> {
    if (this.nativeIds === undefined) this.nativeIds = nativeChunkIds(this.ctx) ?? null;
    if (this.nativeIds) return this.nativeIds(data);
    if (!(data.buffer instanceof SharedArrayBuffer)) return chunkId(data, this.ctx);
    this.hashPool ??= chunkIdPool(this.ctx);
    return this.hashPool.hash(data);
  }

  hasChunk(id: Buffer): boolean {
    return (this.unflushed.size > 0 && this.unflushed.has(id.toString('hex'))) || this.index.hasChunk(id);
  }

  /**
   * Objects are sealed into reused buffers, given back when putChunk has stored them: a fresh 1-4 MiB
   * object per chunk was garbage until V8's next collection (it collects after 64 MiB of such external
   * memory), which raised a full backup's peak RSS by tens of MiB.
   */
  async encodeChunk(data: Buffer, id: Buffer): Promise<Buffer> {
    const buffer = this.objectBuffers.take(maxChunkObjectBytes(this.ctx.config.chunkSize));
    try {
      const object = await encodeChunk(data, id, this.ctx, buffer);
      if (object.buffer === buffer.buffer) this.lentObjects.set(object, buffer);
      else this.objectBuffers.give(buffer);
      return object;
    } catch (err) {
      this.objectBuffers.give(buffer);
      throw err;
    }
  }

  /**
   * Stores an encoded chunk (see `encodeChunk`), batched: it is durable, and in the index, once
   * `flushChunks` has run. Before that no manifest or checkpoint may name it, so a crash leaves at most
   * temp files, never an index or a snapshot that names a chunk the disk lost.
   */
  async putChunk(id: Buffer, object: Buffer): Promise<void> {
    await this.store.put(chunkObjectName(id), object, { batched: true });
    this.unflushed.set(id.toString('hex'), { id, size: object.length });
    // Only once stored: after a failed put the caller may still hold the object and try again.
    const buffer = this.lentObjects.get(object);
    if (buffer) {
      this.lentObjects.delete(object);
      this.objectBuffers.give(buffer);
    }
  }

  /** What interrupted backups left in the store (see ObjectStore.removeLeftovers): prune, under the exclusive lock. */
  removeLeftovers(opts: { dryRun?: boolean }): Promise<Leftovers> {
    return this.store.removeLeftovers(opts);
  }

  /** Makes every chunk stored so far durable, then records it in the index. */
  async flushChunks(): Promise<void> {
    const batch = [...this.unflushed.values()];
    await this.store.flush();
    this.index.addChunks(batch);
    for (const c of batch) this.unflushed.delete(c.id.toString('hex'));
  }

  private getChunkObject(id: Buffer, into?: Buffer): Promise<Buffer> {
    return this.store.get(chunkObjectName(id), into);
  }

  async openChunk(id: Buffer, into?: Buffer): Promise<ChunkPayload> {
    // The object read is ours alone: decrypted where it lies, no second buffer per chunk (peak RSS).
    return openChunkPayload(await this.getChunkObject(id, into), id, this.ctx, { inPlace: true });
  }

  async readChunk(id: Buffer): Promise<Buffer> {
    return decodeChunk(await this.getChunkObject(id), id, this.ctx, { inPlace: true });
  }

  forgetChunks(ids: Buffer[]): void {
    this.index.removeChunks(ids);
  }

  /** Every chunk object the store holds (a listing: the truth, not the index). */
  async *storedChunks(): AsyncIterable<StoredChunk> {
    for await (const o of this.store.list(CHUNKS_PREFIX)) {
      const hex = o.name.slice(o.name.lastIndexOf('/') + 1);
      if (isHexId(hex)) yield { hex, size: o.size };
    }
  }

  /** Hex ids of every chunk a snapshot in the index references: what prune must keep. */
  referencedChunkIds(): Set<string> {
    return this.index.referencedChunkIds();
  }

  /** Every chunk id the index lists. */
  indexedChunkIds(): Iterable<Buffer> {
    return this.index.allChunkIds();
  }

  /**
   * Deletes chunks (prune, holding the exclusive lock). The generation is advanced first, so every host's
   * index relists chunks on its next sync even when this is killed half way; the index follows each batch.
   */
  async deleteChunks(chunks: StoredChunk[], opts: { concurrency: number; onDelete?: (done: number, total: number) => void }): Promise<void> {
    const generation = await this.advanceGeneration();
    const limit = pLimit(opts.concurrency);
    let done = 0;
    const batch: Buffer[] = [];
    await Promise.all(
      chunks.map((c) =>
        limit(async () => {
          const id = Buffer.from(c.hex, 'hex');
          await this.store.delete(chunkObjectName(id));
          batch.push(id);
          if (batch.length >= DELETE_BATCH) this.index.removeChunks(batch.splice(0));
          opts.onDelete?.(++done, chunks.length);
        }),
      ),
    );
    this.index.removeChunks(batch);
    // Our own index saw every deletion: it is current for the new generation.
    this.index.set('generation', generation);
  }

  /** What the index holds, for `index rebuild`'s summary. */
  indexSummary(): { path: string; chunks: number; storedBytes: number } {
    return { path: this.index.path, chunks: this.index.chunkCount(), storedBytes: this.index.storedBytes() };
  }

  // ---- snapshots ------------------------------------------------------------------------------------

  /** Snapshots in the index matching every given filter, oldest first. */
  listSnapshots(filter: SnapshotFilter = {}): SnapshotRow[] {
    return this.index.listSnapshots(filter);
  }

  /** Ids of the snapshots the index lists. */
  indexedSnapshotIds(): Set<string> {
    return this.index.snapshotIds();
  }

  /** A snapshot's table as the index caches it (unproven: for statistics, never for restores). */
  cachedTable(id: string): Buffer | undefined {
    return this.index.snapshotTable(id);
  }

  /** Ids of the snapshots the store holds (a listing: the truth, not the index). */
  async *storedSnapshotIds(): AsyncIterable<string> {
    for await (const o of this.store.list(SNAPSHOTS_PREFIX)) yield o.name.slice(SNAPSHOTS_PREFIX.length);
  }

  /** Writes the manifest (once every chunk stored so far is durable) and records it in the index. */
  async saveSnapshot(meta: SnapshotMeta, table: Buffer): Promise<string> {
    const { id, name, object, metaJson } = await encodeManifest({ meta, table }, this.ctx);
    await this.flushChunks();
    await this.store.put(name, object);
    this.index.addSnapshot(snapshotRow(id, meta, metaJson), table);
    return id;
  }

  async loadManifest(id: string): Promise<StoredManifest> {
    const object = await this.store.get(SNAPSHOTS_PREFIX + id);
    return decodeManifest(object, id, this.ctx);
  }

  /**
   * A snapshot's metadata and table as the repository holds them: the manifest is read from the store and
   * authenticated. What restores and verification use; the index is never trusted for them. When the
   * index's copy differs, it is corrected and a warning says so.
   */
  async authenticSnapshot(id: string): Promise<AuthenticSnapshot> {
    const m = await this.loadManifest(id);
    const cached = this.indexMatches(id, m);
    if (cached !== 'same') {
      this.index.addSnapshot(snapshotRow(id, m.meta, m.metaJson), m.table);
      if (cached === 'differs') this.warnings.push(`the index's record of snapshot ${id.slice(0, 12)} differed from the repository and was corrected`);
    }
    return { id, meta: m.meta, table: m.table };
  }

  /** How the index's record of snapshot `id` compares with its manifest `m` (read from the store). */
  indexMatches(id: string, m: StoredManifest): 'same' | 'differs' | 'absent' {
    const row = this.index.findSnapshot(id);
    if (!row || row.id !== id) return 'absent';
    const same = this.index.snapshotTable(id)?.equals(m.table) && sameRow(row, snapshotRow(id, m.meta, m.metaJson));
    return same ? 'same' : 'differs';
  }

  /**
   * Proves every snapshot the index holds against its id (a hash, or a MAC, of the metadata text and the
   * table: CPU only, no request). A record that fails the proof is replaced by the manifest read from the
   * store. Returns the ids corrected. Prune calls this before it trusts the index's tables.
   */
  async proveIndexSnapshots(): Promise<string[]> {
    const corrected: string[] = [];
    for (const row of this.index.listSnapshots()) {
      const table = this.index.snapshotTable(row.id);
      if (table && row.metaJson !== undefined && (await this.rowIsProven(row, table))) continue;
      const m = await this.loadManifest(row.id);
      this.index.addSnapshot(snapshotRow(row.id, m.meta, m.metaJson), m.table);
      corrected.push(row.id);
      this.warnings.push(`the index's record of snapshot ${row.id.slice(0, 12)} did not match its id and was reloaded from the repository`);
    }
    return corrected;
  }

  /** A snapshot's table, from the index when it is proven against the snapshot id, else from the store. */
  async provenTable(id: string): Promise<Buffer> {
    const row = this.index.findSnapshot(id);
    const table = this.index.snapshotTable(id);
    if (row && table && row.metaJson !== undefined && (await this.rowIsProven(row, table))) return table;
    return (await this.authenticSnapshot(id)).table;
  }

  /** The row's columns must also be those its proven metadata gives (size, drive...), not just the text. */
  private async rowIsProven(row: SnapshotRow, table: Buffer): Promise<boolean> {
    if (!(await provesManifest(row.id, row.metaJson!, table, this.ctx))) return false;
    try {
      return sameRow(row, snapshotRow(row.id, parseManifestMeta(row.metaJson!, snapshotObjectName(row.id)), row.metaJson));
    } catch {
      return false;
    }
  }

  /**
   * Which of these chunks the store itself does not hold (asked of the store, never the index). Few ids are
   * stat'ed one by one; many are checked against one listing of the store's chunks (cheaper on S3).
   */
  async missingChunks(hexIds: Iterable<string>): Promise<string[]> {
    // Chunks stored by this process and not yet flushed are held: saveSnapshot flushes them first.
    const wanted = [...new Set(hexIds)].filter((hex) => !this.unflushed.has(hex));
    if (wanted.length > LIST_INSTEAD_OF_STAT) {
      const present = new Set<string>();
      for await (const c of this.storedChunks()) present.add(c.hex);
      return wanted.filter((hex) => !present.has(hex));
    }
    const missing: string[] = [];
    const limit = pLimit(STAT_CONCURRENCY);
    await Promise.all(
      wanted.map((hex) =>
        limit(async () => {
          if (!(await this.store.stat(chunkObjectName(Buffer.from(hex, 'hex'))))) missing.push(hex);
        }),
      ),
    );
    return missing;
  }

  async deleteSnapshot(id: string): Promise<void> {
    await this.store.delete(SNAPSHOTS_PREFIX + id);
    this.index.removeSnapshot(id);
  }

  /** A snapshot by id, unique id prefix, or `latest` (of one drive when `drive` is given). */
  resolveSnapshot(ref: string, drive?: string): SnapshotRow {
    if (ref === 'latest') {
      const all = this.index
        .listSnapshots()
        .filter((s) => !drive || isSnapshotOfDrive(s, drive));
      const last = all[all.length - 1];
      if (!last) {
        throw new DrivesnapError('SNAPSHOT_NOT_FOUND', drive ? `no snapshot of ${drive} in the repository` : 'the repository holds no snapshot');
      }
      const drives = new Set(all.map((s) => s.driveUuid));
      if (!drive && drives.size > 1) {
        throw new DrivesnapError('SNAPSHOT_AMBIGUOUS', '`latest` is ambiguous: the repository holds several drives; add --drive');
      }
      return last;
    }
    const row = this.index.findSnapshot(ref);
    if (!row) throw new DrivesnapError('SNAPSHOT_NOT_FOUND', `no snapshot ${ref} in the repository (see \`drivesnap snapshots\`)`);
    return row;
  }

  /** Adds a password; the repository must be open (its master key known). */
  async addKey(password: string, scrypt?: { N: number; r: number; p: number }): Promise<string> {
    if (!this.master) throw new DrivesnapError('NOT_ENCRYPTED', 'this repository is not encrypted: it has no keys');
    const keyFile = await makeKeyFile(this.master, password, { scrypt, host: hostname() });
    await this.store.put(keyObjectName(keyFile.id), keyFile.body);
    return keyFile.id;
  }

  /** Every key file, described; a damaged one fails the listing (naming it). */
  async listKeys(): Promise<KeyListing[]> {
    const keys: KeyListing[] = [];
    for (const name of await listKeyNames(this.store)) {
      keys.push({ id: name.slice(KEYS_PREFIX.length), ...describeKeyFile(await this.store.get(name), name) } as KeyListing);
    }
    return keys;
  }

  /** Key files that cannot be read, by object name, for `check`. */
  async unreadableKeys(): Promise<{ object: string; error: unknown }[]> {
    const bad: { object: string; error: unknown }[] = [];
    for (const name of await listKeyNames(this.store)) {
      try {
        describeKeyFile(await this.store.get(name), name);
      } catch (error) {
        bad.push({ object: name, error });
      }
    }
    return bad;
  }

  /** Removes the key whose id starts with `prefix`; never the only one (the repository would be unreadable). */
  async removeKey(prefix: string): Promise<string> {
    const names = await listKeyNames(this.store);
    const matches = names.filter((name) => name.slice(KEYS_PREFIX.length).startsWith(prefix));
    if (matches.length !== 1) {
      throw new DrivesnapError('KEY_NOT_FOUND', matches.length ? `key id ${prefix} is ambiguous` : `no key ${prefix}`);
    }
    if (names.length === 1) {
      throw new DrivesnapError('LAST_KEY', 'refusing to remove the only key: the repository would be unreadable; add another first');
    }
    await this.store.delete(matches[0]!);
    return matches[0]!.slice(KEYS_PREFIX.length);
  }

  /** The locks held on this repository now, oldest first. */
  listLocks(): Promise<LockInfo[]> {
    return listLocks(this.store);
  }

  /** A setting this computer keeps for this repository (in its index, never in the store). */
  localSetting(key: string): string | undefined {
    return this.index.get(key);
  }

  setLocalSetting(key: string, value: string): void {
    this.index.set(key, value);
  }

  async close(): Promise<void> {
    this.index.close();
    await this.hashPool?.close();
    await this.store.close();
  }
}

/** The raw `config` object; a missing one means there is no repository here (exit code 10). */
export async function readConfigObject(store: ObjectStore): Promise<Buffer> {
  try {
    return await store.get(CONFIG_OBJECT);
  } catch (err) {
    if (err instanceof ObjectNotFoundError) throw new RepoNotFoundError(store.location);
    throw err;
  }
}

async function listKeyNames(store: ObjectStore): Promise<string[]> {
  const names: string[] = [];
  for await (const o of store.list(KEYS_PREFIX)) names.push(o.name);
  return names;
}

function configDowngraded(why: string): CorruptObjectError {
  return new CorruptObjectError('config', CONFIG_OBJECT, `it says the repository is not encrypted, but ${why}: the config was altered; restore it from a copy`);
}

/**
 * Tries the password on every key file. A wrong password is reported as such (exit 12) whatever the order
 * of the files, even when another file is damaged; only when no file says "wrong password" does a damaged
 * one's error (naming it by its object name) become the error.
 */
async function unlockMasterKey(store: ObjectStore, names: string[], password: string): Promise<Buffer> {
  if (names.length === 0) {
    throw new DrivesnapError('NO_KEYS', `the repository at ${store.location} is encrypted but has no key files`);
  }
  let wrongPassword: WrongPasswordError | undefined;
  let damaged: DrivesnapError | undefined;
  for (const name of names) {
    try {
      return await openKeyFile(await store.get(name), password, name);
    } catch (err) {
      if (err instanceof WrongPasswordError) wrongPassword = err;
      else if (err instanceof CorruptObjectError || err instanceof RepoVersionError) damaged ??= err;
      else throw err;
    }
  }
  if (wrongPassword && damaged) throw new WrongPasswordError(`${wrongPassword.message} (besides, ${damaged.message})`);
  throw wrongPassword ?? damaged!;
}

export function snapshotRow(id: string, meta: SnapshotMeta, metaJson?: string): SnapshotRow {
  return {
    id,
    driveUuid: meta.driveUuid,
    driveName: meta.driveName,
    account: meta.accountName,
    endpoint: meta.endpoint,
    size: meta.size,
    time: meta.time,
    host: meta.host,
    tags: meta.tags,
    parent: meta.parent ?? undefined,
    chunkCount: rangeCount(meta.size, meta.chunkSize),
    zeroCount: meta.counts.zero,
    newCount: meta.counts.new,
    claimed: meta.claimed,
    meta: meta as unknown as Record<string, unknown>,
    ...(metaJson === undefined ? {} : { metaJson }),
  };
}

/** Whether a snapshot is of the drive named by its UUID, its name, or ACCOUNT:NAME (an image file: `file:` + absolute path). */
export function isSnapshotOfDrive(s: SnapshotRow, drive: string): boolean {
  return s.driveUuid === drive || s.driveName === drive || `${s.account}:${s.driveName}` === drive;
}


/** Whether every column of a cached row is what the manifest gives (meta compared by its exact text). */
function sameRow(a: SnapshotRow, b: SnapshotRow): boolean {
  const { meta: _a, ...restA } = a;
  const { meta: _b, ...restB } = b;
  return isDeepStrictEqual({ parent: undefined, ...restA }, { parent: undefined, ...restB });
}

/** Above this many chunks, one listing of the store is cheaper than a request per chunk. */
const LIST_INSTEAD_OF_STAT = 2048;
const STAT_CONCURRENCY = 16;
/** Deleted chunks dropped from the index per transaction. */
const DELETE_BATCH = 256;

/**
 * A buffer to seal chunk objects into: with the addon, page-aligned and a whole number of pages long, so a
 * local store can write the object with O_DIRECT, padding included (src/store/direct-put.ts).
 */
function objectBuffer(size: number): Buffer {
  const io = nativeDirectIo();
  return io ? io.alignedBuffer(Math.ceil(size / DIRECT_ALIGN) * DIRECT_ALIGN) : Buffer.allocUnsafeSlow(size);
}
