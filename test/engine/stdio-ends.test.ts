/**
 * Streams as the ends of real jobs: stdin-like sources and stdout-like sinks over real Node streams, run by
 * the real copy, backup and restore jobs (real image files, a real repository), with many ranges in flight.
 */
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { openFileSource } from '../../src/engine/ends/file.js';
import type { BlockSource } from '../../src/engine/ends/types.js';
import { StreamSink } from '../../src/engine/ends/stdio-sink.js';
import { StreamSource } from '../../src/engine/ends/stdio-source.js';
import { backup } from '../../src/engine/jobs/backup.js';
import { copy } from '../../src/engine/jobs/copy.js';
import { restore } from '../../src/engine/jobs/restore.js';
import { Cleanup, RANGE, fileTarget, localRepo, makeImage, writeImageFile } from '../helpers/engine-fixtures.js';

const IMAGE = makeImage([{ random: 1 }, 'zero', { text: 2 }, 'zero', { random: 3 }, { dup: 0 }, 'zero', { text: 4 }, { random: 5 }], RANGE / 4 + 512);

const cleanup = new Cleanup();
afterAll(() => cleanup.run());

/** A consumer that takes each write after a few turns of the event loop (a slow pipe), keeping what it got. */
function slowCollector(): { stream: Writable; bytes: () => Buffer } {
  const got: Buffer[] = [];
  const stream = new Writable({
    highWaterMark: RANGE,
    write(chunk: Buffer, _enc, cb) {
      got.push(Buffer.from(chunk));
      setTimeout(cb, 2);
    },
  });
  return { stream, bytes: () => Buffer.concat(got) };
}

/** The image as a stream in odd-sized pieces, as a pipe delivers it. */
function streamOf(data: Buffer, piece = 100_003): Readable {
  const pieces: Buffer[] = [];
  for (let at = 0; at < data.length; at += piece) pieces.push(data.subarray(at, at + piece));
  return Readable.from(pieces);
}

/** The image as a file source whose reads go through `read` (to delay or fail some ranges). */
async function imageSource(
  read: (file: BlockSource, offset: number, length: number, into?: Buffer) => Promise<Buffer>,
): Promise<BlockSource> {
  const dir = await cleanup.tempDir();
  await writeImageFile(join(dir, 'src.img'), IMAGE);
  const file = await openFileSource(join(dir, 'src.img'));
  return { ...file, size: file.size, read: (offset, length, into) => read(file, offset, length, into), close: () => file.close() };
}

describe('StreamSink', () => {
  it('a copy with 8 ranges in flight writes the image in order, zero ranges as zeros, holding no more than its bound', async () => {
    // Every third range reads late, so later ranges reach the sink first.
    const source = await imageSource(async (file, offset, length, into) => {
      const data = await file.read(offset, length, into);
      if ((offset / RANGE) % 3 === 0) await new Promise((r) => setTimeout(r, 40));
      return data;
    });
    const out = slowCollector();
    const sink = new StreamSink({ stream: out.stream, description: 'stdout', maxAheadBytes: 2 * RANGE });
    let maxHeld = 0;
    const write = sink.write.bind(sink);
    sink.write = async (offset, body) => {
      maxHeld = Math.max(maxHeld, sink.bytesHeld);
      const n = await write(offset, body);
      maxHeld = Math.max(maxHeld, sink.bytesHeld);
      return n;
    };
    const result = await copy({ source, sink, concurrency: 8 });
    await source.close();
    expect(out.bytes().equals(IMAGE)).toBe(true);
    expect(sink.written).toBe(IMAGE.length);
    expect(maxHeld).toBeGreaterThan(0);
    expect(maxHeld).toBeLessThanOrEqual(2 * RANGE);
    expect(result.progress.snapshot().counts.written).toBe(Math.ceil(IMAGE.length / RANGE));
  });

  it('a range that fails before reaching the stream ends the job at once, even while the event loop is kept busy', async () => {
    const source = await imageSource(async (file, offset, length, into) => {
      if (offset / RANGE === 2) throw new Error('range 2 cannot be read');
      return file.read(offset, length, into);
    });
    const out = slowCollector();
    const sink = new StreamSink({ stream: out.stream, description: 'stdout', maxAheadBytes: 2 * RANGE });
    // A progress display ticking keeps the process busy: only the job itself can end the wait on the gap.
    const busy = setInterval(() => undefined, 5);
    try {
      await expect(copy({ source, sink, concurrency: 4 })).rejects.toMatchObject({ code: 'RANGES_FAILED' });
    } finally {
      clearInterval(busy);
      await source.close();
    }
    // What reached the stream is the image's start, and nothing at or past the failed range.
    const got = out.bytes();
    expect(got.length).toBeLessThanOrEqual(2 * RANGE);
    expect(got.equals(IMAGE.subarray(0, got.length))).toBe(true);
    expect(sink.waiting).toBe(false);
  });

  it('a stream that fails (the reader closed it) fails the job, and no later range is written', async () => {
    const dir = await cleanup.tempDir();
    await writeImageFile(join(dir, 'src.img'), IMAGE);
    const source = await openFileSource(join(dir, 'src.img'));
    let writes = 0;
    const stream = new Writable({
      write(_chunk, _enc, cb) {
        writes++;
        if (writes === 2) cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
        else cb();
      },
    });
    stream.on('error', () => undefined);
    const sink = new StreamSink({ stream, description: 'stdout' });
    await expect(copy({ source, sink, concurrency: 4 })).rejects.toThrow(/stdout was closed by its reader \(broken pipe\) after 4194304 bytes were written in full/);
    await source.close();
    expect(writes).toBe(2);
  });

  it('abort frees the writers waiting ahead of a gap that will never fill', async () => {
    const sink = new StreamSink({ stream: new PassThrough(), description: 'stdout' });
    const ahead = sink.write(RANGE, { encoding: 'raw', data: Buffer.alloc(RANGE, 1) });
    await new Promise((r) => setImmediate(r));
    expect(sink.waiting).toBe(true);
    sink.abort(new Error('the range at offset 0 failed'));
    await expect(ahead).rejects.toThrow(/offset 0 failed/);
    await expect(sink.write(2 * RANGE, { encoding: 'raw', data: Buffer.alloc(10) })).rejects.toThrow(/offset 0 failed/);
  });

  it('cannot be read back once flushed (--verify)', async () => {
    const sink = new StreamSink({ stream: new PassThrough(), description: 'stdout' });
    await sink.write(0, { encoding: 'raw', data: Buffer.alloc(16) });
    await sink.flush();
    await expect(sink.read(0, 16)).rejects.toThrow(/cannot be read back/);
  });
});

