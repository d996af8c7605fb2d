/**
 * Turns the locations users type (cli.md: `ACCOUNT:DRIVE`, a path, `ACCOUNT:NAME` for a new drive) into
 * the engine's sources and sinks, keeping one API client per account for the whole command.
 */
import { rm, stat } from 'node:fs/promises';
import { Writable } from 'node:stream';
import type { ApiClient } from '../api/client.js';
import type { DriveInfo } from '../api/drive-info.js';
import { type Location, parseLocation } from '../config/locations.js';
import { resolveDrive } from '../ops/resolve-drive.js';
import { DrivesnapError, UsageError } from '../errors.js';
import { driveSink, driveSource } from '../engine/ends/drive.js';
import { openFileSink, openFileSource } from '../engine/ends/file.js';
import { StreamSink } from '../engine/ends/stdio-sink.js';
import { StreamSource } from '../engine/ends/stdio-source.js';
import { parseSize } from '../util/size.js';
import { type CreatedTarget, type JobRecord, recalledCreatedTarget, recordCreatedTarget } from '../engine/checkpoint.js';
import type { JobRecords } from '../repo/interfaces.js';
import type { BlockSink, BlockSource } from '../engine/ends/types.js';
import { stopSignal } from './stop.js';

export class Clients {
  private readonly clients = new Map<string, Promise<ApiClient>>();
  /** Which side of the command took `-` (stdin or stdout): one side only, once. */
  private stdio: 'source' | 'sink' | undefined;
  /** stdin opened without --size: it takes the size of the existing target the command writes onto. */
  unsizedStdin: StreamSource | undefined;
  /** `signal` ends the clients' retry waits (the CLI's stop signal unless told otherwise). */
  constructor(
    private readonly connections: number,
    private readonly signal: AbortSignal = stopSignal(),
  ) {}

  get(account: string): Promise<ApiClient> {
    let c = this.clients.get(account);
    if (!c) {
      // Loaded on first use: a backup of image files never pays for the HTTP client and config schema.
      c = import('../config/accounts.js').then(async ({ openClient, resolveAccount }) =>
        openClient(await resolveAccount(account), { connections: this.connections, signal: this.signal }),
      );
      this.clients.set(account, c);
    }
    return c;
  }

  /** The command has a stream (`-`) at one end: its job cannot resume. */
  get streaming(): boolean {
    return this.stdio !== undefined;
  }

  /** Refuses `-` on both sides of one command, or read twice. */
  claimStdio(side: 'source' | 'sink'): void {
    if (this.stdio === side && side === 'source') throw new UsageError('- (stdin) can be read only once: name it once');
    if (this.stdio && this.stdio !== side) {
      throw new UsageError('- cannot be both the source (stdin) and the target (stdout): name a drive or a file on one side');
    }
    this.stdio = side;
  }

  async close(): Promise<void> {
    for (const c of this.clients.values()) await (await c.catch(() => undefined))?.close();
  }
}

export interface OpenedSource {
  source: BlockSource;
  location: Location;
  drive?: DriveInfo;
  client?: ApiClient;
}

export interface SourceOptions {
  /**
   * The size of a stream source (`-`: stdin), as `--size` was typed (bytes, or with a k/M/G/T suffix): a
   * stream's size is not known before its end, and the job needs it first. Refused for other sources.
   */
  size?: string | number;
}

export async function openSource(text: string, clients: Clients, opts: SourceOptions = {}): Promise<OpenedSource> {
  const location = parseLocation(text);
  if (opts.size !== undefined && location.kind !== 'stdio') {
    throw new UsageError(`--size applies only when the source is - (stdin); ${text} has its own size`);
  }
  if (location.kind === 'stdio') return { source: openStdinSource(clients, opts.size), location };
  if (location.kind === 'file') return { source: await openFileSource(location.path), location };
  if (location.kind === 'drive') {
    const client = await clients.get(location.account);
    const drive = await resolveDrive(client, location.drive);
    const source = driveSource({ api: client, uuid: drive.uuid, size: drive.size, description: `${location.account}:${drive.name}` });
    return { source, location, drive, client };
  }
  throw new UsageError(`${text} is not a drive (ACCOUNT:DRIVE) or an image file path`);
}

