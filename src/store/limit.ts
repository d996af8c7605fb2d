/**
 * LimitStore: at most N operations in flight on the store below. A listing takes a slot per step (per
 * page on S3), not for its whole life, so a caller that reads objects while listing cannot deadlock itself.
 */
import pLimit, { type LimitFunction } from 'p-limit';
import type { Leftovers, ObjectInfo, ObjectStore, PutOptions } from './types.js';

export class LimitStore implements ObjectStore {
  private readonly limit: LimitFunction;

  constructor(
    private readonly inner: ObjectStore,
    readonly concurrency: number,
  ) {
    this.limit = pLimit(concurrency);
  }

  get location(): string {
    return this.inner.location;
  }

  /** Operations running now, and waiting for a slot. */
  get activeCount(): number {
    return this.limit.activeCount;
  }

  get pendingCount(): number {
    return this.limit.pendingCount;
  }

  put(name: string, data: Uint8Array, opts?: PutOptions): Promise<void> {
    return this.limit(() => this.inner.put(name, data, opts));
  }

  /** Outside the limit: it waits for no slot, and its own work is the store's to pace. */
  flush(): Promise<void> {
    return this.inner.flush();
  }

  removeLeftovers(opts?: { dryRun?: boolean }): Promise<Leftovers> {
    return this.limit(() => this.inner.removeLeftovers(opts));
  }

  get(name: string, into?: Buffer): Promise<Buffer> {
    return this.limit(() => this.inner.get(name, into));
  }

  stat(name: string): Promise<ObjectInfo | undefined> {
    return this.limit(() => this.inner.stat(name));
  }

  delete(name: string): Promise<void> {
    return this.limit(() => this.inner.delete(name));
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const steps = this.inner.list(prefix)[Symbol.asyncIterator]();
    let finished = false;
    try {
      for (;;) {
        const step = await this.limit(() => steps.next());
        if (step.done) {
          finished = true;
          return;
        }
        yield step.value;
      }
    } finally {
      // The consumer stopped early (break or throw): let the inner listing release what it holds.
      if (!finished) await steps.return?.();
    }
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
