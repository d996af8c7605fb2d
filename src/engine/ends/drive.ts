/**
 * A drive behind the API as source and sink. Writes go out as gzip with Content-Encoding: gzip: a restore
 * sends the repository's stored gzip stream unchanged; raw ranges from other sources are compressed once.
 */
import { gzipIfSmaller } from '../../repo/format/compress.js';
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
  // Deflate output buffers, one per write in flight, reused: a fresh 4 MiB buffer per range was garbage that
  // lived until the next major collection (a copy between accounts peaked ~30 MiB above its steady state).
  const spare: Buffer[] = [];
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
      if (level > 0 && !body.incompressible && body.data.length > 0) {
        let out = spare.pop();
        if (out === undefined || out.length < body.data.length) out = Buffer.allocUnsafe(body.data.length);
        try {
          // Undefined when the stream would not be shorter (or a sample says so): the range goes raw.
          const gz = await gzipIfSmaller(body.data, level, out);
          if (gz !== undefined) {
            await o.api.writeDrive(o.uuid, offset, gz, { encoding: 'gzip' });
            return gz.length;
          }
        } finally {
          spare.push(out);
        }
      }
      await o.api.writeDrive(o.uuid, offset, body.data, { encoding: 'raw' });
      return body.data.length;
    },
    flush: async () => {},
    close: async () => {},
  };
}
