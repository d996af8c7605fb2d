import { describe, expect, it } from 'vitest';
import { ScratchBuffers } from '../../src/codec/scratch.js';

describe('scratch buffers', () => {
  it('hands a given-back buffer out again, and keeps at most its limit idle', () => {
    const pool = new ScratchBuffers(1);
    const a = pool.take(100);
    const b = pool.take(100);
    expect(a).not.toBe(b);
    pool.give(a);
    pool.give(b);
    expect(pool.idle).toBe(1);
    expect(pool.take(50)).toBe(a);
    expect(pool.take(100)).not.toBe(b);
  });

  it('never hands out a buffer shorter than asked', () => {
    const pool = new ScratchBuffers(4);
    pool.give(pool.take(10));
    expect(pool.take(20).length).toBeGreaterThanOrEqual(20);
  });
});
