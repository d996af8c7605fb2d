import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseTextObjects } from '../../src/api/wire.js';
import { type Emulator, type EmulatorAccount, startEmulator } from '../../src/emulator/index.js';
import { call, createDrive, keysOf, post } from './client.js';

const other: EmulatorAccount = { user: '44444444-4444-4444-8444-444444444444', secret: 'other' };
let emu: Emulator;
beforeAll(async () => {
  const me: EmulatorAccount = { user: '55555555-5555-4555-8555-555555555555', secret: 'me' };
  emu = await startEmulator({ shutdownDelayMs: 150, accounts: [me, other] });
});
afterAll(async () => {
  await emu.close();
});

async function createServer(body: string, stopped = false): Promise<Record<string, string>> {
  const a = await post(emu, stopped ? '/servers/create/stopped' : '/servers/create', body);
  expect(a.status).toBe(200);
  return keysOf(a.text);
}

describe('servers', () => {
  it('creates a started server that claims its drive; claimed drives refuse write, resize, destroy (409)', async () => {
    const drive = await createDrive(emu, '1M');
    const s = await createServer(`name web\ncpu 2000\nmem 1024\nide:0:0 ${drive}\nnic:0:dhcp auto\nnic:0:model e1000`);
    expect(s).toMatchObject({ status: 'active', name: 'web', cpu: '2000', 'smp:cores': '1', rx: '0', tx: '0' });
    expect(Number(s.started)).toBeGreaterThan(1_600_000_000);
    expect(s['nic:0:dhcp:ip']).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const info = keysOf((await call(emu, `/drives/${drive}/info`)).text);
    expect(info.claimed).toMatch(new RegExp(`^[0-9a-f-]+:guest:${s.server}:ide:0:0$`));
    for (const [path, body] of [[`/drives/${drive}/write/0`, 'x'], [`/drives/${drive}/set`, 'size 2M'], [`/drives/${drive}/destroy`, '']]) {
      const a = await post(emu, path!, body);
      expect([path, a.status, a.error]).toEqual([path, 409, 'busy']);
    }
    expect((await post(emu, `/drives/${drive}/set`, 'name renamed')).status).toBe(200);
    const again = await post(emu, '/servers/create', `name two\ncpu 1000\nmem 512\nide:0:0 ${drive}`);
    expect([again.status, again.error]).toEqual([409, 'busy']);

    expect((await post(emu, `/servers/${s.server}/stop`)).status).toBe(204);
    // Not persistent: stopping destroyed it, and released the claim.
    expect((await call(emu, `/servers/${s.server}/info`)).status).toBe(404);
    expect(keysOf((await call(emu, `/drives/${drive}/info`)).text).claimed).toBeUndefined();
    expect((await post(emu, `/drives/${drive}/destroy`)).status).toBe(204);
  });

  it('lets several running servers share a drive with claim:type shared', async () => {
    const drive = await createDrive(emu, '1M', { extra: 'claim:type shared\n' });
    const a = await createServer(`name a\ncpu 1000\nmem 256\nblock:0 ${drive}`);
    const b = await createServer(`name b\ncpu 1000\nmem 256\nscsi:0:1 ${drive}`);
    const claimed = keysOf((await call(emu, `/drives/${drive}/info`)).text).claimed!.split(' ');
    expect(claimed).toHaveLength(2);
    for (const s of [a, b]) await post(emu, `/servers/${s.server}/destroy`);
  });

  it('keeps a persistent server as stopped; start, reset; ACPI shutdown completes after a delay', async () => {
    const s = await createServer('name p\ncpu 4000\nmem 2048\nsmp auto\npersistent true', true);
    expect(s.status).toBe('stopped');
    expect(s.started).toBeUndefined();
    expect((await post(emu, `/servers/${s.server}/start`)).status).toBe(204);
    const started = await post(emu, `/servers/${s.server}/start`);
    expect([started.status, started.error]).toEqual([409, 'busy']);
    expect(keysOf((await call(emu, `/servers/${s.server}/info`)).text)).toMatchObject({ status: 'active', 'smp:cores': '2' });
    expect((await post(emu, `/servers/${s.server}/reset`)).status).toBe(204);
    expect((await post(emu, `/servers/${s.server}/shutdown`)).status).toBe(204);
    expect(keysOf((await call(emu, `/servers/${s.server}/info`)).text).status).toBe('active');
    const status = await vi.waitFor(
      async () => {
        const now = keysOf((await call(emu, `/servers/${s.server}/info`)).text).status;
        expect(now, `server ${s.server} to leave 'active' within 10 s of an ACPI shutdown`).not.toBe('active');
        return now;
      },
      { timeout: 10_000, interval: 30 },
    );
    expect(status).toBe('stopped');
    const set = await post(emu, `/servers/${s.server}/set`, 'name renamed\nmem 4096');
    expect(keysOf(set.text)).toMatchObject({ name: 'renamed', mem: '4096' });
    expect((await call(emu, '/servers/list')).text).toContain(s.server);
    expect(parseTextObjects((await call(emu, '/servers/info')).text).map((o) => o.server)).toContain(s.server);
    expect((await post(emu, `/servers/${s.server}/destroy`)).status).toBe(204);
    expect((await call(emu, '/servers/list')).text).not.toContain(s.server);
  });

  it('validates server configuration and hides other accounts\' servers', async () => {
    for (const body of ['cpu 1000\nmem 1', 'name x\ncpu fast\nmem 1', 'name x\ncpu 1\nmem 1\nide:2:0 x', 'name x\ncpu 1\nmem 1\nvnc:password toolongpw']) {
      const a = await post(emu, '/servers/create', body);
      expect([body, a.status, a.error]).toEqual([body, 400, 'usage']);
    }
    const s = await createServer('name mine\ncpu 1000\nmem 256', true);
    expect((await call(emu, `/servers/${s.server}/info`, { account: other })).status).toBe(404);
    const json = await post(emu, '/servers/create/stopped', JSON.stringify({ name: 'j', cpu: 500, mem: 256, persistent: true }), {
      headers: { 'content-type': 'application/json', accept: 'application/json' },
    });
    expect(JSON.parse(json.text)).toMatchObject({ cpu: 500, mem: 256, persistent: 'true', status: 'stopped' });
  });
});

