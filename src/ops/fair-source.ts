/**
 * A drive's reads through its share of the account's connection budget (./fair-budget.ts): at most the
 * budget's connections read from one account at once, however many drives are in flight. Closing the
 * source leaves the share, so the drives still running grow into its slots.
 */
import type { BlockSource } from '../engine/ends/types.js';
import type { FairBudget } from './fair-budget.js';

export function fairSource(inner: BlockSource, budget: FairBudget, signal?: AbortSignal): BlockSource {
  const share = budget.join();
  return {
    size: inner.size,
    description: inner.description,
    read: (offset, length, into) => share.run(() => inner.read(offset, length, into), signal),
    close: async () => {
      share.leave();
      await inner.close();
    },
  };
}
