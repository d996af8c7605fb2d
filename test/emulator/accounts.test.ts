import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, type EmulatorAccount, startEmulator } from '../../src/emulator/index.js';
import { call, createDrive, keysOf, post } from './client.js';

const alice: EmulatorAccount = { user: '11111111-1111-4111-8111-111111111111', secret: 'alice-secret' };
const bob: EmulatorAccount = { user: '22222222-2222-4222-8222-222222222222', secret: 'bob-secret' };
const carol: EmulatorAccount = { user: '33333333-3333-4333-8333-333333333333', secret: 'carol-secret', quotaDrives: 2, quotaBytes: 3 * 1024 * 1024 };
let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ accounts: [alice, bob, carol], storageLimitBytes: 64 * 1024 * 1024 });
});
afterAll(async () => {
  await emu.close();
});

describe('accounts and readers', () => {
  it('hides another account\'s drive (404) unless readers names the caller, then allows info, read and image-from only', async () => {
    const id = await createDrive(emu, '1M', { account: alice });
    await call(emu, `/drives/${id}/write/0`, { method: 'POST', body: Buffer.from('secret data'), account: alice });
    const hidden = await call(emu, `/drives/${id}/info`, { account: bob });
    expect([hidden.status, hidden.error]).toEqual([404, 'missing']);
    expect((await call(emu, `/drives/${id}/read/0/6`, { account: bob })).status).toBe(404);

    await post(emu, `/drives/${id}/set`, `readers ${bob.user}`, { account: alice });
    expect(keysOf((await call(emu, `/drives/${id}/info`, { account: bob })).text).readers).toBe(bob.user);
    expect((await call(emu, `/drives/${id}/read/0/6`, { account: bob })).text).toBe('secret');
    const copy = await createDrive(emu, '1M', { account: bob });
    expect((await post(emu, `/drives/${copy}/image/${id}`, '', { account: bob })).status).toBe(204);

    for (const [path, body] of [[`/drives/${id}/write/0`, 'x'], [`/drives/${id}/set`, 'name mine'], [`/drives/${id}/destroy`, '']]) {
      const a = await post(emu, path!, body, { account: bob });
      expect([path, a.status, a.error]).toEqual([path, 404, 'missing']);
    }
    expect((await call(emu, '/drives/list', { account: bob })).text).not.toContain(id);
    expect((await call(emu, `/drives/${id}/info`, { account: carol })).status).toBe(404);
  });

  it('lets every account read a drive whose readers is the all-ones UUID', async () => {
    const id = await createDrive(emu, '64k', { account: alice, extra: 'readers ffffffff-ffff-ffff-ffff-ffffffffffff\n' });
    expect((await call(emu, `/drives/${id}/read/0/1`, { account: carol })).status).toBe(200);
  });
});

describe('limits', () => {
  it('answers 402 billing past an account\'s drive count or byte quota, and allows what fits', async () => {
    const first = await createDrive(emu, '2M', { account: carol });
    const tooBig = await post(emu, '/drives/create', 'name x\nsize 2M', { account: carol });
    expect([tooBig.status, tooBig.error]).toEqual([402, 'billing']);
    const grow = await post(emu, `/drives/${first}/set`, 'size 4M', { account: carol });
    expect([grow.status, grow.error]).toEqual([402, 'billing']);
    await createDrive(emu, '1M', { account: carol });
    const third = await post(emu, '/drives/create', 'name x\nsize 1k', { account: carol });
    expect([third.status, third.error]).toEqual([402, 'billing']);
  });

  it('answers 507 full past the emulator-wide storage limit', async () => {
    const a = await post(emu, '/drives/create', 'name huge\nsize 1G', { account: bob });
    expect([a.status, a.error]).toEqual([507, 'full']);
  });
});
