/**
 * The emulator's shared state and services that every call handler uses: drive records and their sparse
 * files, the library, claims, limits, persistence and the running totals.
 */
import { mkdir, open, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { FdPool } from './fd-pool.js';
import { busy, missing } from './http-error.js';
import { StateSaver } from './persistence.js';
import { ALL_READERS, STANDARD_DRIVES, type StandardImage, standardImages } from './standard-library.js';
import { type DriveRecord, type EmulatorState, type IoCounters, newCounters, type ServerRecord } from './state.js';
import type { EmulatorAccount, EmulatorStats } from './types.js';

/** The host part of claim tokens (`HOST:guest:SERVER:DEVICE`): the emulator is one host. */
export const EMULATOR_HOST = '00000000-0000-4000-8000-0000000e0001';

const STANDARD_UUIDS = new Set(STANDARD_DRIVES.map((d) => d.drive));

export interface CoreLimits {
  storageLimitBytes: number | undefined;
  maxWriteBytes: number;
  imagingBytesPerSec: number | undefined;
  shutdownDelayMs: number;
  imagingInfo: 'percent' | 'flag';
}

export function zeroStats(): EmulatorStats {
  return { requests: 0, faultsInjected: 0, readRequests: 0, readBytes: 0, writeRequests: 0, writeBytes: 0 };
}

/** A running server's use of a drive. */
export interface Attachment {
  server: ServerRecord;
  device: string;
}

/** A drive the caller may read: one of the accounts' drives, or a library image. */
export type ReadableDrive = { kind: 'drive'; record: DriveRecord } | { kind: 'library'; image: StandardImage };

export class EmulatorCore {
  readonly fds = new FdPool();
  readonly saver: StateSaver;
  readonly accounts: Map<string, EmulatorAccount>;
  stats: EmulatorStats = zeroStats();
  /** Drives being imaged, as destination or source: kept by imaging.ts, read by claim checks. */
  readonly imagingDrives = new Map<string, number>();
  /** Library drives are shared and read-only: their counters live only as long as the process. */
  private readonly libraryCounterMap = new Map<string, IoCounters>();

  constructor(
    readonly dataDir: string,
    readonly state: EmulatorState,
    accounts: EmulatorAccount[],
    readonly limits: CoreLimits,
  ) {
    this.saver = new StateSaver(dataDir, state);
    this.accounts = new Map(accounts.map((a) => [a.user, a]));
  }

  drivePath(drive: string): string {
    return join(this.dataDir, 'drives', `${drive}.img`);
  }

  async ensureDirs(): Promise<void> {
    await mkdir(join(this.dataDir, 'drives'), { recursive: true });
  }

  /** A drive of the caller's own account; anything else is `missing`. */
  ownDrive(user: string, drive: string): DriveRecord {
    const record = this.state.drives[drive];
    if (!record || record.user !== user) throw missing(`drive ${drive} not found`);
    return record;
  }

  isStandard(drive: string): boolean {
    return STANDARD_UUIDS.has(drive);
  }

  async libraryImage(drive: string): Promise<StandardImage | undefined> {
    if (!this.isStandard(drive)) return undefined;
    return (await standardImages()).find((i) => i.drive === drive);
  }

  /** A drive the caller may info/read/image from: own, listed in `readers`, or the library. */
  async readableDrive(user: string, drive: string): Promise<ReadableDrive> {
    const record = this.state.drives[drive];
    if (record && (record.user === user || canRead(record, user))) return { kind: 'drive', record };
    const image = await this.libraryImage(drive);
    if (image) return { kind: 'library', image };
    throw missing(`drive ${drive} not found`);
  }

  libraryCounters(drive: string): IoCounters {
    let counters = this.libraryCounterMap.get(drive);
    if (!counters) {
      counters = newCounters();
      this.libraryCounterMap.set(drive, counters);
    }
    return counters;
  }

  /** The running servers that have the drive attached, and as which device. */
  attachmentsOf(drive: string): Attachment[] {
    const found: Attachment[] = [];
    for (const server of Object.values(this.state.servers)) {
      if (server.status !== 'active') continue;
      for (const device of serverDevices(server)) if (server.config[device] === drive) found.push({ server, device });
    }
    return found;
  }

  /** Claim tokens (`HOST:guest:SERVER:DEVICE`) of running servers that use the drive. */
  claimsOf(drive: string): string[] {
    return this.attachmentsOf(drive).map(({ server, device }) => `${EMULATOR_HOST}:guest:${server.server}:${device}`);
  }

  /** Refuses to change a drive that a server uses or that imaging reads or writes. */
  assertNotBusy(record: DriveRecord, action: string): void {
    if (this.imagingDrives.has(record.drive)) throw busy(`drive ${record.drive} is being imaged; ${action} later`);
    const attached = this.attachmentsOf(record.drive);
    if (attached.length > 0) {
      // The real API's answer is 409 busy, like a transient busy: the message (and the drive's `claimed`
      // key) is what tells a user, and a client, that only stopping the server will help.
      const holders = attached.map(({ server, device }) => {
        const name = server.config.name;
        return `${server.server}${name ? ` ("${name}")` : ''} as ${device}`;
      });
      throw busy(
        `drive ${record.drive} is claimed by running server ${holders.join(', running server ')}; stop or shut down the server before you ${action}`,
      );
    }
  }

  /** Total of drive sizes: the whole emulator, or one account's. */
  allocatedBytes(user?: string): number {
    let total = 0;
    for (const d of Object.values(this.state.drives)) if (user === undefined || d.user === user) total += d.size;
    return total;
  }

  driveCount(user: string): number {
    return Object.values(this.state.drives).filter((d) => d.user === user).length;
  }

  /** Creates the sparse file of a new drive: it reads as zeros until written. */
  async createDriveFile(drive: string, size: number): Promise<void> {
    const handle = await open(this.drivePath(drive), 'wx');
    try {
      await handle.truncate(size);
    } finally {
      await handle.close();
    }
  }

  async resizeDriveFile(drive: string, size: number): Promise<void> {
    await truncate(this.drivePath(drive), size);
  }

  async deleteDriveFile(drive: string): Promise<void> {
    await this.fds.forget(this.drivePath(drive));
    await unlink(this.drivePath(drive)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  /** Reads up to `length` bytes at offset into one Buffer (short at the end of the drive). */
  async readDrive(drive: string, offset: number, length: number): Promise<Buffer> {
    const buffer = Buffer.allocUnsafe(length);
    const bytesRead = await this.fds.with(this.drivePath(drive), async (handle) => {
      let done = 0;
      while (done < length) {
        const { bytesRead: n } = await handle.read(buffer, done, length - done, offset + done);
        if (n === 0) break;
        done += n;
      }
      return done;
    });
    return bytesRead === length ? buffer : buffer.subarray(0, bytesRead);
  }

  async writeDrive(drive: string, offset: number, data: Uint8Array): Promise<void> {
    await this.fds.with(this.drivePath(drive), async (handle) => {
      let done = 0;
      while (done < data.length) {
        const { bytesWritten } = await handle.write(data, done, data.length - done, offset + done);
        done += bytesWritten;
      }
    });
  }
}

export function canRead(record: DriveRecord, user: string): boolean {
  const readers = (record.props.readers ?? '').split(' ');
  return readers.includes(user) || readers.includes(ALL_READERS);
}

const DEVICE_RE = /^(ide:[01]:[01]|scsi:0:[0-7]|block:[0-7])$/;

/** The device keys (`ide:0:0`, `scsi:0:3`, `block:1`) a server's configuration attaches drives to. */
export function serverDevices(server: ServerRecord): string[] {
  return Object.keys(server.config).filter((k) => DEVICE_RE.test(k));
}

export function isDeviceKey(key: string): boolean {
  return DEVICE_RE.test(key);
}
