/**
 * Turns the locations users type (cli.md: `ACCOUNT:DRIVE`, a path, `ACCOUNT:NAME` for a new drive) into
 * the engine's sources and sinks, keeping one API client per account for the whole command.
 */
import type { ApiClient } from '../api/client.js';
import type { DriveInfo } from '../api/drive-info.js';
import { openClient, resolveAccount } from '../config/accounts.js';
import { type Location, parseLocation, resolveDrive } from '../config/locations.js';
import { DrivesnapError, ExitCode, UsageError } from '../errors.js';
import { driveSink, driveSource } from '../engine/ends/drive.js';
import { openFileSink, openFileSource } from '../engine/ends/file.js';
import type { BlockSink, BlockSource } from '../engine/ends/types.js';

export class Clients {
  private readonly clients = new Map<string, Promise<ApiClient>>();
  constructor(private readonly connections: number) {}

  get(account: string): Promise<ApiClient> {
    let c = this.clients.get(account);
    if (!c) {
      c = resolveAccount(account).then((a) => openClient(a, { connections: this.connections }));
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
    const create = opts.createSize !== undefined ? { size: opts.createSize } : undefined;
    return { sink: await openFileSink(location.path, { create }), location, created: Boolean(create) };
  }
  if (location.kind !== 'drive') throw new UsageError(`${text} is not a drive (ACCOUNT:DRIVE) or an image file path`);
  const client = await clients.get(location.account);
  let drive: DriveInfo;
  let created = false;
  if (opts.createSize !== undefined) {
    const existing = (await client.listDriveInfo()).filter((d) => d.name === location.drive);
    if (existing.length > 0) {
      throw new DrivesnapError(
        'DRIVE_EXISTS',
        `${location.account} already has a drive named ${location.drive}: restore onto it with --to, or choose another name`,
        ExitCode.usage,
      );
    }
    drive = await client.createDrive({ name: location.drive, size: opts.createSize });
    created = true;
  } else {
    drive = await resolveDrive(client, location.drive);
    if (drive.claimed.length > 0 && !opts.force) {
      throw new DrivesnapError(
        'DRIVE_CLAIMED',
        `${location.account}:${drive.name} is in use by a running server (${drive.claimed.join(' ')}): stop the server, or pass --force to write anyway`,
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
    startsZeroed: created,
    compressLevel: opts.compressLevel,
  });
  return { sink, location, drive, created };
}
