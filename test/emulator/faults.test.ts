import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultInjector, callMatches } from '../../src/emulator/faults.js';
import { type Emulator, parseFaultSpec, startEmulator } from '../../src/emulator/index.js';
import { UsageError } from '../../src/errors.js';
import { call, createDrive, keysOf } from './client.js';

describe('fault spec', () => {
  it('parses every key, fractions and percentages, sizes, and calls lists', () => {
    expect(parseFaultSpec('busy=0.1,system=5%,reset=0.05,latency=20,slow=1M,seed=7,calls=read+write')).toEqual({
      busyRate: 0.1,
      systemRate: 0.05,
      resetRate: 0.05,
      latencyMs: 20,
      slowBodyBytesPerSec: 1048576,
      seed: 7,
      calls: ['read', 'write'],
    });
    expect(parseFaultSpec('')).toEqual({});
  });

  it('refuses unknown keys, rates outside 0..1, and rates summing past 1', () => {
    for (const bad of ['bogus=1', 'busy=2', 'busy', 'busy=0.6,system=0.6', 'latency=-3']) {
      expect(() => parseFaultSpec(bad), bad).toThrow(UsageError);
    }
  });

  it('matches call kinds by full name or action word', () => {
    expect(callMatches(['read'], 'drives.read')).toBe(true);
    expect(callMatches(['drives.write'], 'drives.write')).toBe(true);
    expect(callMatches(['read'], 'drives.info')).toBe(false);
    expect(callMatches(undefined, 'servers.start')).toBe(true);
  });

  it('draws the same faults from the same seed, and different ones from another', () => {
    const draw = (seed: number) => {
      const f = new FaultInjector({ busyRate: 0.3, systemRate: 0.2, resetRate: 0.2, seed });
      return Array.from({ length: 50 }, () => f.decide('drives.read').action);
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(new Set(draw(42))).toEqual(new Set(['none', 'busy', 'system', 'reset']));
  });
});

type Outcome = string;

async function outcome(emu: Emulator, path: string, body?: Buffer): Promise<Outcome> {
  try {
    const a = await call(emu, path, body ? { method: 'POST', body } : {});
    return a.error ? `${a.status} ${a.error}` : `${a.status} ${a.body.length}`;
  } catch {
    return 'reset';
  }
}

describe('fault injection over HTTP', () => {
  let emu: Emulator;
  let drive: string;
  beforeAll(async () => {
    emu = await startEmulator();
    drive = await createDrive(emu, '4M');
  });
  afterAll(async () => {
    await emu.close();
  });

  it('replays the same sequence of busy, system and reset answers from a seed, only on selected calls', async () => {
    const run = async () => {
      emu.setFaults({ busyRate: 0.25, systemRate: 0.25, resetRate: 0.25, seed: 1234, calls: ['read'] });
      const seen: Outcome[] = [];
      for (let i = 0; i < 24; i++) {
        seen.push(await outcome(emu, `/drives/${drive}/read/0/64k`));
        // Not a selected call: never faulted, and does not consume the sequence.
        expect(await outcome(emu, `/drives/${drive}/info`)).toMatch(/^200 /);
      }
      return seen;
    };
    emu.resetStats();
    const first = await run();
    const second = await run();
    expect(second).toEqual(first);
    expect(new Set(first)).toEqual(new Set(['200 65536', '409 busy', '500 system', 'reset']));
    expect(emu.stats().faultsInjected).toBe(2 * first.filter((o) => o !== '200 65536').length);
    emu.setFaults(undefined);
    expect(await outcome(emu, `/drives/${drive}/read/0/64k`)).toBe('200 65536');
  });

  it('resets writes both before and after applying them, so a retry at the same offset is what saves the data', async () => {
    emu.setFaults({ resetRate: 1, seed: 5, calls: ['write'] });
    const applied: boolean[] = [];
    for (let i = 0; i < 12; i++) {
      const marker = Buffer.from(`w${String(i).padStart(3, '0')}`);
      expect(await outcome(emu, `/drives/${drive}/write/${i * 4}`, marker)).toBe('reset');
      emu.setFaults(undefined);
      applied.push((await call(emu, `/drives/${drive}/read/${i * 4}/4`)).body.equals(marker));
      emu.setFaults({ resetRate: 1, seed: 5 + i + 1, calls: ['write'] });
    }
    expect(applied).toContain(true);
    expect(applied).toContain(false);
    emu.setFaults(undefined);
  });

  it('delivers complete bodies when slowed, and adds latency without failing calls', async () => {
    const data = Buffer.alloc(8192, 9);
    await call(emu, `/drives/${drive}/write/0`, { method: 'POST', body: data });
    emu.setFaults({ slowBodyBytesPerSec: 64 * 1024, latencyMs: 5 });
    const a = await call(emu, `/drives/${drive}/read/0/8k`);
    expect(a.body.equals(data)).toBe(true);
    expect(keysOf((await call(emu, `/drives/${drive}/info`)).text).drive).toBe(drive);
    emu.setFaults(undefined);
  });

  it('takes faults from the start options', async () => {
    const faulty = await startEmulator({ faults: parseFaultSpec('busy=1,seed=3,calls=list') });
    try {
      const a = await call(faulty, '/drives/list');
      expect([a.status, a.error]).toEqual([409, 'busy']);
      expect((await call(faulty, '/drives/info')).status).toBe(200);
    } finally {
      await faulty.close();
    }
  });
});
