import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJsonObjects } from '../../src/api/wire.js';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { call, createDrive, keysOf, post } from './client.js';

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };
let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await emu.close();
});

const postJson = (path: string, body: unknown) => post(emu, path, JSON.stringify(body), { headers: JSON_HEADERS });
const getJson = async (path: string) => JSON.parse((await call(emu, path, { headers: { accept: 'application/json' } })).text) as unknown;

describe('multi-valued keys sent as JSON lists', () => {
  it('answers a server whose boot was a list with a list, in create, info and the all-servers info', async () => {
    const a = await createDrive(emu, '1M');
    const b = await createDrive(emu, '1M');
    const created = await postJson('/servers/create/stopped', {
      name: 'lists', cpu: 1000, mem: 256, 'ide:0:0': a, 'ide:0:1': b, boot: ['ide:0:0', 'ide:0:1'], tags: 'plain words',
    });
    expect(created.status).toBe(200);
    const server = JSON.parse(created.text) as Record<string, unknown>;
    expect(server.boot).toEqual(['ide:0:0', 'ide:0:1']);
    // A key given as a plain string stays a string.
    expect(server.tags).toBe('plain words');
    expect((await getJson(`/servers/${server.server}/info`)) as Record<string, unknown>).toMatchObject({ boot: ['ide:0:0', 'ide:0:1'] });
    const all = (await getJson('/servers/info')) as Record<string, unknown>[];
    expect(all.find((s) => s.server === server.server)?.boot).toEqual(['ide:0:0', 'ide:0:1']);
    // The client's parser reads the list back as the usual space-separated value.
    const mine = parseJsonObjects(JSON.stringify(all)).find((s) => s.server === server.server);
    expect(mine?.boot).toBe('ide:0:0 ide:0:1');
    // Text keeps the space-separated form.
    expect(keysOf((await call(emu, `/servers/${server.server}/info`)).text).boot).toBe('ide:0:0 ide:0:1');
    // Set as a string: answered as a string from then on.
    const set = JSON.parse((await postJson(`/servers/${server.server}/set`, { boot: 'ide:0:1' })).text) as Record<string, unknown>;
    expect(set.boot).toBe('ide:0:1');
  });

  it('keeps drive tags and readers in the form given, across set and a listing', async () => {
    const reader = '11111111-1111-4111-8111-111111111111';
    const created = JSON.parse((await postJson('/drives/create', { name: 'l', size: '1M', tags: ['a', 'b'], readers: [reader] })).text) as Record<string, unknown>;
    expect(created).toMatchObject({ tags: ['a', 'b'], readers: [reader] });
    const set = JSON.parse((await postJson(`/drives/${created.drive}/set`, { tags: 'c d' })).text) as Record<string, unknown>;
    expect(set).toMatchObject({ tags: 'c d', readers: [reader] });
    const all = (await getJson('/drives/info')) as Record<string, unknown>[];
    expect(all.find((d) => d.drive === created.drive)).toMatchObject({ tags: 'c d', readers: [reader] });
  });

  it('keeps resource tags given as a list', async () => {
    const created = JSON.parse((await postJson('/resources/vlan/create', { name: 'v', tags: ['x', 'y'] })).text) as Record<string, unknown>;
    expect(created.tags).toEqual(['x', 'y']);
    const all = (await getJson('/resources/info')) as Record<string, unknown>[];
    expect(all.find((r) => r.resource === created.resource)?.tags).toEqual(['x', 'y']);
  });

  it('refuses a list for a single-valued key and a list item holding spaces (400 usage)', async () => {
    for (const body of [{ name: ['a', 'b'], size: '1M' }, { name: 'n', size: '1M', tags: ['a b'] }]) {
      const a = await postJson('/drives/create', body);
      expect([a.status, a.error]).toEqual([400, 'usage']);
    }
  });
});
