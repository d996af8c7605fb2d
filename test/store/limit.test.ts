import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LimitStore } from '../../src/store/limit.js';
import { LocalStore } from '../../src/store/local.js';
import { FaultyStore } from './fault-injection.js';

describe('LimitStore over a real LocalStore', () => {
  let dir: string;
  let local: LocalStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'drivesnap-limit-'));
    local = new LocalStore(dir);
  });
  afterEach(async () => {
    await local.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('never lets more than N operations reach the store below at once', async () => {
    const counting = new FaultyStore(local, 0, () => new Error('unused'));
    const store = new LimitStore(counting, 2);
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.put(`chunks/aa/${i}`, Buffer.alloc(64 * 1024, i))));
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.get(`chunks/aa/${i}`)));
    expect(counting.calls).toBe(40);
    expect(counting.maxInFlight).toBe(2);
    expect(store.activeCount).toBe(0);
  });

  it('a listing holds a slot per step, so reading objects inside the loop cannot deadlock', async () => {
    for (const name of ['s/a', 's/b', 's/c']) await local.put(name, Buffer.from(name));
    const store = new LimitStore(local, 1);
    const contents: string[] = [];
    for await (const info of store.list('s/')) contents.push((await store.get(info.name)).toString());
    expect(contents).toEqual(['s/a', 's/b', 's/c']);
  });

  it('stopping a listing early frees its slot', async () => {
    for (const name of ['s/a', 's/b']) await local.put(name, Buffer.from(name));
    const store = new LimitStore(local, 1);
    for await (const _info of store.list('s/')) break;
    expect(store.activeCount).toBe(0);
    expect((await store.get('s/b')).toString()).toBe('s/b');
  });
});