describe('resources', () => {
  it('creates, lists, sets and destroys ip and vlan resources', async () => {
    const ip = keysOf((await post(emu, '/resources/ip/create', 'name front')).text);
    expect(ip).toMatchObject({ type: 'ip', name: 'front', user: emu.accounts[0]!.user, netmask: '255.255.255.0' });
    expect(ip.resource).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const vlan = keysOf((await post(emu, '/resources/vlan/create', 'name back\ntags x')).text);
    expect(vlan.resource).toMatch(/^[0-9a-f-]{36}$/);
    const all = (await call(emu, '/resources/list')).text.trim().split('\n');
    expect(all).toEqual(expect.arrayContaining([`ip ${ip.resource}`, `vlan ${vlan.resource}`]));
    expect((await call(emu, '/resources/vlan/list')).text.trim()).toBe(`vlan ${vlan.resource}`);
    const set = await post(emu, `/resources/ip/${ip.resource}/set`, 'name renamed');
    expect(keysOf(set.text).name).toBe('renamed');
    expect(keysOf((await call(emu, `/resources/ip/${ip.resource}/info`)).text).name).toBe('renamed');
    expect((await call(emu, '/resources/info')).text).toContain(vlan.resource);
    expect((await post(emu, `/resources/ip/${ip.resource}/destroy`)).status).toBe(204);
    expect((await call(emu, `/resources/ip/${ip.resource}/info`)).status).toBe(404);
    expect((await post(emu, '/resources/disk/create', 'name x')).status).toBe(404);
    expect((await post(emu, '/resources/ip/create', '')).error).toBe('usage');
  });
});

describe('writes to a drive a running server claims', () => {
  it('are 409 busy naming the server and device, with `claimed` in the drive info; an injected busy has neither', async () => {
    const drive = await createDrive(emu, '1M');
    const s = await createServer(`name db-primary\ncpu 1000\nmem 256\nscsi:0:2 ${drive}`);
    const before = keysOf((await call(emu, `/drives/${drive}/info`)).text);
    const attempts: [Buffer, Record<string, string>][] = [
      [Buffer.from('x'), {}],
      [gzipSync(Buffer.from('x')), { 'content-encoding': 'gzip' }],
    ];
    for (const [body, headers] of attempts) {
      const a = await call(emu, `/drives/${drive}/write/0`, { method: 'POST', body, headers });
      expect([a.status, a.error]).toEqual([409, 'busy']);
      expect(a.text).toContain(s.server!);
      expect(a.text).toContain('("db-primary") as scsi:0:2');
    }
    const info = keysOf((await call(emu, `/drives/${drive}/info`)).text);
    expect(info.claimed).toContain(`:guest:${s.server}:scsi:0:2`);
    // Refused writes neither change the data nor move the counters.
    expect(info['write:bytes']).toBe(before['write:bytes']);
    expect((await call(emu, `/drives/${drive}/read/0/1`)).body[0]).toBe(0);

    await post(emu, `/servers/${s.server}/destroy`);
    emu.setFaults({ busyRate: 1, calls: ['write'], seed: 1 });
    try {
      const injected = await call(emu, `/drives/${drive}/write/0`, { method: 'POST', body: Buffer.from('x') });
      expect([injected.status, injected.error]).toEqual([409, 'busy']);
      expect(injected.text).not.toContain('claimed');
    } finally {
      emu.setFaults(undefined);
    }
    expect(keysOf((await call(emu, `/drives/${drive}/info`)).text).claimed).toBeUndefined();
  });
});
