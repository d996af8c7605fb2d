/**
 * A store whose backend is built on first use. The S3 backend pulls in the AWS SDK (~20 MB of memory and a
 * noticeable start-up delay); commands that use a local repository, or none, should not pay for it.
 */
import type { Leftovers, ObjectInfo, ObjectStore, PutOptions } from './types.js';

export class LazyStore implements ObjectStore {
  private backend: Promise<ObjectStore> | undefined;

  constructor(
    readonly location: string,
    private readonly create: () => Promise<ObjectStore>,
  ) {}

  private resolve(): Promise<ObjectStore> {
    this.backend ??= this.create();
    return this.backend;
  }

  async put(name: string, data: Uint8Array, opts?: PutOptions): Promise<void> {
    return (await this.resolve()).put(name, data, opts);
  }
  async flush(): Promise<void> {
    if (this.backend) await (await this.backend).flush();
  }
  async removeLeftovers(opts?: { dryRun?: boolean }): Promise<Leftovers> {
    return (await this.resolve()).removeLeftovers(opts);
  }
  async get(name: string, into?: Buffer): Promise<Buffer> {
    return (await this.resolve()).get(name, into);
  }
  async stat(name: string): Promise<ObjectInfo | undefined> {
    return (await this.resolve()).stat(name);
  }
  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    yield* (await this.resolve()).list(prefix);
  }
  async delete(name: string): Promise<void> {
    return (await this.resolve()).delete(name);
  }
  async close(): Promise<void> {
    if (this.backend) await (await this.backend).close();
  }
}
