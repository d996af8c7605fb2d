/**
 * The two interfaces every end of a job implements (architecture.md, "One engine, pluggable ends").
 * A source yields ranges of a drive-sized address space; a sink takes them, can show what it holds now
 * (so only differing ranges are written), and says whether it reads as zeros where nothing was written.
 */
export type RangeBody =
  /** `incompressible`: known not to shrink under gzip (stored raw in the repository): send it as is. */
  | { encoding: 'raw'; data: Buffer; incompressible?: boolean }
  /** A gzip stream of `rawLength` bytes: an API drive takes it as is, with Content-Encoding: gzip. */
  | { encoding: 'gzip'; data: Buffer; rawLength: number };

export interface BlockSource {
  readonly size: number;
  readonly description: string;
  /** A stream (stdin): read once, front to back, so a job keeps no checkpoint of it and reads it no second time. */
  readonly once?: boolean;
  /**
   * Reads a range; fills and returns a view of `into` when given (the engine reuses buffers), or returns the
   * shared read-only run of zeros (zeroBuffer) for a range known to be a hole. Never write into the result.
   */
  read(offset: number, length: number, into?: Buffer): Promise<Buffer>;
  close(): Promise<void>;
}

export interface BlockSink {
  readonly size: number;
  readonly description: string;
  /** A stream (stdout): written once, front to back, so a job keeps no checkpoint of it and cannot read it back. */
  readonly once?: boolean;
  /** A stream sink: fails the writes waiting behind a range that will never be written (the job gave up). */
  abort?(reason: Error): void;
  /** True when unwritten ranges read as zeros: a drive or file this job created. */
  readonly startsZeroed: boolean;
  /** The body encoding the sink takes without extra work. */
  readonly prefers: 'gzip' | 'raw';
  /**
   * Raw ranges in the jobs' range buffers (page-aligned with the addon) go to disk past the page cache
   * (O_DIRECT, ./direct-writes.ts): data held elsewhere is better copied into its range buffer first.
   */
  readonly directWrites?: boolean;
  /** What the sink holds now, to compare before writing; as BlockSource.read (a hole: the shared zeros). */
  read(offset: number, length: number, into?: Buffer): Promise<Buffer>;
  /** Writes one range; returns the bytes sent or written (after compression). */
  write(offset: number, body: RangeBody): Promise<number>;
  /** Makes every write durable (fsync for files; a no-op for the API, whose 204 is the commit). */
  flush(): Promise<void>;
  close(): Promise<void>;
}
