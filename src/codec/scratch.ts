/**
 * Output buffers kept for reuse between ranges. A fresh 4 MiB output per range leaves its freeing to V8's
 * collector and the allocator (glibc kept the freed blocks of every pool thread's arena resident): reusing
 * a few cuts a full backup's peak RSS. At most `keep` idle buffers are held; more in use at once are
 * allocated and, when given back past the limit, left to the collector.
 */
export class ScratchBuffers {
  readonly #idle: Buffer[] = [];

  constructor(
    private readonly keep: number,
    /** How a new buffer is made (the repository's object buffers: page-aligned, for O_DIRECT puts). */
    private readonly allocate: (size: number) => Buffer = Buffer.allocUnsafeSlow,
  ) {}

  /** A buffer of at least `size` bytes, the caller's until it gives it back. */
  take(size: number): Buffer {
    const i = this.#idle.findIndex((b) => b.length >= size);
    if (i >= 0) return this.#idle.splice(i, 1)[0]!;
    return this.allocate(size);
  }

  /** Returns a buffer from `take`; the caller must not use it (or views of it) afterwards. */
  give(buffer: Buffer): void {
    if (this.#idle.length < this.keep) this.#idle.push(buffer);
  }

  /** Idle buffers held (for tests). */
  get idle(): number {
    return this.#idle.length;
  }
}
