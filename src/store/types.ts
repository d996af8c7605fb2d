/**
 * The one small interface every repository backend implements (local directory, S3), and that the
 * wrappers (retry, concurrency limit, bandwidth limit) implement again around another store.
 * Names are `/`-separated relative paths such as `dir/sub/name` (the repository alone decides its layout, src/repo/format/ids.ts).
 */
export interface ObjectInfo {
  name: string;
  size: number;
}

/** What interrupted puts left behind (see ObjectStore.removeLeftovers). */
export interface Leftovers {
  count: number;
  bytes: number;
}

/** How soon a put must be durable. */
export interface PutOptions {
  /**
   * The object need only be durable, and seen by get, stat and list, once a later `flush()` has resolved:
   * for objects nothing refers to until then (chunks, which no manifest or checkpoint names before the
   * repository's flush), so a store may make many durable together. Without it, a put is durable when it
   * resolves.
   */
  batched?: boolean;
}

export interface ObjectStore {
  /** Where the store is, for messages (`/srv/repo`, `s3://bucket/prefix`). Never contains credentials. */
  readonly location: string;
  /** Writes the whole object atomically: readers see the old object, no object, or the whole new one. */
  put(name: string, data: Uint8Array, opts?: PutOptions): Promise<void>;
  /**
   * Makes every object put `batched` before this call durable and visible. Once a flush has failed, every
   * later one fails too: the objects it covered are lost, and whoever put them must not refer to them.
   */
  flush(): Promise<void>;
  /**
   * Deletes what interrupted puts left behind where a store keeps such things (a local store's temp
   * files an hour old or more: a crash before a batched put's flush leaves them), or with `dryRun` only
   * counts them. Only while no other process stores chunks: prune calls it under the exclusive lock.
   */
  removeLeftovers(opts?: { dryRun?: boolean }): Promise<Leftovers>;
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
