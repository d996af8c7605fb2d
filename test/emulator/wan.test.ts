import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, type EmulatorAccount, startEmulator } from '../../src/emulator/index.js';
import { call, createDrive } from './client.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const me: EmulatorAccount = { user: '66666666-6666-4666-8666-666666666666', secret: 'me' };
const other: EmulatorAccount = { user: '77777777-7777-4777-8777-777777777777', secret: 'other' };
let emu: Emulator;
let mine: string;
let theirs: string;
beforeAll(async () => {
  emu = await startEmulator({ accounts: [me, other] });
  mine = await createDrive(emu, '4M');
  theirs = await createDrive(emu, '4M', { account: other });
});
afterAll(async () => {
  await emu.close();
});

/** Runs fn and returns how long it took and when it ended (ms, performance.now). */
async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number; endedAt: number }> {
  const started = performance.now();
  const value = await fn();
  const endedAt = performance.now();
  return { value, ms: endedAt - started, endedAt };
}

describe('simulated WAN', () => {
  it('adds the latency to every request, set at run time, and takes it from the start options', async () => {
    emu.setWan({ latencyMs: 200 });
    try {
      const list = await timed(() => call(emu, '/drives/list'));
      expect(list.value.status).toBe(200);
      // Lower bounds only (a timer may fire a hair early): the answer never comes before the latency.
      expect(list.ms).toBeGreaterThanOrEqual(190);
      const refused = await timed(() => call(emu, '/drives/list', { anonymous: true }));
      expect([refused.value.status, refused.ms >= 190]).toEqual([401, true]);
    } finally {
      emu.setWan(undefined);
    }
    const slow = await startEmulator({ wan: { latencyMs: 200 } });
    try {
      expect((await timed(() => call(slow, '/drives/list'))).ms).toBeGreaterThanOrEqual(190);
    } finally {
      await slow.close();
    }
  });

  it('paces response and request bodies to the account\'s bandwidth, delivering every byte', async () => {
    const data = randomBytes(512 * KiB);
    emu.setWan({ bandwidthBytesPerSec: MiB });
    try {
      // 512 KiB at 1 MiB/s, less the 64 KiB that may pass at once: at least 437 ms each way.
      const write = await timed(() => call(emu, `/drives/${mine}/write/0`, { method: 'POST', body: data }));
      expect([write.value.status, write.ms >= 400]).toEqual([204, true]);
      const read = await timed(() => call(emu, `/drives/${mine}/read/0/512k`));
      expect(read.value.body.equals(data)).toBe(true);
      expect(read.ms).toBeGreaterThanOrEqual(400);
    } finally {
      emu.setWan(undefined);
    }
  });

  it('shares the bandwidth between the connections of one account, not between accounts', async () => {
    emu.setWan({ bandwidthBytesPerSec: MiB });
    try {
      const started = performance.now();
      const [a1, a2, b] = await Promise.all([
        timed(() => call(emu, `/drives/${mine}/read/0/512k`)),
        timed(() => call(emu, `/drives/${mine}/read/1M/512k`)),
        timed(() => call(emu, `/drives/${theirs}/read/0/256k`, { account: other })),
      ]);
      for (const r of [a1, a2, b]) expect(r.value.status).toBe(200);
      // One account's two reads share 1 MiB/s: 1 MiB less the first 64 KiB takes at least 937 ms; had
      // each connection its own 1 MiB/s, both would end after about 440 ms.
      expect(Math.max(a1.endedAt, a2.endedAt) - started).toBeGreaterThanOrEqual(900);
      // The other account has a link of its own: its smaller read is not queued behind them.
      expect(b.endedAt).toBeLessThan(Math.min(a1.endedAt, a2.endedAt));
    } finally {
      emu.setWan(undefined);
    }
  });

  it('refuses a bandwidth that is not positive', () => {
    expect(() => emu.setWan({ bandwidthBytesPerSec: 0 })).toThrow(RangeError);
    expect(() => emu.setWan({ latencyMs: -1 })).toThrow(RangeError);
  });
});
