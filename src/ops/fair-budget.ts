/**
 * One account's connection budget (`--concurrency`), shared fairly by the drives backed up at once. Each
 * drive in flight holds a share; a slot that frees goes to the waiting share holding the fewest slots
 * (among equals, the one served least recently: round robin). So a drive alone uses the whole budget, two drives that both
 * want more converge on half each, and when one finishes (or is between ranges) the other grows into its
 * slots: no slot stays idle while anyone waits, and the budget is never exceeded.
 *
 * Pure bookkeeping with no I/O, tested directly (test/ops/fair-budget.test.ts); ./fair-source.ts puts a
 * drive's reads through its share.
 */

interface Waiter {
  grant(): void;
}

export class FairBudget {
  private used = 0;
  private grants = 0;
  private readonly shares = new Set<FairShare>();
  /** The most slots ever held at once (tests assert it never passes `total`). */
  peak = 0;

  constructor(readonly total: number) {
    if (!Number.isInteger(total) || total < 1) throw new RangeError(`a connection budget must be a whole number >= 1, not ${total}`);
  }

  /** Slots held now, over every share. */
  get inUse(): number {
    return this.used;
  }

  /** Shares (drives) that joined and have not left. */
  get members(): number {
    return this.shares.size;
  }

  /** A share for one drive; `leave()` it when the drive is done. */
  join(): FairShare {
    const share = new FairShare(this);
    this.shares.add(share);
    return share;
  }

  /** @internal A share leaving: its waiters (if any) are not served any more. */
  forget(share: FairShare): void {
    this.shares.delete(share);
    this.dispatch();
  }

  /** @internal A slot for `share` now, when one is free and nobody waits ahead of it. */
  tryTake(share: FairShare): boolean {
    // Free slots with someone waiting cannot last (dispatch serves them), but queueing behind them is fair.
    if (this.used >= this.total || [...this.shares].some((s) => s.waiting.length > 0)) return false;
    this.take(share);
    return true;
  }

  /** @internal */
  give(share: FairShare): void {
    share.held--;
    this.used--;
    this.dispatch();
  }

  private take(share: FairShare): void {
    share.held++;
    share.lastGrant = this.grants++;
    this.used++;
    if (this.used > this.peak) this.peak = this.used;
  }

  /** Free slots go, one at a time, to the waiting share holding the fewest. */
  private dispatch(): void {
    while (this.used < this.total) {
      let best: FairShare | undefined;
      for (const s of this.shares) {
        if (s.waiting.length === 0) continue;
        if (!best || s.held < best.held || (s.held === best.held && s.lastGrant < best.lastGrant)) best = s;
      }
      if (!best) return;
      const waiter = best.waiting.shift()!;
      this.take(best);
      waiter.grant();
    }
  }
}

/** One drive's part of a FairBudget. */
export class FairShare {
  /** Slots this share holds now. */
  held = 0;
  /** @internal When this share last got a slot (-1: never). */
  lastGrant = -1;
  /** @internal */
  readonly waiting: Waiter[] = [];
  private left = false;

  constructor(private readonly budget: FairBudget) {}

  /** Waits for a slot; ends early with the signal's reason (the slot is then not taken). */
  acquire(signal?: AbortSignal): Promise<void> {
    if (this.left) return Promise.reject(new Error('this share of the connection budget was left'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.budget.tryTake(this)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      this.waiting.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  release(): void {
    if (this.held <= 0) throw new Error('released a slot of the connection budget that was not held');
    this.budget.give(this);
  }

  /** Runs `work` holding one slot. */
  async run<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  /** The drive is done: its waiting reads (there should be none) are never served. */
  leave(): void {
    if (this.left) return;
    this.left = true;
    this.budget.forget(this);
  }
}
