/**
 * The connection budget shared by the drives in flight (src/ops/fair-budget.ts, fair-source.ts): a drive
 * alone takes the whole budget; two drives that both want more converge on half each; a drive that
 * finishes hands its slots to the others; the budget is never exceeded; a stop ends a wait.
 */
import { describe, expect, it } from 'vitest';
import type { BlockSource } from '../../src/engine/ends/types.js';
import { FairBudget, type FairShare } from '../../src/ops/fair-budget.js';
import { fairSource } from '../../src/ops/fair-source.js';

/** Lets every already-settled promise run its continuations. */
const settle = () => new Promise((r) => setImmediate(r));

/** Asks for `n` slots on `share`; returns how many were granted so far and the grants in order. */
function ask(share: FairShare, n: number, log: string[], name: string): void {
  for (let i = 0; i < n; i++) void share.acquire().then(() => log.push(name));
}

describe('FairBudget', () => {
  it('a drive alone gets the whole budget, and no more', async () => {
    const budget = new FairBudget(4);
    const a = budget.join();
    const log: string[] = [];
    ask(a, 6, log, 'a');
    await settle();
    expect(a.held).toBe(4);
    expect(budget.inUse).toBe(4);
    a.release();
    await settle();
    expect(a.held).toBe(4);
    expect(log).toHaveLength(5);
  });

  it('two drives that both want more converge on half each, and the freed slots of one go to the other', async () => {
    const budget = new FairBudget(4);
    const a = budget.join();
    const log: string[] = [];
    ask(a, 10, log, 'a');
    await settle();
    expect(a.held).toBe(4);
    const b = budget.join();
    ask(b, 10, log, 'b');
    await settle();
    expect(b.held).toBe(0);
    // As a's reads finish, its slots go to b (holding fewer) until they hold half each.
    for (let i = 0; i < 2; i++) a.release();
    await settle();
    expect([a.held, b.held]).toEqual([2, 2]);
    // From then on a freed slot returns to whoever holds fewer: half each, with both still waiting.
    for (let i = 0; i < 3; i++) {
      a.release();
      await settle();
      expect([a.held, b.held]).toEqual([2, 2]);
      b.release();
      await settle();
      expect([a.held, b.held]).toEqual([2, 2]);
    }
    // a is done: b grows into the whole budget.
    while (a.held > 0) a.release();
    a.leave();
    await settle();
    expect(b.held).toBe(4);
    expect(budget.peak).toBe(4);
  });

  it('with more drives than slots, every drive waiting gets a turn before any gets a second', async () => {
    const budget = new FairBudget(2);
    const shares = ['a', 'b', 'c', 'd'].map((name) => ({ name, share: budget.join() }));
    const log: string[] = [];
    for (const { name, share } of shares) ask(share, 3, log, name);
    await settle();
    expect(log).toEqual(['a', 'a']);
    for (let i = 0; i < 4; i++) {
      shares.find((s) => s.share.held > 0)!.share.release();
      await settle();
    }
    // After a's two slots, b, c and d (holding none) are served before a again.
    expect(log.slice(2, 5).sort()).toEqual(['b', 'c', 'd']);
    expect(budget.inUse).toBeLessThanOrEqual(2);
  });

  it('a stop ends a wait without taking a slot', async () => {
    const budget = new FairBudget(1);
    const a = budget.join();
    await a.acquire();
    const controller = new AbortController();
    const waiting = a.acquire(controller.signal);
    controller.abort(new Error('stopped'));
    await expect(waiting).rejects.toThrow('stopped');
    a.release();
    expect(budget.inUse).toBe(0);
    await expect(a.acquire(controller.signal)).rejects.toThrow('stopped');
  });

  it('refuses a budget that is not a whole number >= 1', () => {
    expect(() => new FairBudget(0)).toThrow(/whole number >= 1/);
  });
});

describe('fairSource', () => {
  it('concurrent reads of several drives never pass the budget, and each drive reads', async () => {
    const budget = new FairBudget(3);
    let reading = 0;
    let most = 0;
    const memory = (): BlockSource => ({
      size: 1 << 20,
      description: 'memory',
      read: async (_offset, length) => {
        reading++;
        most = Math.max(most, reading);
        await settle();
        reading--;
        return Buffer.alloc(length);
      },
      close: async () => {},
    });
    const sources = [memory(), memory(), memory()].map((s) => fairSource(s, budget));
    await Promise.all(sources.flatMap((s) => Array.from({ length: 8 }, (_, i) => s.read(i * 4096, 4096))));
    expect(most).toBe(3);
    expect(budget.peak).toBe(3);
    for (const s of sources) await s.close();
    expect(budget.members).toBe(0);
  });
});
