/**
 * Many drives at once (src/ops/backup-orchestrator.ts with `drives`): two drives are really in flight at
 * once; the drives of one account never read with more connections than the budget (`concurrency`, capped
 * by the client's own connections) however many are in flight; outcomes come back in the items' order and
 * one drive's failure leaves the others backed up (exit 3); a stop starts no new drive and ends INTERRUPTED;
 * a drive that finds the repository locked exclusively (another host's forget or prune) waits for it; a
 * read limit holds for the drives together.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/api/client.js';
import type { Emulator } from '../../src/emulator/index.js';
import type { BlockSource } from '../../src/engine/ends/types.js';
import { type BackupEvent, type BackupItem, backupAll } from '../../src/ops/backup-orchestrator.js';
import { runExitCode } from '../../src/ops/backup-plan.js';
import { pacedSource } from '../../src/ops/paced-source.js';
import { selectDrives, targetItems } from '../../src/ops/run-select.js';
import { TokenBucket } from '../../src/store/bandwidth.js';
import { ACCOUNT_A, apiClient, Cleanup, createDriveWith, emulator, localRepo, makeImage, type TestRepo } from '../helpers/engine-fixtures.js';

const cleanup = new Cleanup();
let emu: Emulator;
let c: ApiClient;
let t: TestRepo;
const NAMES = ['fleet-a', 'fleet-b', 'fleet-c', 'fleet-d'];

beforeAll(async () => {
  emu = await emulator(cleanup);
  c = apiClient(cleanup, emu);
  t = await localRepo(cleanup, false);
  // Six ranges of distinct data each: enough reads per drive to fill any budget.
  for (const [i, name] of NAMES.entries()) await createDriveWith(c, name, makeImage(Array.from({ length: 6 }, (_, r) => ({ random: 100 * i + r }))));
});
afterAll(() => cleanup.run());

/** Counts the reads of every drive in flight at once, across drives (as the account's connections see them). */
class ReadCounter {
  now = 0;
  most = 0;
  readonly active = new Map<string, number>();
  mostDrives = 0;

  wrap(label: string, inner: BlockSource): BlockSource {
    return {
      size: inner.size,
      description: inner.description,
      read: async (offset, length, into) => {
        this.now++;
        this.most = Math.max(this.most, this.now);
        this.active.set(label, (this.active.get(label) ?? 0) + 1);
        this.mostDrives = Math.max(this.mostDrives, [...this.active.values()].filter((n) => n > 0).length);
        try {
          return await inner.read(offset, length, into);
        } finally {
          this.now--;
          this.active.set(label, this.active.get(label)! - 1);
        }
      },
      close: () => inner.close(),
    };
  }
}

/** The named drives as items of `client`'s account, their reads counted. */
async function countedItems(client: ApiClient, names: readonly string[], counter: ReadCounter): Promise<BackupItem[]> {
  const clients = { get: async () => client };
  const items = targetItems(await selectDrives(names.map((drive) => ({ kind: 'drive', account: 'eh', drive })), clients), clients);
  return items.map((item) => ({
    label: item.label,
    open: async () => {
      const opened = await item.open();
      return { ...opened, source: counter.wrap(item.label, opened.source) };
    },
  }));
}

