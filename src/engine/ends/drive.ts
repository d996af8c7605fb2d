/**
 * A drive behind the API as source and sink. Writes go out as gzip with Content-Encoding: gzip: a restore
 * sends the repository's stored gzip stream unchanged; raw ranges from other sources are compressed once.
 */
import { gzipBody } from '../codec.js';
import type { BlockSink, BlockSource, RangeBody } from './types.js';

/** The part of the API client the engine needs; ApiClient implements it. */
export interface DriveDataApi {
  readonly url: string;
  readDrive(uuid: string, offset: number, length: number, into?: Buffer): Promise<Buffer>;
  writeDrive(uuid: string, offset: number, body: Uint8Array, opts?: { encoding?: 'gzip' | 'raw' }): Promise<void>;
}

export interface DriveEndOptions {
  api: DriveDataApi;
  uuid: string;
  size: number;
  /** For messages: `account:name`. */
  description: string;
}

export function driveSource(o: DriveEndOptions): BlockSource {
  return {
    size: o.size,
    description: o.description,
    read: (offset, length, into) => o.api.readDrive(o.uuid, offset, length, into),
    close: async () => {},
  };
}

export interface DriveSinkOptions extends DriveEndOptions {
  /** The drive was created by this job: it reads as zeros (verified emulator and API behaviour). */
  startsZeroed: boolean;
  /** gzip level for raw bodies; 0 sends them raw (fast links, e.g. loopback). */
  compressLevel?: number;
}

export function driveSink(o: DriveSinkOptions): BlockSink {
  const level = o.compressLevel ?? 1;
  return {
    size: o.size,
    description: o.description,
    startsZeroed: o.startsZeroed,
    prefers: level > 0 ? 'gzip' : 'raw',
    read: (offset, length, into) => o.api.readDrive(o.uuid, offset, length, into),
    async write(offset: number, body: RangeBody): Promise<number> {
      if (body.encoding === 'gzip') {
        await o.api.writeDrive(o.uuid, offset, body.data, { encoding: 'gzip' });
        return body.data.length;
      }
      if (level > 0 && !body.incompressible) {
        const gz = await gzipBody(body.data, level);
        await o.api.writeDrive(o.uuid, offset, gz, { encoding: 'gzip' });
        return gz.length;
      }
      await o.api.writeDrive(o.uuid, offset, body.data, { encoding: 'raw' });
      return body.data.length;
    },
    flush: async () => {},
    close: async () => {},
  };
}
