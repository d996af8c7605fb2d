import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, EmulatorStateError, startEmulator } from '../../src/emulator/index.js';
import { StateSaver } from '../../src/emulator/persistence.js';
import { emptyState } from '../../src/emulator/state.js';
import { call, createDrive, keysOf, post, waitImaged } from './client.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'drivesnap-emu-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('persistence', () => {
  it('keeps accounts, drives, data, counters, servers and resources across a restart on the same data dir', async () => {
    let emu: Emulator = await startEmulator({ dataDir: dir });
    const account = emu.accounts[0]!;
    const id = await createDrive(emu, '1G', { extra: 'tags keep\n' });
    await call(emu, `/drives/${id}/write/512M`, { method: 'POST', body: Buffer.from('persisted') });
    await call(emu, `/drives/${id}/read/512M/9`);
    const server = keysOf((await post(emu, '/servers/create/stopped', `name s\ncpu 1000\nmem 256\npersistent true\nide:0:0 ${id}`)).text);
    const ip = keysOf((await post(emu, '/resources/ip/create', 'name ip')).text);
    await emu.close();
    // A 1 GiB drive holding 9 bytes stays sparse on disk.
    const file = await stat(join(dir, 'drives', `${id}.img`));
    expect(file.size).toBe(1024 ** 3);
    expect(file.blocks * 512).toBeLessThan(1024 * 1024);

    emu = await startEmulator({ dataDir: dir });
    try {
      expect(emu.accounts).toEqual([account]);
      const info = keysOf((await call(emu, `/drives/${id}/info`)).text);
      expect(info).toMatchObject({ tags: 'keep', 'write:requests': '2', 'read:requests': '2', 'read:bytes': String(4096 + 9) });
      expect((await call(emu, `/drives/${id}/read/512M/9`)).text).toBe('persisted');
      expect(keysOf((await call(emu, `/servers/${server.server}/info`)).text).status).toBe('stopped');
      expect((await call(emu, `/resources/ip/${ip.resource}/info`)).status).toBe(200);
    } finally {
      await emu.close();
    }
  });

  it('runs an imaging job interrupted by a restart again to completion', async () => {
    const sub = join(dir, 'imaging');
    let emu = await startEmulator({ dataDir: sub, imagingBytesPerSec: 1024 * 1024 });
    const src = await createDrive(emu, '4M');
    await call(emu, `/drives/${src}/write/4194300`, { method: 'POST', body: Buffer.from('tail') });
    const dst = await createDrive(emu, '4M');
    expect((await post(emu, `/drives/${dst}/image/${src}`)).status).toBe(204);
    await emu.close();
    emu = await startEmulator({ dataDir: sub });
    try {
      expect(keysOf((await call(emu, `/drives/${dst}/info`)).text).imaging).toBeDefined();
      await waitImaged(emu, dst);
      expect((await call(emu, `/drives/${dst}/read/4194300/4`)).text).toBe('tail');
    } finally {
      await emu.close();
    }
  });

  it('refuses a state file it cannot read (another version, not JSON) with EMULATOR_STATE_UNREADABLE, leaving it as it was', async () => {
    for (const [name, text, why] of [
      ['future', '{"version":2,"drives":{}}', 'unknown state version 2'],
      ['garbled', '{"version":1,"dri', 'not valid JSON'],
    ] as const) {
      const sub = join(dir, name);
      await mkdir(sub);
      await writeFile(join(sub, 'state.json'), text);
      const err = await startEmulator({ dataDir: sub }).then(
        (emu) => emu.close().then(() => undefined),
        (e: unknown) => e,
      );
      expect(err, name).toBeInstanceOf(EmulatorStateError);
      expect((err as EmulatorStateError).code).toBe('EMULATOR_STATE_UNREADABLE');
      expect((err as Error).message).toContain(join(sub, 'state.json'));
      expect((err as Error).message).toContain(why);
      expect((err as Error).message).toContain('--data');
      expect(await readFile(join(sub, 'state.json'), 'utf8')).toBe(text);
    }
  });

  it('removes its temp data dir on close when none was given', async () => {
    const emu = await startEmulator();
    await createDrive(emu, '1M');
    await emu.close();
    await expect(stat(emu.dataDir)).rejects.toThrow();
  });
});

describe('StateSaver', () => {
  it('resolves each of several concurrent saves only once a write covering its change is on disk', async () => {
    const sub = join(dir, 'saver');
    await mkdir(sub);
    const state = emptyState();
    const saver = new StateSaver(sub, state);
    const onDisk = () => (JSON.parse(readFileSync(join(sub, 'state.json'), 'utf8')) as typeof state).ipCursors.static;
    const checked: Promise<number>[] = [];
    for (let change = 1; change <= 4; change++) {
      state.ipCursors.static = change;
      // Read synchronously the moment the save resolves: a write still in flight cannot land first.
      checked.push(saver.save().then(onDisk));
    }
    const seen = await Promise.all(checked);
    for (const [i, value] of seen.entries()) expect(value, `save ${i + 1}`).toBeGreaterThanOrEqual(i + 1);
    await saver.close();
  });
});
