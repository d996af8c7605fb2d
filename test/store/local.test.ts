import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidObjectNameError, ObjectNotFoundError, StoreError } from '../../src/store/errors.js';
import { LEFTOVER_MIN_AGE_MS, LocalStore, TEMP_PREFIX } from '../../src/store/local.js';
import { collect, describeObjectStoreConformance } from './conformance.js';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'drivesnap-local-store-'));
}

describeObjectStoreConformance('LocalStore', async () => {
  const dir = await tempDir();
  return { store: new LocalStore(dir), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

/** Every file under dir, relative, `/`-separated. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

describe('LocalStore on disk', () => {
  let dir: string;
  let store: LocalStore;
  beforeEach(async () => {
    dir = await tempDir();
    store = new LocalStore(dir);
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('stores chunks/ab/abcd as a real file in real subdirectories', async () => {
    await store.put('chunks/ab/abcd', Buffer.from('payload'));
    expect((await stat(join(dir, 'chunks', 'ab'))).isDirectory()).toBe(true);
    expect((await stat(join(dir, 'chunks', 'ab', 'abcd'))).size).toBe(7);
  });

  it('reads an object into the caller buffer when it fits, and into a new one when it does not', async () => {
    const data = Buffer.from('x'.repeat(5000));
    await store.put('chunks/ab/abcd', data);
    const into = Buffer.alloc(8192, 7);
    const got = await store.get('chunks/ab/abcd', into);
    expect(got.buffer === into.buffer).toBe(true);
    expect(got.equals(data)).toBe(true);
    const small = Buffer.alloc(100);
    const fresh = await store.get('chunks/ab/abcd', small);
    expect(fresh.buffer === small.buffer).toBe(false);
    expect(fresh.equals(data)).toBe(true);
    await expect(store.get('chunks/ab/missing', into)).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  it('leaves no temp file behind after puts and overwrites', async () => {
    await store.put('chunks/ab/one', Buffer.alloc(1000, 1));
    await store.put('chunks/ab/one', Buffer.alloc(10, 2));
    await store.put('config', Buffer.alloc(5));
    expect(await filesUnder(dir)).toEqual(['chunks/ab/one', 'config']);
  });

  it('a stray temp file from a crash is neither listed nor an object', async () => {
    await store.put('chunks/ab/real', Buffer.from('real'));
    const stray = `${TEMP_PREFIX}0123456789abcdef`;
    await writeFile(join(dir, 'chunks', 'ab', stray), 'half written');
    await writeFile(join(dir, stray), 'half written');

    expect((await collect(store.list(''))).map((o) => o.name)).toEqual(['chunks/ab/real']);
    expect(await store.stat(`chunks/ab/${stray}`)).toBeUndefined();
    await expect(store.get(`chunks/ab/${stray}`)).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(store.put(`chunks/ab/${stray}`, Buffer.from('x'))).rejects.toBeInstanceOf(InvalidObjectNameError);
  });

  it('refuses .. so nothing is written outside the repository', async () => {
    const failure = await store.put('../outside', Buffer.from('x')).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(InvalidObjectNameError);
    expect((failure as InvalidObjectNameError).code).toBe('STORE_INVALID_NAME');
    await expect(stat(join(dir, '..', 'outside'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(collect(store.list('../'))).rejects.toBeInstanceOf(InvalidObjectNameError);
  });

  it('creates a missing repository directory lazily on the first put', async () => {
    const nested = new LocalStore(join(dir, 'not', 'yet'));
    expect(await collect(nested.list(''))).toEqual([]);
    await nested.put('config', Buffer.from('c'));
    expect((await nested.get('config')).toString()).toBe('c');
  });

  it('recreates a subdirectory removed behind its back (the directory cache is not trusted blindly)', async () => {
    await store.put('chunks/cd/first', Buffer.from('1'));
    await rm(join(dir, 'chunks', 'cd'), { recursive: true });
    await store.put('chunks/cd/second', Buffer.from('2'));
    expect((await store.get('chunks/cd/second')).toString()).toBe('2');
  });

  it('reports a write it cannot do as STORE_IO naming the object, not a raw errno', async () => {
    await mkdir(join(dir, 'chunks'));
    await writeFile(join(dir, 'chunks', 'ef'), 'a file where a directory must go');
    const failure = await store.put('chunks/ef/x', Buffer.from('x')).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(StoreError);
    expect((failure as StoreError).code).toBe('STORE_IO');
    expect((failure as StoreError).message).toContain('chunks/ef/x');
  });

  it('a batched put is no object until a flush, which makes it whole under its name', async () => {
    const data = Buffer.alloc(5000, 3);
    await store.put('chunks/ab/batched', data, { batched: true });
    expect(await store.stat('chunks/ab/batched')).toBeUndefined();
    await expect(store.get('chunks/ab/batched')).rejects.toBeInstanceOf(ObjectNotFoundError);
    expect(await collect(store.list('chunks/'))).toEqual([]);
    const [temp] = await filesUnder(dir);
    expect(temp).toMatch(new RegExp(`^chunks/ab/${TEMP_PREFIX}`));
    expect((await stat(join(dir, temp!))).size).toBe(data.length);

    await store.flush();
    expect((await store.get('chunks/ab/batched')).equals(data)).toBe(true);
    expect(await filesUnder(dir)).toEqual(['chunks/ab/batched']);
  });

  it('close drops batched puts never flushed, temp files and all', async () => {
    await store.put('chunks/ab/kept', Buffer.from('k'), { batched: true });
    await store.flush();
    await store.put('chunks/cd/dropped', Buffer.from('d'), { batched: true });
    await store.close();
    expect(await filesUnder(dir)).toEqual(['chunks/ab/kept']);
  });

  it('a flush that failed fails every later one, and what it covered never becomes an object', async () => {
    await store.put('chunks/ab/lost', Buffer.from('lost'), { batched: true });
    // The disk loses the staged file before the flush reaches it.
    const [temp] = await filesUnder(dir);
    await rm(join(dir, temp!));
    const failure = await store.flush().catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(StoreError);
    expect((failure as StoreError).code).toBe('STORE_IO');
    expect((failure as StoreError).message).toContain('chunks/ab/lost');

    await store.put('chunks/cd/later', Buffer.from('later'), { batched: true });
    await expect(store.flush()).rejects.toBe(failure);
    expect(await store.stat('chunks/ab/lost')).toBeUndefined();
    expect(await store.stat('chunks/cd/later')).toBeUndefined();
    // A put that is durable by itself still works: only what waits for a flush is refused.
    await store.put('config', Buffer.from('c'));
    expect((await store.get('config')).toString()).toBe('c');
  });

  it('removeLeftovers deletes stray temp files an hour old at any depth, never younger ones, objects or its own staged puts; dryRun only counts', async () => {
    await store.put('chunks/ab/real', Buffer.from('real'));
    await store.put('chunks/cd/mine', Buffer.from('mine'), { batched: true });
    const strays = [join('chunks', 'ab', `${TEMP_PREFIX}00000000000000aa`), `${TEMP_PREFIX}00000000000000bb`];
    const old = new Date(Date.now() - LEFTOVER_MIN_AGE_MS - 60_000);
    for (const stray of strays) {
      await writeFile(join(dir, stray), 'half a chunk');
      await utimes(join(dir, stray), old, old);
    }
    // A put in flight elsewhere (a temp file just made) is left alone.
    const young = join('chunks', 'ab', `${TEMP_PREFIX}00000000000000cc`);
    await writeFile(join(dir, young), 'being written');

    expect(await store.removeLeftovers({ dryRun: true })).toEqual({ count: 2, bytes: 24 });
    expect((await filesUnder(dir)).filter((f) => strays.includes(f))).toHaveLength(2);
    expect(await store.removeLeftovers()).toEqual({ count: 2, bytes: 24 });
    expect(await store.removeLeftovers()).toEqual({ count: 0, bytes: 0 });
    await store.flush();
    expect(await filesUnder(dir)).toEqual([young, 'chunks/ab/real', 'chunks/cd/mine'].sort());
  });

  it('a directory is not an object', async () => {
    await store.put('chunks/ab/x', Buffer.from('x'));
    expect(await store.stat('chunks/ab')).toBeUndefined();
    await expect(store.get('chunks/ab')).rejects.toBeInstanceOf(ObjectNotFoundError);
  });
});
