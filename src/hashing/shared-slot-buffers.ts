/**
 * SlotBuffers (src/engine/pipeline.ts) on shared memory: the same one reusable buffer per worker slot, but
 * each a view on a SharedArrayBuffer, so a range read into it can be hashed by HashPool's workers in place.
 */
export class SharedSlotBuffers {
  private readonly buffers: Buffer[] = [];
  constructor(private readonly size: number) {}

  /** The slot's buffer, cut to `length`. Valid until the slot's handler returns. */
  get(slot: number, length: number): Buffer {
    if (length > this.size) throw new RangeError(`a slot buffer holds ${this.size} bytes, asked for ${length}`);
    let b = this.buffers[slot];
    if (!b) {
      b = Buffer.from(new SharedArrayBuffer(this.size));
      this.buffers[slot] = b;
    }
    return b.subarray(0, length);
  }
}
