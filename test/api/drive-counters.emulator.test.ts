/**
 * The drive's I/O counters as the client reads them from the emulator: present on every drive, and moved
 * by every write path (API write, imaging into the drive, a running server's own write), so drivesnap
 * never sees a written drive as unchanged.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/api/client.js';
import type { IoCounters } from '../../src/api/drive-info.js';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { MiB } from '../../src/util/size.js';

let emu: Emulator;
let c: ApiClient;

beforeAll(async () => {
  emu = await startEmulator({ accounts: [{ user: randomUUID(), secret: 'counter-secret-value' }] });
  const a = emu.accounts[0]!;
  c = new ApiClient({ url: emu.url, user: a.user, secret: a.secret, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
});
afterAll(async () => {
  await c?.close();
  await emu?.close();
});

async function counters(uuid: string): Promise<IoCounters> {
  const info = await c.driveInfo(uuid);
  expect(info.ioCounters, 'the emulator always sends all four counters').toBeDefined();
  return info.ioCounters!;
}

describe('drive I/O counters through the client', () => {
  it('an API write moves write:bytes and write:requests; a read moves only read:*', async () => {
    const d = await c.createDrive({ name: 'api-write', size: MiB });
    const before = await counters(d.uuid);
    await c.writeDrive(d.uuid, 4096, Buffer.alloc(8192, 7));
    const afterWrite = await counters(d.uuid);
    expect(afterWrite.writeBytes - before.writeBytes).toBe(8192);
    expect(afterWrite.writeRequests - before.writeRequests).toBe(1);
    await c.readDrive(d.uuid, 0, 4096);
    const afterRead = await counters(d.uuid);
    expect(afterRead.readBytes - afterWrite.readBytes).toBe(4096);
    expect(afterRead.writeBytes).toBe(afterWrite.writeBytes);
    await c.destroyDrive(d.uuid);
  });

  it('imaging into a drive moves its write counters', async () => {
    const src = await c.createDrive({ name: 'image-src', size: MiB });
    await c.writeDrive(src.uuid, 0, Buffer.alloc(MiB, 3));
    const dst = await c.createDrive({ name: 'image-dst', size: MiB });
    const before = await counters(dst.uuid);
    await c.imageDrive(dst.uuid, src.uuid);
    await c.waitForImaging(dst.uuid, undefined, { intervalMs: 20, timeoutMs: 30_000 });
    const after = await counters(dst.uuid);
    expect(after.writeBytes).toBeGreaterThan(before.writeBytes);
    expect(after.writeRequests).toBeGreaterThan(before.writeRequests);
    await c.destroyDrive(dst.uuid);
    await c.destroyDrive(src.uuid);
  });

  it("a running server's own write moves the counters the client sees", async () => {
    const d = await c.createDrive({ name: 'guest-write', size: MiB });
    const s = await c.createServer({ name: 'guest', cpu: 1000, mem: 512, 'ide:0:0': d.uuid });
    const before = await counters(d.uuid);
    await emu.simulateServerWrite(d.uuid, 0, Buffer.alloc(512, 9));
    const after = await counters(d.uuid);
    expect(after.writeBytes - before.writeBytes).toBe(512);
    expect(after.writeRequests - before.writeRequests).toBe(1);
    await c.stopServer(s.uuid);
    await c.waitForServerState(s.uuid, 'destroyed', { intervalMs: 20 });
    await c.destroyDrive(d.uuid);
  });
});
