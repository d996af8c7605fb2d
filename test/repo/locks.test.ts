import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DrivesnapError } from '../../src/errors.js';
import {
  acquireLock,
  isStale,
  type LockInfo,
  LockLostError,
  listLocks,
  RepoLockedError,
  removeAllLocks,
  removeStaleLocks,
} from '../../src/repo/locks.js';
import { ForwardingStore } from '../../src/store/forwarding.js';
import { LocalStore } from '../../src/store/local.js';

const repoRoot = join(import.meta.dirname, '..', '..');
const MINUTE = 60_000;

let dir: string;
let store: LocalStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'drivesnap-locks-'));
  store = new LocalStore(join(dir, 'repo'));
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function lockObjects(): Promise<string[]> {
  const names: string[] = [];
  for await (const o of store.list('locks/')) names.push(o.name);
  return names.sort();
}

async function rejection(promise: Promise<unknown>): Promise<DrivesnapError> {
  try {
    await promise;
  } catch (err) {
    return err as DrivesnapError;
  }
  throw new Error('expected the promise to reject');
}

/** Writes a lock object as another process would have. */
async function foreignLock(over: Partial<LockInfo>): Promise<string> {
  const name = `locks/${'f'.repeat(31)}${Math.floor(Math.random() * 10)}`;
  const body = {
    host: 'elsewhere',
    pid: 4242,
    user: 'bob',
    time: new Date().toISOString(),
    refreshed: new Date().toISOString(),
    exclusive: true,
    ...over,
  };
  await store.put(name, Buffer.from(JSON.stringify(body)));
  return name;
}

function deadPid(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', '']);
    child.on('error', reject);
    child.on('exit', () => resolve(child.pid!));
  });
}

