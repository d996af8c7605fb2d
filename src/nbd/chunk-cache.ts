/**
 * A least-recently-used cache of inflated chunks bounded by bytes, not entries: memory stays flat however
 * large the snapshot. Keyed by chunk id, so identical ranges (within one snapshot or across exports) share
 * one entry. A Map keeps insertion order, which is recency once a hit is re-inserted.
 */
export class ChunkCache {
  private readonly entries = new Map<string, Buffer>();
  private held = 0;

  constructor(readonly maxBytes: number) {}

  get bytes(): number {
    return this.held;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  get(key: string): Buffer | undefined {
    const value = this.entries.get(key);
    if (value) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: Buffer): void {
    if (value.length > this.maxBytes) return;
    const old = this.entries.get(key);
    if (old) {
      this.held -= old.length;
      this.entries.delete(key);
    }
    this.entries.set(key, value);
    this.held += value.length;
    for (const [k, v] of this.entries) {
      if (this.held <= this.maxBytes) break;
      this.entries.delete(k);
      this.held -= v.length;
    }
  }
}
