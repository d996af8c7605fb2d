/**
 * A stream (stdout) as a sink: the job's workers finish ranges out of order; the stream takes them strictly
 * in order. A writer whose range is due writes at once; one ahead waits in a bounded reorder buffer until the
 * gap before it fills, and one further ahead waits for room (backpressure). Every writer's promise settles
 * only once its bytes are out of the stream's hands (the write callback), so the worker's range buffer is
 * never reused early, the stream's own backpressure holds the workers, and memory stays bounded by the
 * ranges in flight, never the drive.
 *
 * A stream holds nothing before the job and cannot be read back: `read` returns a short marker that equals
 * no range (another length, not zeros), so a job that compares before writing writes every range, zero
 * ranges included (a stream does not start zeroed: a skipped range would be a gap).
 */
import type { Writable } from 'node:stream';
import { DrivesnapError, UsageError } from '../../errors.js';
import { gunzipBody } from '../codec.js';
import { ReorderBuffer } from './reorder-buffer.js';
import type { BlockSink, RangeBody } from './types.js';

/** Ranges held ahead of the gap by default: 64 MiB (16 default ranges). */
export const DEFAULT_REORDER_BYTES = 64 * 1024 * 1024;

export interface StreamSinkOptions {
  stream: Writable;
  description: string;
  /** Bytes of ranges held ahead of the next one due; writers further ahead wait. */
  maxAheadBytes?: number;
}

interface Pending {
  data: Buffer;
  settle: (err?: Error) => void;
}

const MARKER = Buffer.from([0xff, 0xff]);

export class StreamSink implements BlockSink {
  /** Read or written once, front to back: a job must keep no checkpoint of it (a rerun cannot skip ranges) nor read it twice. */
  readonly once = true;
  /** A stream takes any length: the job's size is the source's. */
  readonly size = Number.MAX_SAFE_INTEGER;
  readonly startsZeroed = false;
  readonly prefers = 'raw' as const;
  readonly description: string;
  private readonly stream: Writable;
  private readonly order: ReorderBuffer<Pending>;
  private readonly roomWaiters: (() => void)[] = [];
  private failure: Error | undefined;
  private inStream = 0;
  private bytesOut = 0;
  private drained: (() => void)[] = [];
  private flushed = false;

  constructor(o: StreamSinkOptions) {
    this.stream = o.stream;
    this.description = o.description;
    this.order = new ReorderBuffer(o.maxAheadBytes ?? DEFAULT_REORDER_BYTES);
    // Without a listener a closed pipe (EPIPE) would be an uncaught exception instead of the job's error.
    this.stream.on('error', (err) => this.abort(this.closedError(err)));
  }

  /** Bytes the stream has taken so far, in order. */
  get written(): number {
    return this.bytesOut;
  }

  /** Bytes of ranges held ahead of the gap now (bounded by maxAheadBytes). */
  get bytesHeld(): number {
    return this.order.bytesHeld;
  }

  read(_offset: number, length: number): Promise<Buffer> {
    if (this.flushed) return Promise.reject(new UsageError(`${this.description} cannot be read back: --verify does not apply to -`));
    // Never equal to a range: another length (2 bytes for a 1-byte range, else 1), and not zeros.
    return Promise.resolve(MARKER.subarray(0, length === 1 ? 2 : 1));
  }

  async write(offset: number, body: RangeBody): Promise<number> {
    const data = body.encoding === 'gzip' ? await gunzipBody(body.data, body.rawLength) : body.data;
    this.throwIfFailed();
    while (!this.order.fits(offset, data.length)) {
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
      this.throwIfFailed();
    }
    await new Promise<void>((resolve, reject) => {
      const due = this.order.put(offset, data.length, { data, settle: (err) => (err ? reject(err) : resolve()) });
      for (const p of due) this.send(p);
      if (due.length > 0) this.wakeRoomWaiters();
    });
    return data.length;
  }

  /** Every range handed over has left the stream's buffer; a gap left at the end is a job that lost a range. */
  async flush(): Promise<void> {
    if (this.inStream > 0) await new Promise<void>((resolve) => this.drained.push(resolve));
    this.throwIfFailed();
    if (this.order.bytesHeld > 0) {
      throw new DrivesnapError('RANGES_UNACCOUNTED', `${this.description}: ranges after offset ${this.order.position} were never written in order`);
    }
    this.flushed = true;
  }

  async close(): Promise<void> {
    if (this.waiting) this.abort(new DrivesnapError('INTERRUPTED', `${this.description} was closed while ranges waited to be written`));
  }

  /**
   * Fails every writer waiting and every later write: the stream is broken, or the job gave up (a range
   * before the waiting ones failed, so the gap will never fill). Idempotent; the first reason stays.
   */
  abort(reason: Error): void {
    this.failure ??= reason;
    for (const p of this.order.clear()) p.settle(this.failure);
    this.wakeRoomWaiters();
  }

  /** Ranges ahead of a gap are waiting: the job stalls until the gap fills (or it gives up and aborts). */
  get waiting(): boolean {
    return this.order.bytesHeld > 0 || this.roomWaiters.length > 0;
  }

  private send(p: Pending): void {
    if (this.failure) {
      p.settle(this.failure);
      return;
    }
    this.inStream++;
    this.stream.write(p.data, (err) => {
      this.inStream--;
      if (err) this.abort(this.closedError(err));
      else this.bytesOut += p.data.length;
      p.settle(err ? this.failure : undefined);
      if (this.inStream === 0) for (const d of this.drained.splice(0)) d();
    });
  }

  private wakeRoomWaiters(): void {
    for (const w of this.roomWaiters.splice(0)) w();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  private closedError(err: Error): Error {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED') {
      return new DrivesnapError(
        'STREAM_CLOSED',
        `${this.description} was closed by its reader (broken pipe) after ${this.bytesOut} bytes were written in full: what it got is incomplete`,
        { cause: err },
      );
    }
    return err;
  }
}
