/**
 * Turns the locations users type (cli.md: `ACCOUNT:DRIVE`, a path, `ACCOUNT:NAME` for a new drive) into
 * the engine's sources and sinks, keeping one API client per account for the whole command.
 */
import { rm, stat } from 'node:fs/promises';
import type { ApiClient } from '../api/client.js';
import type { DriveInfo } from '../api/drive-info.js';
import { type Location, parseLocation } from '../config/locations.js';
import { resolveDrive } from '../ops/resolve-drive.js';
import { DrivesnapError, UsageError } from '../errors.js';
import { driveSink, driveSource } from '../engine/ends/drive.js';
import { openFileSink, openFileSource } from '../engine/ends/file.js';
import { type CreatedTarget, type JobRecord, recalledCreatedTarget, recordCreatedTarget } from '../engine/checkpoint.js';
import type { JobRecords } from '../repo/interfaces.js';
import type { BlockSink, BlockSource } from '../engine/ends/types.js';
import { stopSignal } from './stop.js';

export class Clients {
  private readonly clients = new Map<string, Promise<ApiClient>>();
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

export async function openSource(text: string, clients: Clients): Promise<OpenedSource> {
  const location = parseLocation(text);
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
  if (location.kind === 'file') return openFileTarget(location, opts);
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

async function openFileTarget(location: Extract<Location, { kind: 'file' }>, opts: SinkOptions): Promise<OpenedSink> {
  const path = location.path;
  if (opts.createSize === undefined) return { sink: await openFileSink(path), location, created: false };
  const earlier = opts.creation?.recall(path);
  const identity = await fileIdentity(path);
  if (identity !== undefined && earlier && (earlier.id === null || earlier.id === identity)) {
    return { sink: await openFileSink(path, { resumeCreated: true }), location, created: false };
  }
  opts.creation?.record(path, { id: null });
  const sink = await openFileSink(path, { create: { size: opts.createSize } });
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

/**
 * Runs a job onto an opened sink. When the job fails and this run created the target but never wrote to
 * it, the target is removed again (and its creation record dropped): nothing is left behind. When some of
 * it was written, the error is followed by a line saying what is left and that a rerun resumes.
 */
export async function runOntoSink<T>(
  opened: OpenedSink,
  creation: TargetCreation | undefined,
  work: (sink: BlockSink) => Promise<T>,
): Promise<T> {
  let wrote = false;
  const inner = opened.sink;
  const sink: BlockSink = {
    size: inner.size,
    description: inner.description,
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
    if (opened.discard && !wrote) {
      await opened.discard();
      creation?.forget(inner.description);
      process.stderr.write(`drivesnap: removed ${inner.description}, which this run had created and not written to\n`);
    } else if (wrote || inner.startsZeroed) {
      process.stderr.write(`drivesnap: ${inner.description} is left partly written: run the same command again to resume\n`);
    }
    throw err;
  }
}
