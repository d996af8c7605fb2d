/**
 * A store that passes every call to the store it wraps. Wrappers (bandwidth, and the tests' fault
 * injectors) extend it and override only the calls they change, as restic's wrapping backends do.
 */
import type { Leftovers, ObjectInfo, ObjectStore, PutOptions } from './types.js';

export class ForwardingStore implements ObjectStore {
  constructor(protected readonly inner: ObjectStore) {}

  get location(): string {
    return this.inner.location;
  }
  put(name: string, data: Uint8Array, opts?: PutOptions): Promise<void> {
    return this.inner.put(name, data, opts);
  }
  flush(): Promise<void> {
    return this.inner.flush();
  }
  removeLeftovers(opts?: { dryRun?: boolean }): Promise<Leftovers> {
    return this.inner.removeLeftovers(opts);
  }
  get(name: string, into?: Buffer): Promise<Buffer> {
    return this.inner.get(name, into);
  }
  stat(name: string): Promise<ObjectInfo | undefined> {
    return this.inner.stat(name);
  }
  list(prefix: string): AsyncIterable<ObjectInfo> {
    return this.inner.list(prefix);
  }
  delete(name: string): Promise<void> {
    return this.inner.delete(name);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
