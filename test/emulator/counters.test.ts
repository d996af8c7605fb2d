import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDriveInfo } from '../../src/api/drive-info.js';
import { parseJsonObjects } from '../../src/api/wire.js';
import { type Emulator, GuestIoError, startEmulator } from '../../src/emulator/index.js';
import { call, createDrive, keysOf, post, waitImaged } from './client.js';

const DEBIAN = '980cf63c-f21e-4382-997b-6541d5809629';
const MiB = 1024 * 1024;
let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await emu.close();
});

async function counters(drive: string) {
  const info = parseDriveInfo(keysOf((await call(emu, `/drives/${drive}/info`)).text));
  return { readBytes: info.readBytes, readRequests: info.readRequests, writeBytes: info.writeBytes, writeRequests: info.writeRequests };
}

describe('drive I/O counters', () => {
  it('starts at 4096 bytes / 1 request, in text and in JSON, parsed by the client', async () => {
    const drive = await createDrive(emu, '1M');
    expect(await counters(drive)).toEqual({ readBytes: 4096, readRequests: 1, writeBytes: 4096, writeRequests: 1 });
    const json = parseJsonObjects((await call(emu, `/drives/${drive}/info`, { headers: { accept: 'application/json' } })).text)[0]!;
    expect(parseDriveInfo(json).writeBytes).toBe(4096);
  });

  it('moves the write counters on raw and gzip API writes (decoded bytes), and the read counters on API reads', async () => {
    const drive = await createDrive(emu, '8M');
    expect((await call(emu, `/drives/${drive}/write/100`, { method: 'POST', body: Buffer.alloc(1000, 1) })).status).toBe(204);
    expect(await counters(drive)).toMatchObject({ writeBytes: 4096 + 1000, writeRequests: 2 });
    const gz = gzipSync(Buffer.alloc(2 * MiB, 7));
    const w = await call(emu, `/drives/${drive}/write/1M`, { method: 'POST', body: gz, headers: { 'content-encoding': 'gzip' } });
    expect(w.status).toBe(204);
    expect(await counters(drive)).toMatchObject({ writeBytes: 4096 + 1000 + 2 * MiB, writeRequests: 3 });
    await call(emu, `/drives/${drive}/read/0/3`);
    await post(emu, `/drives/${drive}/read/1M/1M`);
    expect(await counters(drive)).toEqual({ readBytes: 4096 + 3 + MiB, readRequests: 3, writeBytes: 4096 + 1000 + 2 * MiB, writeRequests: 3 });
  });

  it('has an acknowledged write counted in state.json before the answer (a crash cannot hide it)', async () => {
    const drive = await createDrive(emu, '1M');
    expect((await call(emu, `/drives/${drive}/write/0`, { method: 'POST', body: Buffer.from('durable') })).status).toBe(204);
    const state = JSON.parse(await readFile(join(emu.dataDir, 'state.json'), 'utf8')) as { drives: Record<string, { counters: { writeBytes: number } }> };
    expect(state.drives[drive]!.counters.writeBytes).toBe(4096 + 7);
  });

  it('moves the destination write counters and the source read counters when imaging', async () => {
    const src = await createDrive(emu, '3M');
    const dst = await createDrive(emu, '4M');
    const before = await counters(src);
    expect((await post(emu, `/drives/${dst}/image/${src}`)).status).toBe(204);
    await waitImaged(emu, dst);
    expect(await counters(dst)).toMatchObject({ writeBytes: 4096 + 3 * MiB });
    expect((await counters(dst)).writeRequests).toBeGreaterThan(1);
    expect((await counters(src)).readBytes).toBe(before.readBytes + 3 * MiB);

    const lib = keysOf((await call(emu, `/drives/${DEBIAN}/info`)).text);
    const fromLibrary = await createDrive(emu, '8M');
    expect((await post(emu, `/drives/${fromLibrary}/image/${DEBIAN}/gunzip`)).status).toBe(204);
    await waitImaged(emu, fromLibrary);
    expect((await counters(fromLibrary)).writeBytes).toBe(4096 + Number(lib.rawsize));
  });

  it('counts a shrink as a write of the discarded tail, so shrinking and growing back is never "unchanged"', async () => {
    const drive = await createDrive(emu, '2M');
    await call(emu, `/drives/${drive}/write/1536k`, { method: 'POST', body: Buffer.from('tail') });
    const before = await counters(drive);
    expect((await post(emu, `/drives/${drive}/set`, 'size 1M')).status).toBe(200);
    expect((await post(emu, `/drives/${drive}/set`, 'size 2M')).status).toBe(200);
    expect((await call(emu, `/drives/${drive}/read/1536k/4`)).body.equals(Buffer.alloc(4))).toBe(true);
    expect(await counters(drive)).toMatchObject({ writeBytes: before.writeBytes + MiB, writeRequests: before.writeRequests + 1 });
  });

  describe('a running server\'s own I/O (test hook)', () => {
    it('writes into the drive as the guest, moving the drive and per-device counters; reads move the read ones', async () => {
      const drive = await createDrive(emu, '2M');
      const server = keysOf((await post(emu, '/servers/create', `name g\ncpu 1000\nmem 256\nide:0:1 ${drive}`)).text);
      const before = await counters(drive);
      await emu.simulateServerWrite(drive, 4096, Buffer.from('guest data'));
      expect((await call(emu, `/drives/${drive}/read/4096/10`)).text).toBe('guest data');
      const after = await counters(drive);
      expect(after).toMatchObject({ writeBytes: before.writeBytes + 10, writeRequests: before.writeRequests + 1 });
      expect((await emu.simulateServerRead(drive, 4096, 5)).toString()).toBe('guest');
      expect((await counters(drive)).readBytes).toBe(after.readBytes + 5);
      const info = keysOf((await call(emu, `/servers/${server.server}/info`)).text);
      expect(info).toMatchObject({ 'ide:0:1:write:bytes': '10', 'ide:0:1:write:requests': '1', 'ide:0:1:read:bytes': '5' });
      await post(emu, `/servers/${server.server}/stop`);
    });

    it('refuses a drive no running server has attached, and a range outside the drive', async () => {
      const drive = await createDrive(emu, '1M');
      await expect(emu.simulateServerWrite(drive, 0, Buffer.from('x'))).rejects.toThrow(GuestIoError);
      const server = keysOf((await post(emu, '/servers/create', `name g\ncpu 1000\nmem 256\nblock:0 ${drive}`)).text);
      await expect(emu.simulateServerWrite(drive, MiB - 1, Buffer.from('xy'))).rejects.toThrow(/outside drive/);
      await expect(emu.simulateServerWrite(drive, 0, Buffer.from('x'), '00000000-0000-4000-8000-000000000000')).rejects.toThrow(GuestIoError);
      expect((await counters(drive)).writeRequests).toBe(1);
      await post(emu, `/servers/${server.server}/destroy`);
    });
  });
});

describe('counters across a restart', () => {
  it('keeps the counters moved by API writes and guest writes', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'drivesnap-emu-counters-'));
    try {
      const kept = await startEmulator({ dataDir });
      const drive = await createDrive(kept, '1M');
      await call(kept, `/drives/${drive}/write/0`, { method: 'POST', body: Buffer.from('abc') });
      const server = keysOf((await post(kept, '/servers/create', `name g\ncpu 1000\nmem 256\npersistent true\nide:0:0 ${drive}`)).text);
      await kept.simulateServerWrite(drive, 10, Buffer.from('defg'));
      await post(kept, `/servers/${server.server}/stop`);
      const before = keysOf((await call(kept, `/drives/${drive}/info`)).text);
      expect(before['write:bytes']).toBe(String(4096 + 3 + 4));
      await kept.close();
      const again = await startEmulator({ dataDir });
      try {
        const after = keysOf((await call(again, `/drives/${drive}/info`)).text);
        expect([after['write:bytes'], after['write:requests']]).toEqual([before['write:bytes'], '3']);
      } finally {
        await again.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
