/** The reorder buffer a stream sink puts out-of-order ranges back in order with, within a bound. */
import { describe, expect, it } from 'vitest';
import { ReorderBuffer } from '../../src/engine/ends/reorder-buffer.js';

/** A seeded shuffle (xorshift), so a failure reproduces. */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let x = seed;
  for (let i = out.length - 1; i > 0; i--) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const j = Math.abs(x) % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('ReorderBuffer', () => {
  it('emits every range once, in order, whatever order they arrive in, never holding more than its bound', () => {
    const lengths = [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 4];
    const offsets = lengths.map((_, i) => i * 10);
    for (let seed = 1; seed <= 50; seed++) {
      const buf = new ReorderBuffer<number>(30);
      const arriving = shuffled(offsets, seed);
      const waiting: number[] = [];
      const emitted: number[] = [];
      let maxHeld = 0;
      // Arrivals that do not fit wait, as writers do, and are offered again whenever something leaves.
      const offer = (offset: number): boolean => {
        if (!buf.fits(offset, lengths[offset / 10]!)) return false;
        const due = buf.put(offset, lengths[offset / 10]!, offset);
        emitted.push(...due);
        maxHeld = Math.max(maxHeld, buf.bytesHeld);
        return true;
      };
      for (const offset of arriving) {
        if (!offer(offset)) waiting.push(offset);
        for (let progress = true; progress; ) {
          progress = false;
          for (const w of [...waiting]) {
            if (offer(w)) {
              waiting.splice(waiting.indexOf(w), 1);
              progress = true;
            }
          }
        }
      }
      expect(waiting).toEqual([]);
      expect(emitted).toEqual(offsets);
      expect(maxHeld).toBeLessThanOrEqual(30);
      expect(buf.bytesHeld).toBe(0);
      expect(buf.position).toBe(154);
    }
  });

  it('always takes the range due, even when full; refuses a range ahead that does not fit', () => {
    const buf = new ReorderBuffer<string>(20);
    expect(buf.put(10, 10, 'b')).toEqual([]);
    expect(buf.put(20, 10, 'c')).toEqual([]);
    expect(buf.bytesHeld).toBe(20);
    expect(buf.fits(30, 10)).toBe(false);
    expect(() => buf.put(30, 10, 'd')).toThrow(/does not fit/);
    expect(buf.fits(0, 10)).toBe(true);
    expect(buf.put(0, 10, 'a')).toEqual(['a', 'b', 'c']);
    expect(buf.bytesHeld).toBe(0);
    expect(buf.put(30, 10, 'd')).toEqual(['d']);
  });

  it('refuses a range given twice or behind the stream, and clear() hands back what it held', () => {
    const buf = new ReorderBuffer<string>(100);
    buf.put(0, 10, 'a');
    expect(() => buf.put(0, 10, 'a')).toThrow(/given already/);
    buf.put(20, 10, 'c');
    expect(() => buf.put(20, 10, 'c')).toThrow(/given already/);
    expect(buf.clear()).toEqual(['c']);
    expect(buf.bytesHeld).toBe(0);
    expect(buf.position).toBe(10);
  });
});
