/**
 * A repository in a local directory: one file per object, each `/` of a name a real subdirectory.
 * A put writes a temp file beside the target, fsyncs it, renames it over the target and fsyncs the
 * directory, so readers never see a partial object and a crash leaves at most a stray temp file, which
 * list ignores. A batched put (chunks) stops after writing its temp file: the next flush fsyncs every such
 * file, renames them and fsyncs their directories, two journal commits for the lot where each object
 * alone cost two (a 1 GiB incompressible backup made 695 fsyncs for 256 objects).
 */
import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { type FileHandle, lstat, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fsAdvice } from '../util/fs-errors.js';
import { writeAll } from '../util/write-all.js';
import { DirectoryError, makeDirectory } from '../util/make-directory.js';
import { CREATE_DIRECT, paddedForDirect, refusesDirect } from './direct-put.js';
import { InvalidObjectNameError, ObjectNotFoundError, StoreError, TransientStoreError } from './errors.js';
import type { Leftovers, ObjectInfo, ObjectStore, PutOptions } from './types.js';

/** Temp files start with this; no object name segment may, so list and get can tell them apart. */
export const TEMP_PREFIX = '.drivesnap-tmp-';

/**
 * removeLeftovers keeps younger temp files: a put in flight (another process writing its lock while prune
 * holds the exclusive one) is milliseconds old, what a crash left is older by the time a prune runs.
 */
export const LEFTOVER_MIN_AGE_MS = 60 * 60 * 1000;

export class LocalStore implements ObjectStore {
  readonly location: string;
  /** Directories known to exist: a put per 4 MiB chunk must not mkdir every time. */
  private readonly knownDirs = new Set<string>();
  /** Until the file system refuses it: objects in aligned memory are written with O_DIRECT (./direct-put.ts). */
  private direct = true;
  /** Batched puts not flushed yet, by name: each still under its temp name. */
  private staged = new Map<string, StagedObject>();
  /** Flushes run one after another, so one that resolves covers every put before it was called. */
  private flushing: Promise<void> = Promise.resolve();
  private flushFailure: Error | undefined;
  /** Parents of the directories batched puts created: their entries are made durable with the next flush. */
  private unsyncedDirs = new Set<string>();

  constructor(dir: string) {
    this.location = resolve(dir);
  }

  async put(name: string, data: Uint8Array, opts: PutOptions = {}): Promise<void> {
    checkObjectName(name);
    refuseTempName(name);
    const target = this.pathOf(name);
    const dir = dirname(target);
    const temp = join(dir, TEMP_PREFIX + randomBytes(8).toString('hex'));
    try {
      await this.writeObject(temp, data, !opts.batched);
      if (opts.batched) return this.stage(name, { temp, target });
      await rename(temp, target);
      await syncDir(dir);
      // Its directory may be one a batched put created: the chain must be durable now, not at the flush.
      for (const d of this.unsyncedDirs) await syncDir(d);
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw this.fault('write', name, err);
    }
  }

  flush(): Promise<void> {
    const run = this.flushing.then(() => this.flushStaged());
    this.flushing = run.catch(() => undefined);
    return run;
  }

  async get(name: string, into?: Buffer): Promise<Buffer> {
    checkObjectName(name);
    if (isTempName(name)) throw new ObjectNotFoundError(this.location, name);
    try {
      return into ? await readInto(this.pathOf(name), into) : await readFile(this.pathOf(name));
    } catch (err) {
      if (isMissing(err)) throw new ObjectNotFoundError(this.location, name);
      throw this.fault('read', name, err);
    }
  }

