/**
 * Puts ranges that finish out of order back in order for a stream (stdout), holding at most `maxBytes` of
 * ranges that arrived ahead of the next one due. The next range due is always taken (it leaves at once,
 * never held), so a writer waiting for room is always freed once the gap before it fills: bounded memory
 * without deadlock, whatever the drive's size.
 *
 * Pure: the caller waits (`fits`) and writes what `put` returns, in that order.
 */
export class ReorderBuffer<T> {
  private next: number;
  private readonly held = new Map<number, { length: number; item: T }>();
  private heldBytes = 0;

  constructor(
    readonly maxBytes: number,
    start = 0,
  ) {
    this.next = start;
  }

  /** The offset of the next range due: every byte before it has left in order. */
  get position(): number {
    return this.next;
  }

  /** Bytes of ranges held, waiting for the gap before them. */
  get bytesHeld(): number {
    return this.heldBytes;
  }

  /** Whether the range may be taken now: the one due always; one ahead while the held ranges leave it room. */
  fits(offset: number, length: number): boolean {
    return offset === this.next || this.heldBytes + length <= this.maxBytes;
  }

  /**
   * Takes a range; returns the items now due, in stream order (the given one first when it was due).
   * A range given twice, or behind what has left already, is a bug in the caller: refused.
   */
  put(offset: number, length: number, item: T): T[] {
    if (offset < this.next || this.held.has(offset)) {
      throw new RangeError(`the range at offset ${offset} was given already (the stream is at ${this.next})`);
    }
    if (!this.fits(offset, length)) throw new RangeError(`the range at offset ${offset} does not fit: wait until fits() says it does`);
    if (offset !== this.next) {
      this.held.set(offset, { length, item });
      this.heldBytes += length;
      return [];
    }
    const due = [item];
    this.next += length;
    for (let h = this.held.get(this.next); h; h = this.held.get(this.next)) {
      this.held.delete(this.next);
      this.heldBytes -= h.length;
      due.push(h.item);
      this.next += h.length;
    }
    return due;
  }

  /** Drops every held range (the stream failed): returns their items, so their writers can be told. */
  clear(): T[] {
    const items = [...this.held.values()].map((h) => h.item);
    this.held.clear();
    this.heldBytes = 0;
    return items;
  }
}
