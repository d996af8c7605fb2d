/**
 * The contract every ObjectStore keeps, as one suite run against each backend and the composed stack.
 * The factory gives a fresh, empty store for each test.
 */
import { randomBytes } from 'node:crypto';
import pLimit from 'p-limit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidObjectNameError, ObjectNotFoundError } from '../../src/store/errors.js';
import type { ObjectInfo, ObjectStore } from '../../src/store/types.js';
import { MiB } from '../../src/util/size.js';

export interface StoreFixture {
  store: ObjectStore;
  cleanup(): Promise<void>;
}

export async function collect(listing: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const info of listing) out.push(info);
  // Every backend lists in ascending name order (the retry wrapper resumes a listing after the last name it
  // saw), so every listing of the suite checks the order instead of sorting it away.
  const names = out.map((o) => o.name);
  expect(names, 'listing in ascending name order').toEqual([...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  return out;
}

export function describeObjectStoreConformance(label: string, makeStore: () => Promise<StoreFixture>): void {
  describe(`ObjectStore conformance: ${label}`, () => {
    let fixture: StoreFixture;
    let store: ObjectStore;
    beforeEach(async () => {
      fixture = await makeStore();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.store.close();
      await fixture.cleanup();
    });

    it.each([
      ['0 B', 0],
      ['1 B', 1],
      ['4 MiB', 4 * MiB],
    ])('round-trips a %s object byte for byte', async (_label, size) => {
      const data = randomBytes(size);
      await store.put('chunks/ab/object', data);
      const back = await store.get('chunks/ab/object');
      expect(back.length).toBe(size);
      expect(back.equals(data)).toBe(true);
      expect(await store.stat('chunks/ab/object')).toEqual({ name: 'chunks/ab/object', size });
    });

    it('holds a batched put, byte for byte, once flush has resolved', async () => {
      const data = randomBytes(3000);
      await store.put('chunks/cd/batched', data, { batched: true });
      await store.put('chunks/cd/plain', data);
      await store.flush();
      expect((await store.get('chunks/cd/batched')).equals(data)).toBe(true);
      expect((await collect(store.list('chunks/cd/'))).map((o) => o.name)).toEqual(['chunks/cd/batched', 'chunks/cd/plain']);
      await store.flush();
    });

    it('overwrites an object with the new content', async () => {
      await store.put('config', Buffer.from('first version, longer'));
      await store.put('config', Buffer.from('second'));
      expect((await store.get('config')).toString()).toBe('second');
      expect((await store.stat('config'))?.size).toBe(6);
    });

    it('stat answers undefined for a missing object and the size for a present one', async () => {
      expect(await store.stat('snapshots/missing')).toBeUndefined();
      await store.put('snapshots/present', Buffer.alloc(123, 7));
      expect(await store.stat('snapshots/present')).toEqual({ name: 'snapshots/present', size: 123 });
      expect(await store.stat('snapshots/missing')).toBeUndefined();
    });

    it('get of a missing object throws ObjectNotFoundError naming it', async () => {
      const failure = await store.get('chunks/00/nothing').catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(ObjectNotFoundError);
      expect((failure as ObjectNotFoundError).code).toBe('OBJECT_NOT_FOUND');
      expect((failure as ObjectNotFoundError).message).toContain('chunks/00/nothing');
    });

    it('lists by prefix, names and sizes, and nothing under other prefixes', async () => {
      await store.put('chunks/aa/aa01', Buffer.alloc(1));
      await store.put('chunks/aa/aa02', Buffer.alloc(2));
      await store.put('chunks/bb/bb01', Buffer.alloc(3));
      await store.put('chunksextra', Buffer.alloc(4));
      await store.put('snapshots/s1', Buffer.alloc(5));
      await store.put('config', Buffer.alloc(6));

      expect(await collect(store.list('chunks/'))).toEqual([
        { name: 'chunks/aa/aa01', size: 1 },
        { name: 'chunks/aa/aa02', size: 2 },
        { name: 'chunks/bb/bb01', size: 3 },
      ]);
      expect((await collect(store.list('chunks/a'))).map((o) => o.name)).toEqual(['chunks/aa/aa01', 'chunks/aa/aa02']);
      expect((await collect(store.list('snapshots/'))).map((o) => o.name)).toEqual(['snapshots/s1']);
      expect((await collect(store.list('locks/'))).map((o) => o.name)).toEqual([]);
      expect((await collect(store.list(''))).map((o) => o.name)).toEqual([
        'chunks/aa/aa01',
        'chunks/aa/aa02',
        'chunks/bb/bb01',
        'chunksextra',
        'config',
        'snapshots/s1',
      ]);
    });

    it('lists more than 1000 objects under one prefix (S3 pagination)', async () => {
      const names = Array.from({ length: 1050 }, (_, i) => `chunks/${(i % 4).toString(16).padStart(2, '0')}/${i}`);
      const limit = pLimit(16);
      await Promise.all(names.map((name) => limit(() => store.put(name, Buffer.from([i8(name)])))));
      await store.put('other/not-listed', Buffer.alloc(1));
      const listed = await collect(store.list('chunks/'));
      expect(listed.length).toBe(names.length);
      expect(new Set(listed.map((o) => o.name))).toEqual(new Set(names));
      expect(listed.every((o) => o.size === 1)).toBe(true);
    });

    it('delete removes the object and deleting again (or a never-written one) is not an error', async () => {
      await store.put('locks/l1', Buffer.from('lock'));
      await store.delete('locks/l1');
      expect(await store.stat('locks/l1')).toBeUndefined();
      await expect(store.get('locks/l1')).rejects.toBeInstanceOf(ObjectNotFoundError);
      await store.delete('locks/l1');
      await store.delete('locks/never-there');
      expect(await collect(store.list('locks/'))).toEqual([]);
    });

    it('keeps objects in nested subdirectories apart', async () => {
      await store.put('a/b/c/d', Buffer.from('deep'));
      await store.put('a/b/c2', Buffer.from('shallow'));
      await store.put('a/b2', Buffer.from('side'));
      expect((await store.get('a/b/c/d')).toString()).toBe('deep');
      expect((await store.get('a/b/c2')).toString()).toBe('shallow');
      expect((await collect(store.list('a/b/'))).map((o) => o.name)).toEqual(['a/b/c/d', 'a/b/c2']);
    });

    it.each(['../escape', 'chunks/../../escape', '/etc/passwd', 'chunks//double', './config', ''])(
      'refuses the name %j',
      async (name) => {
        await expect(store.put(name, Buffer.from('x'))).rejects.toBeInstanceOf(InvalidObjectNameError);
        await expect(store.get(name)).rejects.toBeInstanceOf(InvalidObjectNameError);
      },
    );
  });
}

function i8(name: string): number {
  return name.length & 0xff;
}