  async stat(name: string): Promise<ObjectInfo | undefined> {
    checkObjectName(name);
    if (isTempName(name)) return undefined;
    try {
      const info = await stat(this.pathOf(name));
      return info.isFile() ? { name, size: info.size } : undefined;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw this.fault('stat', name, err);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    checkListPrefix(prefix);
    const slash = prefix.lastIndexOf('/');
    const startDir = slash < 0 ? '' : prefix.slice(0, slash);
    for await (const { rel, info, temp } of this.walk(startDir, (dir) => dir.startsWith(prefix) || prefix.startsWith(dir))) {
      if (!temp && rel.startsWith(prefix)) yield { name: rel, size: info.size };
    }
  }

  async delete(name: string): Promise<void> {
    checkObjectName(name);
    refuseTempName(name);
    try {
      await unlink(this.pathOf(name));
    } catch (err) {
      if (isMissing(err)) return;
      throw this.fault('delete', name, err);
    }
  }

  /** Temp files anywhere in the store, an hour old or more, but this store's own staged puts. */
  async removeLeftovers(opts: { dryRun?: boolean } = {}): Promise<Leftovers> {
    const own = new Set([...this.staged.values()].map((o) => o.temp));
    const found: Leftovers = { count: 0, bytes: 0 };
    const before = Date.now() - LEFTOVER_MIN_AGE_MS;
    for await (const { rel, info, temp } of this.walk('', () => true)) {
      const path = this.pathOf(rel);
      if (!temp || own.has(path) || info.mtimeMs > before) continue;
      if (!opts.dryRun) {
        try {
          await unlink(path);
        } catch (err) {
          if (isMissing(err)) continue;
          throw this.fault('delete', rel, err);
        }
      }
      found.count++;
      found.bytes += info.size;
    }
    return found;
  }

  /** Batched puts never flushed are dropped: nothing refers to them. */
  async close(): Promise<void> {
    await this.flushing;
    const dropped = [...this.staged.values()];
    this.staged.clear();
    await Promise.all(dropped.map((o) => unlink(o.temp).catch(() => undefined)));
    this.knownDirs.clear();
  }

  private stage(name: string, object: StagedObject): void {
    const earlier = this.staged.get(name);
    this.staged.set(name, object);
    // The same object put again before a flush (a retried put): the later copy is the one kept.
    if (earlier) void unlink(earlier.temp).catch(() => undefined);
  }

  /**
   * Every staged file's bytes first, then the names: an object is never seen under its name before it is
   * whole on disk. The first fsync commits the journal for all of them; the rest find it done.
   */
  private async flushStaged(): Promise<void> {
    if (this.flushFailure) throw this.flushFailure;
    if (this.staged.size === 0) return;
    const batch = [...this.staged];
    this.staged = new Map();
    const dirs = new Set([...batch.map(([, o]) => dirname(o.target)), ...this.unsyncedDirs]);
    this.unsyncedDirs = new Set();
    let step = 'sync';
    try {
      await Promise.all(batch.map(([, o]) => syncFile(o.temp)));
      step = 'rename';
      await Promise.all(batch.map(([, o]) => rename(o.temp, o.target)));
      step = 'sync the directory of';
      await Promise.all([...dirs].map(syncDir));
    } catch (err) {
      await Promise.all(batch.map(([, o]) => unlink(o.temp).catch(() => undefined)));
      const names = batch.length === 1 ? batch[0]![0] : `${batch[0]![0]} and ${batch.length - 1} more`;
      this.flushFailure = this.fault(step, names, err);
      throw this.flushFailure;
    }
  }

  private pathOf(name: string): string {
    return join(this.location, ...name.split('/'));
  }

  /**
   * Every regular file under `relDir` (temp files marked), in sorted order, so a listing is deterministic
   * (the retry wrapper relies on ascending order); only into directories `descend` accepts.
   */
  private async *walk(relDir: string, descend: (relSlash: string) => boolean): AsyncGenerator<WalkedFile> {
    const absDir = relDir ? this.pathOf(relDir) : this.location;
    let entries: string[];
    try {
      entries = (await readdir(absDir)).sort(byCodeUnit);
    } catch (err) {
      if (isMissing(err) || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return;
      throw this.fault('list', relDir || '.', err);
    }
    for (const entry of entries) {
      const temp = entry.startsWith(TEMP_PREFIX);
      const rel = relDir ? `${relDir}/${entry}` : entry;
      let info: Stats;
      try {
        info = await lstat(join(absDir, entry));
      } catch (err) {
        if (isMissing(err)) continue; // deleted while we walked (a concurrent prune)
        throw this.fault('list', rel, err);
      }
      if (info.isDirectory()) {
        if (!temp && descend(`${rel}/`)) yield* this.walk(rel, descend);
      } else if (info.isFile()) yield { rel, info, temp };
    }
  }

  /** The temp file, fsynced (and any directory made for it) when `sync`. */
  private async writeObject(temp: string, data: Uint8Array, sync: boolean): Promise<void> {
    const padded = this.direct ? paddedForDirect(data) : undefined;
    if (padded) {
      try {
        return await this.writeTemp(temp, CREATE_DIRECT, sync, async (handle) => {
          await writeAll(handle, padded, 0);
          await handle.truncate(data.length);
        });
      } catch (err) {
        if (!refusesDirect(err)) throw err;
        this.direct = false;
        await unlink(temp).catch(() => undefined);
      }
    }
    await this.writeTemp(temp, 'wx', sync, (handle) => handle.writeFile(data));
  }

  /** Creates the temp file, fills it with `write`, and fsyncs it when `sync`. */
  private async writeTemp(temp: string, flags: string | number, sync: boolean, write: (handle: FileHandle) => Promise<void>): Promise<void> {
    const dir = dirname(temp);
    await this.ensureDir(dir, sync);
    let handle: FileHandle;
    try {
      handle = await open(temp, flags, 0o644);
    } catch (err) {
      if (!isMissing(err)) throw err;
      // Someone removed the directory since we cached it: create it again once.
      this.knownDirs.delete(dir);
      await this.ensureDir(dir, sync);
      handle = await open(temp, flags, 0o644);
    }
    try {
      await write(handle);
      if (sync) await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /** Creates `dir` when needed; its chain of entries is durable at once when `sync`, else with the next flush. */
  private async ensureDir(dir: string, sync: boolean): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    const firstCreated = await makeDirectory(dir);
    if (firstCreated) {
      // Each new directory's entry lives in its parent: sync those so the chain survives a crash.
      for (let d = dir; d.length >= firstCreated.length; d = dirname(d)) {
        if (sync) await syncDir(dirname(d));
        else this.unsyncedDirs.add(dirname(d));
      }
    }
    this.knownDirs.add(dir);
  }

  private fault(op: string, name: string, err: unknown): Error {
    if (err instanceof StoreError || err instanceof TransientStoreError) return err;
    // Already explains the errno and what to do; the store adds which object it was for.
    if (err instanceof DirectoryError) {
      return new StoreError('STORE_IO', `${this.location}: cannot ${op} object ${name}: ${err.message}`, { cause: err });
    }
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    const message = `${this.location}: cannot ${op} object ${name}: ${code}`;
    if (TRANSIENT_FS_CODES.has(code)) return new TransientStoreError(message, { cause: err });
    return new StoreError('STORE_IO', `${message}: ${fsAdvice(code)}`, {
      cause: err,
    });
  }
}

/** Throws InvalidObjectNameError unless name is a relative `/`-separated path that stays inside the store. */
export function checkObjectName(name: string): void {
  if (name === '') throw new InvalidObjectNameError(name, 'it is empty');
  checkSegments(name, name.split('/'));
}

/** A list prefix is a name whose last segment may be partial or empty (`dir/`, `dir/a`, ``). */
export function checkListPrefix(prefix: string): void {
  if (prefix === '') return;
  const segments = prefix.split('/');
  const last = segments.pop()!;
  if (segments.length > 0) checkSegments(prefix, segments);
  if (last === '.' || last === '..') throw new InvalidObjectNameError(prefix, 'it contains a . or .. segment');
  if (last.includes('\\') || last.includes('\0'))
    throw new InvalidObjectNameError(prefix, 'it contains a backslash or NUL');
}

function checkSegments(name: string, segments: string[]): void {
  if (name.startsWith('/')) throw new InvalidObjectNameError(name, 'it is absolute');
  for (const segment of segments) {
    if (segment === '') throw new InvalidObjectNameError(name, 'it has an empty segment');
    if (segment === '.' || segment === '..') throw new InvalidObjectNameError(name, 'it contains a . or .. segment');
    if (segment.includes('\\') || segment.includes('\0'))
      throw new InvalidObjectNameError(name, 'it contains a backslash or NUL');
  }
}

function isTempName(name: string): boolean {
  return name.split('/').some((segment) => segment.startsWith(TEMP_PREFIX));
}

function refuseTempName(name: string): void {
  if (isTempName(name)) throw new InvalidObjectNameError(name, `segments starting ${TEMP_PREFIX} are reserved`);
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR';
}

/**
 * The file read into `into` when it fits (a view of it), else into a new buffer: a restore reading every
 * chunk object into a fresh buffer left each to V8's collector, which lets tens of MiB of them pile up.
 */
async function readInto(path: string, into: Buffer): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size > into.length) return await handle.readFile();
    let done = 0;
    while (done < size) {
      const { bytesRead } = await handle.read(into, done, size - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return into.subarray(0, done);
  } finally {
    await handle.close();
  }
}

interface WalkedFile {
  rel: string;
  info: Stats;
  /** A temp file (a put not renamed into place), not an object. */
  temp: boolean;
}

/** A batched put: written to `temp`, renamed to `target` by the flush that makes it durable. */
interface StagedObject {
  temp: string;
  target: string;
}

const syncDir = syncFile;

/** fsync through a read-only handle: Linux flushes the file's (or directory's) data and metadata all the same. */
async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const TRANSIENT_FS_CODES = new Set(['EAGAIN', 'EBUSY', 'EMFILE', 'ENFILE', 'EINTR']);