describe('backupAll with several drives at once', () => {
  it('has two drives in flight at once: the first read of each waits until the other drive reads too', async () => {
    const counter = new ReadCounter();
    let release!: () => void;
    const bothReading = new Promise<void>((resolve) => {
      release = resolve;
    });
    // Backed up one after another, the first drive would wait for ever: the timer ends the wait, and the test fails.
    let timedOut = false;
    const timeout = setTimeout(() => {
      timedOut = true;
      release();
    }, 10_000);
    const firstReads = new Set<string>();
    const items = await countedItems(c, NAMES.slice(0, 2), counter);
    const gated = items.map((item) => ({
      label: item.label,
      open: async () => {
        const opened = await item.open();
        const read: BlockSource['read'] = async (offset, length, into) => {
          if (!firstReads.has(item.label)) {
            firstReads.add(item.label);
            if (firstReads.size === 2) release();
            await bothReading;
          }
          return opened.source.read(offset, length, into);
        };
        return { ...opened, source: { ...opened.source, read, close: () => opened.source.close() } };
      },
    }));
    const outcomes = await backupAll({ repo: t.repo, items: gated, drives: 2, concurrency: 4, readAll: true });
    clearTimeout(timeout);
    expect(timedOut).toBe(false);
    expect(outcomes.map((o) => o.ok)).toEqual([true, true]);
  });

  it('never reads an account with more connections than the budget, however many drives are in flight', async () => {
    const counter = new ReadCounter();
    const items = await countedItems(c, NAMES, counter);
    const outcomes = await backupAll({ repo: t.repo, items, drives: 4, concurrency: 3, readAll: true });
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(counter.most).toBeLessThanOrEqual(3);
    expect(counter.mostDrives).toBeGreaterThanOrEqual(2);
  });

  it('keeps to the client connections when they are fewer than the concurrency', async () => {
    const narrow = new ApiClient({ url: emu.url, user: ACCOUNT_A.user, secret: ACCOUNT_A.secret, connections: 2 });
    cleanup.add(() => narrow.close());
    const counter = new ReadCounter();
    const items = await countedItems(narrow, NAMES, counter);
    const outcomes = await backupAll({ repo: t.repo, items, drives: 4, concurrency: 8, readAll: true });
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(counter.most).toBeLessThanOrEqual(2);
  });

  it('reports outcomes in the items order; a failing drive leaves the others backed up (exit 3)', async () => {
    const counter = new ReadCounter();
    const items = await countedItems(c, ['fleet-a', 'no-such-drive', 'fleet-c', 'fleet-d'], counter);
    const events: BackupEvent[] = [];
    const outcomes = await backupAll({ repo: t.repo, items, drives: 3, concurrency: 4, readAll: true, onEvent: (e) => events.push(e) });
    expect(outcomes.map((o) => [o.location, o.ok])).toEqual([
      ['eh:fleet-a', true],
      ['eh:no-such-drive', false],
      ['eh:fleet-c', true],
      ['eh:fleet-d', true],
    ]);
    expect(outcomes[1]!.error?.code).toBe('DRIVE_NOT_FOUND');
    const snapshotted = events.filter((e) => e.event === 'snapshot').map((e) => (e as { location: string }).location);
    expect(snapshotted.sort()).toEqual(['eh:fleet-a', 'eh:fleet-c', 'eh:fleet-d']);
    expect(runExitCode({ drives: outcomes.length, failed: outcomes.filter((o) => !o.ok).length })).toBe(3);
  });

  it('a stop starts no new drive: the drives in flight end, the rest are never opened, INTERRUPTED', async () => {
    const controller = new AbortController();
    const opened: string[] = [];
    const items = (await countedItems(c, NAMES, new ReadCounter())).map((item) => ({
      label: item.label,
      open: () => {
        opened.push(item.label);
        return item.open();
      },
    }));
    const run = backupAll({
      repo: t.repo,
      items,
      drives: 2,
      concurrency: 4,
      signal: controller.signal,
      // The first drive done stops the run.
      onEvent: (e) => e.event === 'snapshot' && controller.abort(),
    });
    await expect(run).rejects.toMatchObject({ code: 'INTERRUPTED' });
    expect(opened).toEqual(['eh:fleet-a', 'eh:fleet-b']);
  });

  it('with lockWaitMs, a drive that finds the repository locked exclusively waits for the lock, saying so', async () => {
    const items = await countedItems(c, ['fleet-a'], new ReadCounter());
    const held = await t.repo.lock(true);
    const refused = await backupAll({ repo: t.repo, items, lockWaitMs: 0 });
    expect(refused[0]!.error?.code).toBe('REPO_LOCKED');

    const events: BackupEvent[] = [];
    const outcomes = await backupAll({
      repo: t.repo,
      items,
      lockWaitMs: 120_000,
      // The other host finishes once the drive has said it waits.
      onEvent: (e) => {
        events.push(e);
        if (e.event === 'warning' && /locked exclusively/.test(e.message)) void held.release();
      },
    });
    expect(outcomes[0]!.ok).toBe(true);
    expect(events.find((e) => e.event === 'warning')).toMatchObject({ location: 'eh:fleet-a', message: expect.stringMatching(/waiting up to 120 s/) });
  });
});

describe('a read limit shared by the drives in flight', () => {
  it('a second drive waits for the bytes the first one spent', async () => {
    const memory: BlockSource = { size: 1 << 20, description: 'memory', read: async (_o, length) => Buffer.alloc(length), close: async () => {} };
    // A clock that never moves: once the burst is spent, any read waits (until the stop ends it).
    const bucket = new TokenBucket(64 * 1024, 64 * 1024, () => 0);
    const controller = new AbortController();
    const [a, b] = [pacedSource(memory, bucket, controller.signal), pacedSource(memory, bucket, controller.signal)];
    await a.read(0, 64 * 1024);
    const waiting = b.read(0, 4096);
    controller.abort(new Error('stopped while waiting for the shared limit'));
    await expect(waiting).rejects.toThrow('stopped while waiting');
    // A drive with a limit of its own would not have waited.
    await expect(pacedSource(memory, 64 * 1024).read(0, 4096)).resolves.toHaveLength(4096);
  });
});