export interface SinkOptions {
  /** Create the target with this size (`--to-new`); refuse when it exists. */
  createSize?: number;
  /** Write even when a running server claims the drive. */
  force?: boolean;
  compressLevel?: number;
  /**
   * With createSize: the job's record of the target it creates. The creation is recorded before the target
   * is made and again once it exists, so when a drive or file of that name exists and an interrupted run
   * of the same job recorded creating it (that drive, that file), this run resumes into it instead of
   * refusing. It still counts as zeroed: only the job's own writes touched it, and ranges not yet recorded
   * as done are written again whole.
   */
  creation?: TargetCreation;
  /** With a stream at the other end: the job's records, only to drop a stale checkpoint of this target. */
  dropStale?: TargetCreation;
  /** A file or device target: flush direct writes while the job works (see FileSinkOptions). */
  flushWhileWriting?: boolean;
}

/** Where a job keeps the record of the target it creates (see engine/checkpoint.ts, CreatedTarget). */
export interface TargetCreation {
  recall(description: string): CreatedTarget | undefined;
  record(description: string, target: CreatedTarget): void;
  /** Drops the record: the target was removed, or the job is abandoned. */
  forget(description: string): void;
}

/** A TargetCreation kept in a jobs database under the job record `jobOf(description)`. */
export function creationIn(index: JobRecords, jobOf: (description: string) => JobRecord): TargetCreation {
  return {
    recall: (d) => recalledCreatedTarget(index, jobOf(d)),
    record: (d, target) => recordCreatedTarget(index, jobOf(d), target),
    forget: (d) => index.endJob(jobOf(d).key),
  };
}

export interface OpenedSink {
  sink: BlockSink;
  location: Location;
  drive?: DriveInfo;
  /** This run created the target (not an earlier run it resumes). */
  created: boolean;
  /** Removes the target this run created (see runOntoSink). */
  discard?: () => Promise<void>;
}

export async function openSink(text: string, clients: Clients, opts: SinkOptions): Promise<OpenedSink> {
  const location = parseLocation(text);
  if (location.kind === 'stdio') {
    if (opts.createSize !== undefined) throw new UsageError('- (stdout) is a stream, not a target to create: drop --to-new');
    const sink = openStdoutSink(clients);
    opts.creation?.forget(sink.description);
    return { sink, location, created: false };
  }
  if (clients.streaming) {
    // A stream is not read again: what an earlier run of this job left (a checkpoint, a target it created
    // and may have written) must not make this one skip ranges, so it is dropped and nothing is adopted.
    // (A new target's record is dropped here; an existing one's once it is open and the stream's size known.)
    if (opts.createSize !== undefined) opts.creation?.forget(location.kind === 'file' ? location.path : `${location.account}:${location.kind === 'drive' ? location.drive : ''}`);
    opts = { ...opts, creation: undefined, dropStale: opts.creation };
  }
  if (location.kind === 'file') return openFileTarget(location, opts, clients);
  if (location.kind !== 'drive') throw new UsageError(`${text} is not a drive (ACCOUNT:DRIVE) or an image file path`);
  const client = await clients.get(location.account);
  let drive: DriveInfo;
  let created = false;
  let startsZeroed = false;
  if (opts.createSize !== undefined) {
    ({ drive, created } = await createOrAdoptDrive(client, location, opts.createSize, opts.creation));
    startsZeroed = true;
  } else {
    drive = await resolveDrive(client, location.drive);
    if (drive.claimed.length > 0 && !opts.force) {
      throw new DrivesnapError(
        'DRIVE_CLAIMED',
        `${location.account}:${drive.name} is in use by a running server (${drive.claimed.join(' ')}): shut the server down first (--force skips this check, but an API that follows the contract refuses writes to a drive in use with 409 busy)`,
      );
    }
  }
  if (!created) {
    clients.unsizedStdin?.assumeSize(drive.size);
    opts.dropStale?.forget(`${location.account}:${drive.name}`);
  }
  const sink = driveSink({
    api: client,
    uuid: drive.uuid,
    size: drive.size,
    description: `${location.account}:${drive.name}`,
    // A drive created by this command reads as zeros (checked against the emulator: sparse files).
    startsZeroed,
    compressLevel: opts.compressLevel,
  });
  const uuid = drive.uuid;
  const discard = created ? () => client.destroyDrive(uuid) : undefined;
  return { sink, location, drive, created, discard };
}

