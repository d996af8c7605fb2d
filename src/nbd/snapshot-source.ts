/**
 * The bytes of one snapshot, fetched lazily chunk by chunk: a read asks for the chunks it touches (zero
 * ranges cost nothing), each loaded once however many requests want it at the same moment, kept in a
 * shared bounded cache, and read ahead when access is sequential. A chunk that cannot be read fails the
 * requests that need it, is logged once, and is retried only after a pause; everything else keeps serving.
 */
import type { LimitFunction } from 'p-limit';
import { tableEntry } from '../repo/format/index.js';
import type { ChunkCache } from './chunk-cache.js';
import { type Piece, readPieces, type SnapshotLayout } from './layout.js';

/** Fetches, authenticates and inflates the chunk with this id, which must come out `length` bytes long. */
export type ChunkLoader = (id: Buffer, length: number) => Promise<Buffer>;

export class ChunkReadError extends Error {
  constructor(
    readonly chunk: string,
    message: string,
  ) {
    super(message);
  }
}

export interface PieceData extends Piece {
  /** The piece's bytes; absent for a zero range. */
  data?: Buffer;
}

export interface SourceOptions {
  /** The snapshot id, for log lines. */
  id: string;
  layout: SnapshotLayout;
  load: ChunkLoader;
  cache: ChunkCache;
  /**
   * Bounds the chunks being fetched and decoded at once (each holds the stored object and the inflated range
   * in memory), shared by every export. Read-ahead only takes free slots, never queues.
   */
  loadLimit: LimitFunction;
  /** Ranges fetched ahead of a sequential reader. */
  readAhead: number;
  log: (line: string) => void;
  /** How long a failed chunk answers EIO without being fetched again. */
  failureTtlMs?: number;
}

const RECENT_RANGES = 64;

export class SnapshotSource {
  private readonly loading = new Map<string, Promise<Buffer>>();
  private readonly failed = new Map<string, { error: ChunkReadError; until: number }>();
  /** Range indexes read lately (a ring): a read of range i after one of i-1 is sequential. */
  private readonly recent: number[] = [];

  constructor(private readonly o: SourceOptions) {}

  get size(): number {
    return this.o.layout.size;
  }

  get layout(): SnapshotLayout {
    return this.o.layout;
  }

  /** The pieces of [offset, offset+length), each with its bytes; rejects with ChunkReadError. */
  async read(offset: number, length: number): Promise<PieceData[]> {
    const pieces = readPieces(this.o.layout, offset, length);
    // Demand loads first, so that read-ahead only takes the load slots they leave free.
    const loaded = Promise.all(
      pieces.map(async (p): Promise<PieceData> => {
        if (p.zero) return p;
        const range = await this.range(p.index);
        return { ...p, data: range.subarray(p.start, p.start + p.length) };
      }),
    );
    for (let i = pieces[0]!.index; i <= pieces[pieces.length - 1]!.index; i++) this.noteAccess(i);
    return loaded;
  }

  private noteAccess(index: number): void {
    const sequential = this.recent.includes(index - 1) || this.recent.includes(index);
    if (!this.recent.includes(index)) {
      this.recent.push(index);
      if (this.recent.length > RECENT_RANGES) this.recent.shift();
    }
    if (!sequential) return;
    const n = Math.ceil(this.o.layout.size / this.o.layout.chunkSize);
    for (let i = index + 1; i <= Math.min(n - 1, index + this.o.readAhead); i++) {
      const key = this.key(i);
      if (this.o.loadLimit.activeCount >= this.o.loadLimit.concurrency) return;
      if (key === undefined || this.o.cache.has(key) || this.loading.has(key) || this.failed.has(key)) continue;
      void this.range(i).catch(() => undefined);
    }
  }

  /** The chunk id of range `index` in hex, undefined for a zero range. */
  private key(index: number): string | undefined {
    const id = tableEntry(this.o.layout.table, index);
    return id.some((b) => b !== 0) ? id.toString('hex') : undefined;
  }

  private range(index: number): Promise<Buffer> {
    const key = this.key(index)!;
    const cached = this.o.cache.get(key);
    if (cached) return Promise.resolve(cached);
    const failure = this.failed.get(key);
    if (failure && failure.until > Date.now()) return Promise.reject(failure.error);
    const pending = this.loading.get(key);
    if (pending) return pending;
    const { chunkSize, size, table } = this.o.layout;
    const length = Math.min(chunkSize, size - index * chunkSize);
    const loaded = this.o
      .loadLimit(() => this.o.load(tableEntry(table, index), length))
      .then((data) => {
        this.failed.delete(key);
        this.o.cache.set(key, data);
        return data;
      })
      .catch((err: unknown) => {
        const start = index * chunkSize;
        const reason = err instanceof Error ? err.message : String(err);
        const error = new ChunkReadError(key, `chunk ${key} (bytes ${start}-${start + length - 1} of snapshot ${this.o.id.slice(0, 12)}) cannot be read: ${reason}`);
        this.failed.set(key, { error, until: Date.now() + (this.o.failureTtlMs ?? 10_000) });
        this.o.log(`${error.message}; reads of it answer EIO`);
        throw error;
      })
      .finally(() => this.loading.delete(key));
    this.loading.set(key, loaded);
    return loaded;
  }
}