describe('acquiring locks', () => {
  it('lets shared locks coexist and release deletes each object', async () => {
    const a = await acquireLock(store, { exclusive: false });
    const b = await acquireLock(store, { exclusive: false });
    expect(await lockObjects()).toEqual([a.info.name, b.info.name].sort());
    const listed = await listLocks(store);
    expect(listed.map((l) => l.pid)).toEqual([process.pid, process.pid]);
    expect(listed.every((l) => l.host === hostname() && !l.exclusive)).toBe(true);
    await a.release();
    expect(await lockObjects()).toEqual([b.info.name]);
    await b.release();
    await b.release();
    expect(await lockObjects()).toEqual([]);
  });

  it('refuses a shared lock while an exclusive one is held, naming the holder', async () => {
    const held = await acquireLock(store, { exclusive: true });
    const err = await rejection(acquireLock(store, { exclusive: false }));
    expect(err).toBeInstanceOf(RepoLockedError);
    expect(err.code).toBe('REPO_LOCKED');
    expect(err.exitCode).toBe(11);
    expect(err.message).toContain('exclusively');
    expect(err.message).toContain(`@${hostname()}`);
    expect(err.message).toContain(`pid ${process.pid}`);
    expect(err.message).toContain(`since ${held.info.time}`);
    expect(err.message).toContain('drivesnap unlock');
    expect(err.message.split('\n')).toHaveLength(1);
    // The refused attempt leaves no lock object of its own behind.
    expect(await lockObjects()).toEqual([held.info.name]);
    await held.release();
  });

  it('refuses an exclusive lock while a shared or another exclusive one is held', async () => {
    const shared = await acquireLock(store, { exclusive: false });
    const err = await rejection(acquireLock(store, { exclusive: true }));
    expect(err).toBeInstanceOf(RepoLockedError);
    expect(err.exitCode).toBe(11);
    expect(err.message).toContain(`pid ${process.pid}`);
    expect(err.message).not.toContain('exclusively');
    await shared.release();
    const exclusive = await acquireLock(store, { exclusive: true });
    expect(await rejection(acquireLock(store, { exclusive: true }))).toBeInstanceOf(RepoLockedError);
    await exclusive.release();
    expect(await lockObjects()).toEqual([]);
  });

  it('waits up to waitMs for a conflicting lock to go away', async () => {
    const held = await acquireLock(store, { exclusive: true });
    let released = false;
    const waiting = acquireLock(store, { exclusive: false, waitMs: 20_000 }).then((lock) => ({ lock, released }));
    // Give the waiter time to be refused at least once before the holder lets go.
    await sleep(300);
    released = true;
    await held.release();
    const { lock: got, released: releasedFirst } = await waiting;
    expect(releasedFirst).toBe(true);
    expect(await lockObjects()).toEqual([got.info.name]);
    await got.release();
  });

  it('gives up after waitMs when the holder stays', async () => {
    const held = await acquireLock(store, { exclusive: true });
    expect(await rejection(acquireLock(store, { exclusive: true, waitMs: 150 }))).toBeInstanceOf(RepoLockedError);
    expect(await lockObjects()).toEqual([held.info.name]);
    await held.release();
  });

  it('never lets two concurrent exclusive attempts in this process both succeed', async () => {
    // Safety only: two attempts that see each other may both back off (neither wins); that is allowed here,
    // and liveness is the next test's.
    let bothWon = 0;
    for (let round = 0; round < 30; round++) {
      const results = await Promise.allSettled([
        acquireLock(store, { exclusive: true }),
        acquireLock(store, { exclusive: true }),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      if (won.length === 2) bothWon++;
      for (const r of won) await r.value.release();
      expect(await lockObjects()).toEqual([]);
    }
    expect(bothWon).toBe(0);
  });

  it('two concurrent exclusive attempts that wait both get the lock, one after the other, never both at once', async () => {
    let holding = 0;
    let most = 0;
    const attempt = async () => {
      const lock = await acquireLock(store, { exclusive: true, waitMs: 20_000 });
      holding++;
      most = Math.max(most, holding);
      await sleep(5);
      holding--;
      await lock.release();
    };
    for (let round = 0; round < 5; round++) await Promise.all([attempt(), attempt()]);
    expect(most).toBe(1);
    expect(await lockObjects()).toEqual([]);
  });
});

describe('stopping a lock wait', () => {
  it('ends the wait for a locked repository when the signal aborts, with its reason, leaving no lock of its own', async () => {
    const held = await acquireLock(store, { exclusive: true });
    const stop = new AbortController();
    const reason = new Error('stop requested');
    // The holder never lets go and waitMs is far beyond the test's timeout: only the abort can end the wait.
    const waiting = rejection(acquireLock(store, { exclusive: true, waitMs: 10 * MINUTE, signal: stop.signal }));
    await sleep(100);
    stop.abort(reason);
    expect(await waiting).toBe(reason);
    expect(await lockObjects()).toEqual([held.info.name]);
    await held.release();
  });
  it('does not even try when the signal is already aborted', async () => {
    const stop = new AbortController();
    stop.abort(new Error('already'));
    expect(await rejection(acquireLock(store, { exclusive: false, signal: stop.signal }))).toMatchObject({ message: 'already' });
    expect(await lockObjects()).toEqual([]);
  });
});

describe('stale locks', () => {
  it('judges staleness by the last refresh, and by a dead pid on this host', async () => {
    const now = Date.parse('2024-05-01T12:00:00.000Z');
    const lock: LockInfo = {
      name: 'locks/x',
      host: 'elsewhere',
      pid: 1,
      user: 'bob',
      time: '2024-05-01T11:00:00.000Z',
      refreshed: '2024-05-01T11:40:00.000Z',
      exclusive: true,
    };
    expect(isStale(lock, now, 30 * MINUTE)).toBe(false);
    expect(isStale(lock, now, 10 * MINUTE)).toBe(true);
    expect(isStale({ ...lock, refreshed: 'not a time' }, now, 30 * MINUTE)).toBe(true);
    const pid = await deadPid();
    expect(isStale({ ...lock, host: hostname(), pid }, now, 30 * MINUTE)).toBe(true);
    expect(isStale({ ...lock, host: hostname(), pid: process.pid }, now, 30 * MINUTE)).toBe(false);
    // The same dead pid on another host says nothing: that host's process table is not ours.
    expect(isStale({ ...lock, pid }, now, 30 * MINUTE)).toBe(false);
  });

  it('ignores a lock not refreshed for staleAfterMs, and removes only stale ones', async () => {
    let clock = Date.parse('2024-05-01T12:00:00.000Z');
    const now = () => clock;
    const old = await foreignLock({ refreshed: '2024-05-01T11:00:00.000Z', time: '2024-05-01T10:00:00.000Z' });
    const fresh = await acquireLock(store, { exclusive: false, now, staleAfterMs: 30 * MINUTE });
    expect(await rejection(acquireLock(store, { exclusive: true, now }))).toBeInstanceOf(RepoLockedError);
    // The old exclusive lock did not block the shared one; only the live shared one blocks.
    expect(await removeStaleLocks(store, { now, staleAfterMs: 30 * MINUTE })).toBe(1);
    expect(await lockObjects()).toEqual([fresh.info.name]);
    expect(await lockObjects()).not.toContain(old);
    // Once our shared lock too goes unrefreshed past the limit, an exclusive locker may ignore it.
    clock += 31 * MINUTE;
    const exclusive = await acquireLock(store, { exclusive: true, now, staleAfterMs: 30 * MINUTE });
    await exclusive.release();
    await fresh.release();
  });

  it('treats a lock from this host whose process has exited as stale at once', async () => {
    const pid = await deadPid();
    const orphan = await foreignLock({ host: hostname(), pid });
    const lock = await acquireLock(store, { exclusive: true });
    await lock.release();
    expect(await removeStaleLocks(store)).toBe(1);
    expect(await lockObjects()).toEqual([]);
    // The same lock from another host is live until it times out.
    await foreignLock({ pid });
    expect(await rejection(acquireLock(store, { exclusive: true }))).toBeInstanceOf(RepoLockedError);
    expect(orphan).toMatch(/^locks\//);
  });

  it('skips objects under locks/ that are not locks, and unlock removes them', async () => {
    await store.put('locks/garbage', Buffer.from('{not json'));
    await store.put('locks/partial', Buffer.from('{"host":"h"}'));
    const lock = await acquireLock(store, { exclusive: true });
    expect((await listLocks(store)).map((l) => l.name)).toEqual([lock.info.name]);
    expect(await removeStaleLocks(store)).toBe(2);
    expect(await lockObjects()).toEqual([lock.info.name]);
    await lock.release();
  });

  it('removes every lock, live or not, on removeAllLocks', async () => {
    await acquireLock(store, { exclusive: false });
    await acquireLock(store, { exclusive: false });
    await foreignLock({});
    expect(await removeAllLocks(store)).toBe(3);
    expect(await lockObjects()).toEqual([]);
  });
});

describe('holding a lock', () => {
  it('refresh rewrites the object with the new time and keeps the original one', async () => {
    let clock = Date.parse('2024-05-01T12:00:00.000Z');
    const lock = await acquireLock(store, { exclusive: false, now: () => clock });
    clock += 5 * MINUTE;
    await lock.refresh();
    const stored = JSON.parse((await store.get(lock.info.name)).toString());
    expect(stored.refreshed).toBe('2024-05-01T12:05:00.000Z');
    expect(stored.time).toBe('2024-05-01T12:00:00.000Z');
    expect(lock.info.refreshed).toBe('2024-05-01T12:05:00.000Z');
    await lock.release();
  });

  it('refreshes on its own timer while held, and not after release', async () => {
    let ticks = 0;
    const now = () => Date.parse('2024-05-01T12:00:00.000Z') + ++ticks * 1000;
    const lock = await acquireLock(store, { exclusive: false, now, refreshEveryMs: 10 });
    const first = lock.info.refreshed;
    await vi.waitFor(
      async () => {
        const stored = JSON.parse((await store.get(lock.info.name)).toString());
        expect(stored.refreshed).not.toBe(first);
      },
      { timeout: 10_000, interval: 10 },
    );
    await lock.release();
    await sleep(50);
    expect(await lockObjects()).toEqual([]);
  });

  it('reports a lock removed by someone else as lost, once, and does not recreate it', async () => {
    const lost: Error[] = [];
    const lock = await acquireLock(store, { exclusive: false, onLost: (err) => lost.push(err) });
    expect(lock.lost).toBe(false);
    expect(await removeAllLocks(store)).toBe(1);
    const err = await rejection(lock.refresh());
    expect(err).toBeInstanceOf(LockLostError);
    expect(err.code).toBe('LOCK_LOST');
    expect(lock.lost).toBe(true);
    expect(() => lock.assertHeld()).toThrow(LockLostError);
    expect(await rejection(lock.refresh())).toBe(err);
    expect(lost).toEqual([err]);
    expect(await lockObjects()).toEqual([]);
    await lock.release();
  });

  it('notices a removed lock from its timer', async () => {
    const lost: Error[] = [];
    const lock = await acquireLock(store, { exclusive: true, refreshEveryMs: 10, onLost: (e) => lost.push(e) });
    await removeAllLocks(store);
    await vi.waitFor(() => expect(lock.lost).toBe(true), { timeout: 10_000, interval: 10 });
    expect(lost).toHaveLength(1);
    expect(lost[0]).toBeInstanceOf(LockLostError);
    await lock.release();
  });

  it('survives a failed refresh, but calls the lock lost once it could go stale', async () => {
    let clock = Date.parse('2024-05-01T12:00:00.000Z');
    const flaky = new FlakyStore(store);
    const lock = await acquireLock(flaky, {
      exclusive: true,
      now: () => clock,
      staleAfterMs: 30 * MINUTE,
      refreshEveryMs: 5 * MINUTE,
    });
    flaky.failPuts = true;
    clock += 5 * MINUTE;
    await lock.refresh();
    expect(lock.lost).toBe(false);
    clock += 20 * MINUTE;
    const err = await rejection(lock.refresh());
    expect(err).toBeInstanceOf(LockLostError);
    expect(err.message).toContain('could not be refreshed');
    expect((err.cause as Error).message).toBe('injected put failure');
    flaky.failPuts = false;
    await lock.release();
    expect(await lockObjects()).toEqual([]);
  });
});

describe('two processes', () => {
  it('never both hold the exclusive lock', async () => {
    const repo = join(dir, 'repo');
    const work = join(dir, 'work');
    const rounds = 25;
    const outputs: string[] = [];
    const children = [0, 1].map(
      () =>
        new Promise<void>((resolve, reject) => {
          const child = spawn(
            process.execPath,
            ['--import', 'tsx', join(repoRoot, 'test', 'helpers', 'locks-racer.ts'), repo, work, String(rounds)],
            { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
          );
          let out = '';
          let stderr = '';
          child.stdout.on('data', (d) => {
            out += d;
          });
          child.stderr.on('data', (d) => {
            stderr += d;
          });
          child.on('error', reject);
          child.on('exit', (code) => {
            if (code !== 0) reject(new Error(`racer exited ${code}: ${stderr}`));
            outputs.push(out);
            resolve();
          });
        }),
    );
    // Start both at once, so their attempts overlap.
    await vi.waitFor(
      () => expect(existsSync(work) && readdirSync(work).filter((f) => f.startsWith('ready-'))).toHaveLength(2),
      { timeout: 20_000, interval: 10 },
    );
    writeFileSync(join(work, 'go'), '');
    await Promise.all(children);
    const results = outputs.map((o) => JSON.parse(o) as { acquired: number; refused: number; violations: number });
    expect(results.map((r) => r.violations)).toEqual([0, 0]);
    expect(results.reduce((n, r) => n + r.acquired, 0)).toBeGreaterThan(0);
    // The two really contended: at least one attempt was refused.
    expect(results.reduce((n, r) => n + r.refused, 0)).toBeGreaterThan(0);
    expect(await lockObjects()).toEqual([]);
  });
});

/** A real store whose puts can be made to fail, as a flaky network would. */
class FlakyStore extends ForwardingStore {
  failPuts = false;
  override put(name: string, data: Uint8Array): Promise<void> {
    if (this.failPuts) return Promise.reject(new Error('injected put failure'));
    return this.inner.put(name, data);
  }
}
