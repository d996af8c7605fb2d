/**
 * Turns the locations users type (cli.md: `ACCOUNT:DRIVE`, a path, `ACCOUNT:NAME` for a new drive) into
 * the engine's sources and sinks, keeping one API client per account for the whole command.
 */
import type { ApiClient } from '../api/client.js';
import type { DriveInfo } from '../api/drive-info.js';
import { type Location, parseLocation, resolveDrive } from '../config/locations.js';
import { DrivesnapError, ExitCode, UsageError } from '../errors.js';
import { driveSink, driveSource } from '../engine/ends/drive.js';
import { fileExists, openFileSink, openFileSource } from '../engine/ends/file.js';
import type { BlockSink, BlockSource } from '../engine/ends/types.js';

export class Clients {
  private readonly clients = new Map<string, Promise<ApiClient>>();
  constructor(private readonly connections: number) {}

  get(account: string): Promise<ApiClient> {
    let c = this.clients.get(account);
    if (!c) {
      // Loaded on first use: a backup of image files never pays for the HTTP client and config schema.
      c = import('../config/accounts.js').then(async ({ openClient, resolveAccount }) =>
        openClient(await resolveAccount(account), { connections: this.connections }),
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
   * With createSize: when a drive or file of that name exists and this says an interrupted job of ours
   * created it (a checkpoint names it), resume into it instead of refusing. It still counts as zeroed:
   * only our own writes touched it, and ranges not yet recorded as done are written again whole.
   */
  resumes?: (description: string) => boolean;
}

export interface OpenedSink {
  sink: BlockSink;
  location: Location;
  drive?: DriveInfo;
  created: boolean;
}

export async function openSink(text: string, clients: Clients, opts: SinkOptions): Promise<OpenedSink> {
  const location = parseLocation(text);
  if (location.kind === 'file') {
    const resume = opts.createSize !== undefined && (await fileExists(location.path)) && opts.resumes?.(location.path);
    const create = opts.createSize !== undefined && !resume ? { size: opts.createSize } : undefined;
    const sink = await openFileSink(location.path, { create, resumeCreated: Boolean(resume) });
    return { sink, location, created: Boolean(create) };
  }
  if (location.kind !== 'drive') throw new UsageError(`${text} is not a drive (ACCOUNT:DRIVE) or an image file path`);
  const client = await clients.get(location.account);
  let drive: DriveInfo;
  let created = false;
  let startsZeroed = false;
  if (opts.createSize !== undefined) {
    const existing = (await client.listDriveInfo()).filter((d) => d.name === location.drive);
    if (existing.length === 1 && opts.resumes?.(`${location.account}:${existing[0]!.name}`)) {
      drive = existing[0]!;
      startsZeroed = true;
    } else if (existing.length > 0) {
      throw new DrivesnapError(
        'DRIVE_EXISTS',
        `${location.account} already has a drive named ${location.drive}: restore onto it with --to, or choose another name`,
        ExitCode.usage,
      );
    } else {
      drive = await client.createDrive({ name: location.drive, size: opts.createSize });
      created = true;
      startsZeroed = true;
    }
  } else {
    drive = await resolveDrive(client, location.drive);
    if (drive.claimed.length > 0 && !opts.force) {
      throw new DrivesnapError(
        'DRIVE_CLAIMED',
        `${location.account}:${drive.name} is in use by a running server (${drive.claimed.join(' ')}): shut the server down first (--force skips this check, but an API that follows the contract refuses writes to a drive in use with 409 busy)`,
        ExitCode.failure,
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
  return { sink, location, drive, created };
}