describe('StreamSource', () => {
  it('backup from a stream with 8 ranges in flight, then restore onto a stream: the same bytes', async () => {
    const { repo } = await localRepo(cleanup, true);
    const source = new StreamSource({ stream: streamOf(IMAGE), size: IMAGE.length, description: 'stdin' });
    const b = await backup({ repo, source, target: fileTarget('stdin'), concurrency: 8 });
    expect(b.meta.size).toBe(IMAGE.length);
    const out = slowCollector();
    const sink = new StreamSink({ stream: out.stream, description: 'stdout', maxAheadBytes: RANGE });
    const snapshot = repo.resolveSnapshot(b.snapshotId);
    await restore({ repo, snapshot, sink, concurrency: 8 });
    expect(out.bytes().equals(IMAGE)).toBe(true);
  });

  it('a stream shorter or longer than its size fails the job before anything is committed', async () => {
    const { repo } = await localRepo(cleanup, false);
    const short = new StreamSource({ stream: streamOf(IMAGE.subarray(0, 3 * RANGE + 7)), size: IMAGE.length, description: 'stdin' });
    await expect(backup({ repo, source: short, target: fileTarget('stdin'), concurrency: 4 })).rejects.toThrow(
      /stdin ended after 12582919 bytes, but \d+ were expected: give its exact size with --size/,
    );
    const long = new StreamSource({ stream: streamOf(Buffer.concat([IMAGE, Buffer.from('x')])), size: IMAGE.length, description: 'stdin' });
    // Another target: the failed backup above left a checkpoint that a backup of the same target would resume.
    await expect(backup({ repo, source: long, target: fileTarget('stdin-long'), concurrency: 4 })).rejects.toThrow(/stdin holds more than the \d+ bytes expected/);
    expect(repo.listSnapshots()).toEqual([]);
  });

  it('serves ranges in the order asked, refuses one out of order, and has no size until given one', async () => {
    const source = new StreamSource({ stream: streamOf(IMAGE), description: 'stdin', sizeNeeded: 'pass --size N' });
    expect(() => source.size).toThrow(/pass --size N/);
    source.assumeSize(IMAGE.length);
    expect(source.size).toBe(IMAGE.length);
    const first = source.read(0, RANGE);
    const second = source.read(RANGE, RANGE);
    await expect(source.read(3 * RANGE, RANGE)).rejects.toThrow(/read once, front to back: the range at offset 12582912 was asked for when the next one is at 8388608/);
    expect((await second).equals(IMAGE.subarray(RANGE, 2 * RANGE))).toBe(true);
    expect((await first).equals(IMAGE.subarray(0, RANGE))).toBe(true);
    await expect(source.read(0, RANGE)).rejects.toThrow(/cannot be read again/);
    await source.close();
  });
});
