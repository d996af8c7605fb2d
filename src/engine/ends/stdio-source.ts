/**
 * A stream (stdin) as a source of a known size. A stream is read once, front to back, while the job's
 * workers ask for ranges in parallel: the job runner hands ranges out in order and each step asks for its
 * range first thing, so the asks arrive in order; they are served in that order, each straight into the
 * worker's buffer. The read-ahead is bounded by the ranges in flight (each waits in its worker's buffer),
 * never the stream's length.
 *
 * A range asked out of order (behind what was read, or past a range never asked for: a job resuming from a
 * checkpoint, or reading its source twice) is refused with a clear error instead of a wrong result or a
 * hang. The stream must hold exactly `size` bytes: shorter or longer fails the last range, so no job
 * commits a snapshot or reports success on a stream of another size.
 */
import type { Readable } from 'node:stream';
import { DrivesnapError, UsageError } from '../../errors.js';
import type { BlockSource } from './types.js';

export interface StreamSourceOptions {
  stream: Readable;
  /** Unknown until `assumeSize` (a copy onto an existing target takes the target's size). */
  size?: number;
  description: string;
  /** What to do when the size is asked before it is known: the command's own words (`pass --size N`). */
  sizeNeeded?: string;
}

export class StreamSource implements BlockSource {
  /** Read or written once, front to back: a job must keep no checkpoint of it (a rerun cannot skip ranges) nor read it twice. */
  readonly once = true;
  private known: number | undefined;
  readonly description: string;
  private readonly sizeNeeded: string;
  private readonly chunks: AsyncIterator<Buffer>;
  private leftover: Buffer | undefined;
  private ended = false;
  /** Where the next range asked for must start. */
  private asked = 0;
  /** Bytes taken from the stream so far. */
  private taken = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private failure: Error | undefined;

  constructor(o: StreamSourceOptions) {
    this.known = o.size;
    this.description = o.description;
    this.sizeNeeded = o.sizeNeeded ?? `${o.description} needs its size given: a stream's size is not known before its end`;
    this.chunks = o.stream[Symbol.asyncIterator]();
  }

  /** The stream's size; asking before it is known is a usage error (the size must be given). */
  get size(): number {
    if (this.known === undefined) throw new UsageError(this.sizeNeeded);
    return this.known;
  }

  get sizeKnown(): boolean {
    return this.known !== undefined;
  }

  /** Takes `size` as the stream's size when none was given, before the first read. */
  assumeSize(size: number): void {
    if (this.known === undefined && this.asked === 0) this.known = size;
  }

  read(offset: number, length: number, into?: Buffer): Promise<Buffer> {
    if (offset !== this.asked) {
      return Promise.reject(
        new DrivesnapError(
          'STREAM_ORDER',
          `${this.description} is read once, front to back: the range at offset ${offset} was asked for when the next one is at ${this.asked} ` +
            '(a stream cannot be read again, e.g. for --verify, nor resumed: save it to a file first)',
        ),
      );
    }
    if (offset + length > this.size) return Promise.reject(new RangeError(`a read past the end of ${this.description} (${this.size} bytes)`));
    this.asked = offset + length;
    const result = this.queue.then(() => this.take(offset, length, into));
    this.queue = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    await this.chunks.return?.();
  }

  /** Bytes the stream held beyond `size` are an error, found when the last range is read. */
  private async take(offset: number, length: number, into: Buffer | undefined): Promise<Buffer> {
    if (this.failure) throw this.failure;
    try {
      const buf = into ? into.subarray(0, length) : Buffer.allocUnsafe(length);
      const got = await this.fill(buf);
      this.taken += got;
      if (got < length) {
        throw new DrivesnapError(
          'STREAM_SIZE',
          `${this.description} ended after ${this.taken} bytes, but ${this.size} were expected: give its exact size with --size`,
        );
      }
      if (offset + length === this.size && (await this.fill(Buffer.alloc(1))) > 0) {
        throw new DrivesnapError('STREAM_SIZE', `${this.description} holds more than the ${this.size} bytes expected: give its exact size with --size`);
      }
      return buf;
    } catch (err) {
      this.failure = err as Error;
      throw err;
    }
  }

  /** Fills `buf` from the stream; fewer bytes only at its end. */
  private async fill(buf: Buffer): Promise<number> {
    let filled = 0;
    while (filled < buf.length) {
      if (!this.leftover || this.leftover.length === 0) {
        if (this.ended) break;
        const next = await this.chunks.next();
        if (next.done) {
          this.ended = true;
          break;
        }
        this.leftover = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
      }
      const n = this.leftover.copy(buf, filled);
      this.leftover = this.leftover.subarray(n);
      filled += n;
    }
    return filled;
  }
}