/**
 * A new drive named `location.drive`, or the one an interrupted run of the same job created (recorded in
 * `creation`); refuses when a drive of that name exists that the job did not create.
 */
export async function createOrAdoptDrive(
  client: ApiClient,
  location: { account: string; drive: string },
  size: number,
  creation: TargetCreation | undefined,
): Promise<{ drive: DriveInfo; created: boolean }> {
  const description = `${location.account}:${location.drive}`;
  const earlier = creation?.recall(description);
  const existing = (await client.listDriveInfo()).filter((d) => d.name === location.drive);
  // Killed while the create call was in flight, the UUID was never recorded: no drive had that name when
  // the creation was recorded (else it was refused), so the one drive of that name now is ours.
  const adopt = earlier && (earlier.id !== null ? existing.find((d) => d.uuid === earlier.id) : existing.length === 1 ? existing[0] : undefined);
  if (adopt) return { drive: adopt, created: false };
  if (existing.length > 0) {
    throw new DrivesnapError(
      'DRIVE_EXISTS',
      `${location.account} already has a drive named ${location.drive}: write onto it as an existing target (restore --to, or copy without --to-new), or choose another name`,
    );
  }
  creation?.record(description, { id: null });
  const drive = await client.createDrive({ name: location.drive, size });
  creation?.record(description, { id: drive.uuid });
  return { drive, created: true };
}

async function openFileTarget(location: Extract<Location, { kind: 'file' }>, opts: SinkOptions, clients: Clients): Promise<OpenedSink> {
  const path = location.path;
  if (opts.createSize === undefined) {
    const sink = await openFileSink(path, { flushWhileWriting: opts.flushWhileWriting });
    clients.unsizedStdin?.assumeSize(sink.size);
    opts.dropStale?.forget(path);
    return { sink, location, created: false };
  }
  const earlier = opts.creation?.recall(path);
  const identity = await fileIdentity(path);
  if (identity !== undefined && earlier && (earlier.id === null || earlier.id === identity)) {
    return { sink: await openFileSink(path, { resumeCreated: true, flushWhileWriting: opts.flushWhileWriting }), location, created: false };
  }
  opts.creation?.record(path, { id: null });
  const sink = await openFileSink(path, { create: { size: opts.createSize }, flushWhileWriting: opts.flushWhileWriting });
  opts.creation?.record(path, { id: (await fileIdentity(path)) ?? null });
  return { sink, location, created: true, discard: () => rm(path, { force: true }) };
}

