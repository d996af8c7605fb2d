/**
 * The one small interface every repository backend implements (local directory, S3), and that the
 * wrappers (retry, concurrency limit, bandwidth limit) implement again around another store.
 * Names are `/`-separated relative paths such as `dir/sub/name` (the repository alone decides its layout, src/repo/format/ids.ts).
 */
export interface ObjectInfo {
  name: string;
  size: number;
}

export interface ObjectStore {
  /** Where the store is, for messages (`/srv/repo`, `s3://bucket/prefix`). Never contains credentials. */
  readonly location: string;
  /** Writes the whole object atomically: readers see the old object, no object, or the whole new one. */
  put(name: string, data: Uint8Array): Promise<void>;
  /**
   * Reads the whole object. Throws ObjectNotFoundError when it does not exist. With `into`, a store may
   * read an object that fits there instead of allocating (the local store does): the result is then a view
   * of `into`, valid while the caller leaves `into` alone.
   */
  get(name: string, into?: Buffer): Promise<Buffer>;
  /** Size of the object, or undefined when it does not exist. */
  stat(name: string): Promise<ObjectInfo | undefined>;
  /** Every object whose name starts with prefix, in no particular order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** Deletes the object; deleting one that does not exist is not an error. */
  delete(name: string): Promise<void>;
  /** Releases connections and handles. */
  close(): Promise<void>;
}
