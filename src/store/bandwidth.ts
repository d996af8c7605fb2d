/**
 * BandwidthStore: counts the bytes put and got and, when given rates, holds transfers to them with a token
 * bucket per direction. It sits innermost (open.ts) so every retried attempt is counted and paced too.
 */
import { ForwardingStore } from './forwarding.js';
import type { ObjectStore, PutOptions } from './types.js';

/**
 * Token bucket that may go into debt: a 4 MiB object under a 1 MiB/s limit is let through, and whoever
 * comes next waits until the debt is paid. Pure: the clock is injected.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    readonly bytesPerSecond: number,
    readonly burstBytes: number = bytesPerSecond,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(bytesPerSecond > 0)) throw new RangeError(`bandwidth limit must be positive, got ${bytesPerSecond}`);
    this.tokens = burstBytes;
    this.updatedAt = now();
  }

  /** Takes `bytes` tokens and returns how many milliseconds to wait before moving them (0: go now). */
  reserve(bytes: number): number {
    const now = this.now();
    const elapsedSeconds = Math.max(0, now - this.updatedAt) / 1000;
    this.updatedAt = now;
    this.tokens = Math.min(this.burstBytes, this.tokens + elapsedSeconds * this.bytesPerSecond);
    this.tokens -= bytes;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.bytesPerSecond) * 1000;
  }
}

export interface BandwidthOptions {
  /** Bytes per second; absent means unlimited (counting only). */
  uploadBytesPerSecond?: number;
  downloadBytesPerSecond?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export class BandwidthStore extends ForwardingStore {
  private putBytes = 0;
  private gotBytes = 0;
  private readonly upload?: TokenBucket;
  private readonly download?: TokenBucket;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(inner: ObjectStore, options: BandwidthOptions = {}) {
    super(inner);
    if (options.uploadBytesPerSecond !== undefined)
      this.upload = new TokenBucket(options.uploadBytesPerSecond, options.uploadBytesPerSecond, options.now);
    if (options.downloadBytesPerSecond !== undefined)
      this.download = new TokenBucket(options.downloadBytesPerSecond, options.downloadBytesPerSecond, options.now);
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }


  /** Bytes handed to the store below, every attempt counted. */
  get bytesPut(): number {
    return this.putBytes;
  }

  /** Bytes received from the store below. */
  get bytesGot(): number {
    return this.gotBytes;
  }

  override async put(name: string, data: Uint8Array, opts?: PutOptions): Promise<void> {
    const wait = this.upload?.reserve(data.byteLength) ?? 0;
    if (wait > 0) await this.sleep(wait);
    this.putBytes += data.byteLength;
    await this.inner.put(name, data, opts);
  }

  /** The size is known only after the transfer, so a get pays its tokens afterwards. */
  override async get(name: string, into?: Buffer): Promise<Buffer> {
    const data = await this.inner.get(name, into);
    this.gotBytes += data.byteLength;
    const wait = this.download?.reserve(data.byteLength) ?? 0;
    if (wait > 0) await this.sleep(wait);
    return data;
  }




}