/** A file's device and inode: tells the file a job created from another one put at the same path since. */
async function fileIdentity(path: string): Promise<string | undefined> {
  try {
    const st = await stat(path);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

/** stdin as a source of `size` bytes (its `--size`); without it, of the size of the existing target opened next. */
function openStdinSource(clients: Clients, size: string | number | undefined): StreamSource {
  clients.claimStdio('source');
  const bytes = size === undefined ? undefined : parseSize(size);
  if (size !== undefined && !bytes) throw new UsageError(`--size takes bytes, or a number with a k/M/G/T suffix, e.g. 10G (got ${String(size)})`);
  if (process.stdin.isTTY) throw new UsageError('- reads an image from stdin, which is a terminal here: pipe the image in (e.g. `zcat disk.img.gz | drivesnap ...`)');
  const source = new StreamSource({
    stream: process.stdin,
    size: bytes,
    description: 'stdin',
    sizeNeeded: '- (stdin) needs its size: pass --size N (bytes, or with a k/M/G/T suffix, e.g. 10G), or copy onto an existing drive or file of that size',
  });
  if (bytes === undefined) clients.unsizedStdin = source;
  return source;
}

/**
 * stdout as a sink. A job whose workers all wait for a range that never comes (its step failed before
 * writing) would leave nothing for the process to do: when the event loop runs dry, or on Ctrl-C, the
 * waiting writers are failed, so the job ends with its error instead of hanging or exiting as a success.
 */
function openStdoutSink(clients: Clients): StreamSink {
  clients.claimStdio('sink');
  if (process.stdout.isTTY) throw new UsageError('- writes the drive to stdout, which is a terminal here: redirect it to a file or a pipe');
  const sink = new StreamSink({ stream: takeStdoutForData(), description: 'stdout' });
  const onIdle = () => {
    if (sink.waiting) {
      sink.abort(new DrivesnapError('RANGES_FAILED', `stdout: the range at offset ${sink.written} was never written (its read failed), so the stream stops there`));
    }
  };
  const signal = stopSignal();
  const onStop = () => sink.abort(new DrivesnapError('INTERRUPTED', `the stream to stdout was stopped after ${sink.written} bytes`));
  process.on('beforeExit', onIdle);
  signal.addEventListener('abort', onStop, { once: true });
  const close = sink.close.bind(sink);
  sink.close = () => {
    process.off('beforeExit', onIdle);
    signal.removeEventListener('abort', onStop);
    return close();
  };
  return sink;
}

/**
 * The drive's bytes own stdout from here on: everything else the command prints (its summary, --json
 * lines, the error line) goes to stderr, so nothing but the data reaches the pipe.
 */
function takeStdoutForData(): Writable {
  const stdout = process.stdout;
  const writeData = stdout.write.bind(stdout) as (chunk: Buffer, cb: (err?: Error | null) => void) => boolean;
  stdout.write = process.stderr.write.bind(process.stderr) as typeof stdout.write;
  const data = new Writable({
    write(chunk: Buffer, _encoding, cb) {
      writeData(chunk, (err) => cb(err ?? undefined));
    },
  });
  stdout.on('error', (err) => data.destroy(err));
  return data;
}

/** An end that is a stream (`-`): read or written once, front to back; nothing to resume. */
function isStream(end: BlockSource | BlockSink | undefined): boolean {
  return end instanceof StreamSource || end instanceof StreamSink;
}

/**
 * Runs a job onto an opened sink. When the job fails and this run created the target but never wrote to
 * it, the target is removed again (and its creation record dropped): nothing is left behind. When some of
 * it was written, the error is followed by a line saying what is left and that a rerun resumes.
 */
export async function runOntoSink<T>(
  opened: OpenedSink,
  creation: TargetCreation | undefined,
  work: (sink: BlockSink) => Promise<T>,
  /** The job's source: a stream (stdin) makes the job one that cannot resume. */
  source?: BlockSource,
): Promise<T> {
  let wrote = false;
  const inner = opened.sink;
  const sink: BlockSink = {
    size: inner.size,
    description: inner.description,
    once: inner.once,
    ...(inner.abort ? { abort: (reason: Error) => inner.abort!(reason) } : {}),
    startsZeroed: inner.startsZeroed,
    prefers: inner.prefers,
    read: (offset, length, into) => inner.read(offset, length, into),
    write: (offset, body) => {
      wrote = true;
      return inner.write(offset, body);
    },
    flush: () => inner.flush(),
    close: () => inner.close(),
  };
  try {
    return await work(sink);
  } catch (err) {
    const stream = isStream(inner) || isStream(source);
    // A stream is not read or written again: no checkpoint may make a rerun skip ranges of it.
    if (stream) creation?.forget(inner.description);
    if (opened.discard && !wrote) {
      await opened.discard();
      creation?.forget(inner.description);
      process.stderr.write(`drivesnap: removed ${inner.description}, which this run had created and not written to\n`);
    } else if (!isStream(inner) && (wrote || inner.startsZeroed)) {
      const rerun = stream
        ? `a stream does not resume: send all of it again onto ${opened.created ? 'it as an existing target (without --to-new)' : 'it'}`
        : 'run the same command again to resume';
      process.stderr.write(`drivesnap: ${inner.description} is left partly written: ${rerun}\n`);
    }
    throw err;
  }
}
