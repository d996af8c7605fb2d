/**
 * Local raw image files and block devices as sources and sinks. A new file is created sparse (truncated
 * to the size), so it reads as zeros and zero ranges need not be written.
 */
import { constants, type FileHandle, open, readFile, stat } from 'node:fs/promises';
import { DrivesnapError } from '../../errors.js';
import { isalAddon } from '../../codec/isal.js';
import { WritebackOverlap } from '../../util/writeback.js';
import { writeAll } from '../../util/write-all.js';
import { gunzipBody, zeroBuffer } from '../codec.js';
import { openDirectWrites } from './direct-writes.js';
import type { BlockSink, BlockSource, RangeBody } from './types.js';

async function deviceSize(fh: FileHandle, path: string): Promise<number> {
  const st = await fh.stat();
  if (st.isFile()) return st.size;
  if (st.isBlockDevice()) {
    // Node has no BLKGETSIZE64 ioctl; the kernel publishes the size in 512-byte sectors under /sys.
    const major = Math.floor(st.rdev / 256);
    const minor = st.rdev % 256;
    const sectors = Number((await readFile(`/sys/dev/block/${major}:${minor}/size`, 'utf8')).trim());
    return sectors * 512;
  }
  throw new DrivesnapError('NOT_A_FILE', `${path} is neither a regular file nor a block device`);
}

/**
 * True when the file holds no data in [offset, offset + length) but a hole (a sparse image's unwritten
 * space), asked of the file system (SEEK_DATA, through the addon; false without it). Reading a hole makes
 * the kernel copy zeros: a backup of a 16 GiB image with 2 GiB of data spent 23 s of system CPU on them.
 */
async function isHole(fh: FileHandle, offset: number, length: number): Promise<boolean> {
  const next = (await isalAddon?.nextData?.(fh.fd, offset)) ?? -2;
  if (next === -2 || (next >= 0 && next < offset + length)) return false;
  // Only a hole to the end of the file: true if the file still reaches past the range (else a short read).
  return next >= 0 || (await fh.stat()).size >= offset + length;
}

async function readFully(fh: FileHandle, offset: number, length: number, into?: Buffer): Promise<Buffer> {
  // A hole reads as the shared run of zeros, not a copy of it: 704 MiB of holes in the bench image cost the
  // main thread 90 ms of memcpy per backup, and the zero test below recognises the shared run at once.
  if (await isHole(fh, offset, length)) return zeroBuffer(length);
  const buf = into ? into.subarray(0, length) : Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, offset + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  // Past the end of a file that shrank while we read: those bytes are absent, not zeros; say so.
  if (done < length) throw new DrivesnapError('SHORT_READ', `short read at offset ${offset}: the file shrank while being read`);
  return buf;
}

export async function openFileSource(path: string): Promise<BlockSource> {
  const fh = await openOrExplain(path, constants.O_RDONLY);
  const size = await deviceSize(fh, path);
  return {
    size,
    description: path,
    read: (offset, length, into) => readFully(fh, offset, length, into),
    close: () => fh.close(),
  };
}

async function openOrExplain(path: string, flags: number): Promise<FileHandle> {
  try {
    return await open(path, flags, 0o644);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DrivesnapError('FILE_NOT_FOUND', `${path} does not exist`);
    if (code === 'EACCES') throw new DrivesnapError('FILE_ACCESS', `${path}: permission denied`);
    throw err;
  }
}

export interface FileSinkOptions {
  /** Create the file (sparse, of `size` bytes); refuse when it exists. */
  create?: { size: number };
  /** The file was created by an interrupted job of ours: it still reads as zeros where we did not write. */
  resumeCreated?: boolean;
  /**
   * Flush direct writes in the background too, not only page-cache ones. They skip the page cache, not the
   * disk's own cache (a virtio disk's host) nor ext4's journal of the blocks they allocate: a final fsync
   * after 1.35 GB of them took 0.5-0.9 s. A job with CPU work per range (a restore inflates and re-hashes)
   * hides the flushes behind it: the bench restore ran 7% faster (3.76 -> 3.50 s, A/B, medians of 6; every
   * 256 MiB gave nothing). A copy only writes: with them it measured 5% slower (2.09 -> 2.23 s, medians of 6,
   * within this machine's noise), so it leaves them to the end.
   */
  flushWhileWriting?: boolean;
}

/** Dirty bytes between background datasyncs of a sink: the final flush then has at most this much to write. */
const WRITEBACK_EVERY = 64 * 1024 * 1024;

export async function openFileSink(path: string, opts: FileSinkOptions = {}): Promise<BlockSink> {
  let fh: FileHandle;
  let startsZeroed = false;
  if (opts.create) {
    try {
      fh = await open(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new DrivesnapError('FILE_EXISTS', `${path} exists already: restore onto it with --to, or choose a new path`);
      }
      throw err;
    }
    await fh.truncate(opts.create.size);
    startsZeroed = true;
  } else {
    fh = await openOrExplain(path, constants.O_RDWR);
    startsZeroed = Boolean(opts.resumeCreated);
  }
  const size = await deviceSize(fh, path);
  const direct = await openDirectWrites(path);
  // What goes through the page cache is written back while the job works, and with flushWhileWriting what
  // went direct too (a datasync through either descriptor flushes the file).
  const writeback = new WritebackOverlap(() => fh.datasync(), WRITEBACK_EVERY);
  return {
    size,
    description: path,
    startsZeroed,
    prefers: 'raw',
    directWrites: direct !== undefined,
    read: (offset, length, into) => readFully(fh, offset, length, into),
    async write(offset: number, body: RangeBody): Promise<number> {
      const data = body.encoding === 'gzip' ? await gunzipBody(body.data, body.rawLength) : body.data;
      const done = direct ? await direct.write(data, offset) : 0;
      if (done < data.length) await writeAll(fh, data.subarray(done), offset + done);
      writeback.wrote(opts.flushWhileWriting ? data.length : data.length - done);
      return data.length;
    },
    // Most of the data is on disk already (direct writes, background datasyncs): this waits for the last of it.
    flush: () => writeback.settle(() => fh.sync()),
    close: async () => {
      try {
        await direct?.close();
      } finally {
        await fh.close();
      }
    },
  };
}

export async function fileExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
