/**
 * Fault injection over a real store: the first `failures` calls of the chosen operations throw the error
 * `makeError` builds, then calls pass through. Counts calls and the most that ran at once.
 */
import type { Leftovers, ObjectInfo, ObjectStore, PutOptions } from '../../src/store/types.js';

type Operation = 'put' | 'get' | 'stat' | 'list' | 'delete' | 'flush';

export class FaultyStore implements ObjectStore {
  calls = 0;
  inFlight = 0;
  maxInFlight = 0;
  private remaining: number;

  constructor(
    private readonly inner: ObjectStore,
    failures: number,
    private readonly makeError: () => Error,
    private readonly operations: ReadonlySet<Operation> = new Set(['put', 'get', 'stat', 'list', 'delete']),
  ) {
    this.remaining = failures;
  }

  get location(): string {
    return this.inner.location;
  }

  put(name: string, data: Uint8Array, opts?: PutOptions): Promise<void> {
    return this.call('put', () => this.inner.put(name, data, opts));
  }

  flush(): Promise<void> {
    return this.call('flush', () => this.inner.flush());
  }

  removeLeftovers(opts?: { dryRun?: boolean }): Promise<Leftovers> {
    return this.inner.removeLeftovers(opts);
  }

  get(name: string): Promise<Buffer> {
    return this.call('get', () => this.inner.get(name));
  }

  stat(name: string): Promise<ObjectInfo | undefined> {
    return this.call('stat', () => this.inner.stat(name));
  }

  delete(name: string): Promise<void> {
    return this.call('delete', () => this.inner.delete(name));
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    this.calls++;
    this.maybeFail('list');
    yield* this.inner.list(prefix);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** Arms `failures` more faults (e.g. to fail a listing part-way through). */
  failNext(failures: number): void {
    this.remaining = failures;
  }

  private async call<T>(operation: Operation, run: () => Promise<T>): Promise<T> {
    this.calls++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      this.maybeFail(operation);
      return await run();
    } finally {
      this.inFlight--;
    }
  }

  private maybeFail(operation: Operation): void {
    if (this.operations.has(operation) && this.remaining > 0) {
      this.remaining--;
      throw this.makeError();
    }
  }
}
