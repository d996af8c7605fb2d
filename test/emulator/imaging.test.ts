import { gunzipSync, gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { call, createDrive, keysOf, post, waitImaged } from './client.js';

const DEBIAN = '980cf63c-f21e-4382-997b-6541d5809629';
const MiB = 1024 * 1024;
let emu: Emulator;
beforeAll(async () => {
  // Slow enough that a 4 MiB job takes about two seconds and its progress can be watched.
  emu = await startEmulator({ imagingBytesPerSec: 2 * MiB });
});
afterAll(async () => {
  await emu.close();
});

async function readAll(id: string, size: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let o = 0; o < size; o += 4 * MiB) parts.push((await call(emu, `/drives/${id}/read/${o}/${Math.min(4 * MiB, size - o)}`)).body);
  return Buffer.concat(parts);
}

describe('imaging', () => {
  it('expands a library gzip image with /gunzip, reporting progress, and claims both drives meanwhile', async () => {
    const lib = keysOf((await call(emu, `/drives/${DEBIAN}/info`)).text);
    const rawsize = Number(lib.rawsize);
    const gz = (await call(emu, `/drives/${DEBIAN}/read/0/${lib.size}`)).body;
    const id = await createDrive(emu, rawsize + MiB);
    expect((await post(emu, `/drives/${id}/image/${DEBIAN}/gunzip`)).status).toBe(204);
    const during = keysOf((await call(emu, `/drives/${id}/info`)).text);
    expect(during.imaging).toMatch(/^(\d+%|queued)$/);
    const w = await call(emu, `/drives/${id}/write/0`, { method: 'POST', body: Buffer.from('x') });
    expect([w.status, w.error]).toEqual([409, 'busy']);
    const d = await post(emu, `/drives/${id}/destroy`);
    expect([d.status, d.error]).toEqual([409, 'busy']);
    const resize = await post(emu, `/drives/${id}/set`, 'size 20M');
    expect([resize.status, resize.error]).toEqual([409, 'busy']);
    const seen = await waitImaged(emu, id);
    const percents = seen.filter((s) => s.endsWith('%')).map((s) => Number.parseInt(s, 10));
    expect(percents.length).toBeGreaterThan(1);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect((await readAll(id, rawsize)).equals(gunzipSync(gz))).toBe(true);
    expect((await call(emu, `/drives/${id}/read/${rawsize}/1M`)).body.equals(Buffer.alloc(MiB))).toBe(true);
  });

  it('copies a drive as is, and compresses it with /gzip', async () => {
    const src = await createDrive(emu, '1M');
    const data = Buffer.concat([randomBytes(1000), Buffer.alloc(MiB - 1000, 'z')]);
    await call(emu, `/drives/${src}/write/0`, { method: 'POST', body: data });
    const copy = await createDrive(emu, '1M');
    const packed = await createDrive(emu, '1M');
    expect((await post(emu, `/drives/${copy}/image/${src}`)).status).toBe(204);
    expect((await post(emu, `/drives/${packed}/image/${src}/gzip`)).status).toBe(204);
    await waitImaged(emu, copy);
    await waitImaged(emu, packed);
    expect((await readAll(copy, MiB)).equals(data)).toBe(true);
    expect(gunzipSync(await readAll(packed, MiB), { finishFlush: 2 }).subarray(0, MiB).equals(data)).toBe(true);
  });

  it('refuses an image into a drive smaller than the source (507) and from an unknown drive (404)', async () => {
    const small = await createDrive(emu, '64k');
    const big = await createDrive(emu, '1M');
    const a = await post(emu, `/drives/${small}/image/${big}`);
    expect([a.status, a.error]).toEqual([507, 'full']);
    const b = await post(emu, `/drives/${big}/image/00000000-0000-4000-8000-00000000beef`);
    expect([b.status, b.error]).toEqual([404, 'missing']);
  });

  it('queues jobs beyond the concurrency limit and shows `imaging queued`', async () => {
    const src = await createDrive(emu, '4M');
    await call(emu, `/drives/${src}/write/0`, { method: 'POST', body: gzipSync(Buffer.alloc(4 * MiB, 3)), headers: { 'content-encoding': 'gzip' } });
    const dsts = await Promise.all([1, 2, 3].map(() => createDrive(emu, '4M')));
    for (const d of dsts) expect((await post(emu, `/drives/${d}/image/${src}`)).status).toBe(204);
    const states = await Promise.all(dsts.map(async (d) => keysOf((await call(emu, `/drives/${d}/info`)).text).imaging));
    expect(states).toContain('queued');
    const srcWrite = await call(emu, `/drives/${src}/write/0`, { method: 'POST', body: Buffer.from('x') });
    expect([srcWrite.status, srcWrite.error]).toEqual([409, 'busy']);
    for (const d of dsts) await waitImaged(emu, d);
    const last = await call(emu, `/drives/${dsts[2]}/read/4194000/4`);
    expect([...last.body]).toEqual([3, 3, 3, 3]);
  });
});

describe('imaging info styles', () => {
  it('shows `imaging true` on /info and the percentage on /info/full when configured as flag', async () => {
    const flagged = await startEmulator({ imagingBytesPerSec: MiB, imagingInfo: 'flag' });
    try {
      const src = await createDrive(flagged, '2M');
      const dst = await createDrive(flagged, '2M');
      expect((await post(flagged, `/drives/${dst}/image/${src}`)).status).toBe(204);
      expect(keysOf((await call(flagged, `/drives/${dst}/info`)).text).imaging).toBe('true');
      expect(keysOf((await call(flagged, `/drives/${dst}/info/full`)).text).imaging).toMatch(/^\d+%$/);
    } finally {
      await flagged.close();
    }
  });
});
