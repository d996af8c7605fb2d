import { request as httpRequest } from 'node:http';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { basicAuth, call, createDrive, keysOf, post } from './client.js';

const MiB = 1024 * 1024;
let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ maxWriteBytes: 5 * MiB });
});
afterAll(async () => {
  await emu.close();
});


describe('reads and writes', () => {
  it('reads a new drive as all zeros (sparse file)', async () => {
    const id = await createDrive(emu, '8M');
    const a = await call(emu, `/drives/${id}/read/4M/4M`);
    expect(a.status).toBe(200);
    expect(a.headers['content-type']).toBe('application/octet-stream');
    expect(a.body.length).toBe(4 * MiB);
    expect(a.body.equals(Buffer.alloc(4 * MiB))).toBe(true);
  });

  it('writes raw bytes at an offset and reads them back with GET and POST, unaligned', async () => {
    const id = await createDrive(emu, '1M');
    const data = randomBytes(1000);
    const w = await call(emu, `/drives/${id}/write/12345`, { method: 'POST', body: data });
    expect(w.status).toBe(204);
    expect((await call(emu, `/drives/${id}/read/12345/1000`)).body.equals(data)).toBe(true);
    const three = await post(emu, `/drives/${id}/read/12346/3`);
    expect(three.body.equals(data.subarray(1, 4))).toBe(true);
  });

  it('inflates gzip writes and counts the offset in drive bytes', async () => {
    const id = await createDrive(emu, '8M');
    const data = Buffer.alloc(4 * MiB, 'drivesnap ');
    const gz = gzipSync(data);
    expect(gz.length).toBeLessThan(data.length / 10);
    const w = await call(emu, `/drives/${id}/write/${3 * MiB}`, {
      method: 'POST',
      body: gz,
      headers: { 'content-encoding': 'gzip' },
    });
    expect(w.status).toBe(204);
    expect((await call(emu, `/drives/${id}/read/3M/4M`)).body.equals(data)).toBe(true);
    expect((await call(emu, `/drives/${id}/read/0/3M`)).body.equals(Buffer.alloc(3 * MiB))).toBe(true);
  });

  it('defaults the write offset to 0', async () => {
    const id = await createDrive(emu, '4k');
    expect((await call(emu, `/drives/${id}/write`, { method: 'POST', body: Buffer.from('abc') })).status).toBe(204);
    expect((await call(emu, `/drives/${id}/read/0/3`)).text).toBe('abc');
  });

  it('refuses reads over 4 MiB and reads starting at or past the end; shortens one running over the end', async () => {
    const id = await createDrive(emu, '8M');
    const big = await call(emu, `/drives/${id}/read/0/${4 * MiB + 1}`);
    expect([big.status, big.error]).toEqual([400, 'usage']);
    const atEnd = await call(emu, `/drives/${id}/read/8M/1`);
    expect([atEnd.status, atEnd.error]).toEqual([400, 'usage']);
    const over = await call(emu, `/drives/${id}/read/${8 * MiB - 10}/4M`);
    expect([over.status, over.body.length]).toEqual([200, 10]);
    const bad = await call(emu, `/drives/${id}/read/x/4M`);
    expect([bad.status, bad.error]).toEqual([400, 'usage']);
  });

  it('answers 507 full for a write running past the end, and writes nothing', async () => {
    const id = await createDrive(emu, '4k');
    const w = await call(emu, `/drives/${id}/write/4000`, { method: 'POST', body: Buffer.alloc(100, 1) });
    expect([w.status, w.error]).toEqual([507, 'full']);
    expect((await call(emu, `/drives/${id}/read/4000/96`)).body.equals(Buffer.alloc(96))).toBe(true);
  });

  it('refuses a chunked write with 400 usage', async () => {
    const id = await createDrive(emu, '1M');
    const url = new URL(`/drives/${id}/write/0`, emu.url);
    const answer = await new Promise<{ status: number; error: unknown }>((resolve, reject) => {
      const req = httpRequest(url, { method: 'POST', headers: { authorization: basicAuth(emu.accounts[0]!) } }, (res) => {
        res.resume();
        resolve({ status: res.statusCode!, error: res.headers['x-elastic-error'] });
      });
      req.on('error', reject);
      // No Content-Length: node sends Transfer-Encoding: chunked.
      req.write(Buffer.alloc(1000, 7));
      req.end(Buffer.alloc(1000, 7));
    });
    expect(answer).toEqual({ status: 400, error: 'usage' });
    expect((await call(emu, `/drives/${id}/read/0/10`)).body.equals(Buffer.alloc(10))).toBe(true);
  });

  it('refuses writes beyond the configured cap (raw and inflated) and invalid gzip', async () => {
    const id = await createDrive(emu, '16M');
    const raw = await call(emu, `/drives/${id}/write/0`, { method: 'POST', body: Buffer.alloc(5 * MiB + 1) });
    expect([raw.status, raw.error]).toEqual([400, 'usage']);
    const bomb = gzipSync(Buffer.alloc(6 * MiB));
    const inflated = await call(emu, `/drives/${id}/write/0`, { method: 'POST', body: bomb, headers: { 'content-encoding': 'gzip' } });
    expect([inflated.status, inflated.error]).toEqual([400, 'usage']);
    const junk = await call(emu, `/drives/${id}/write/0`, {
      method: 'POST',
      body: Buffer.from('not gzip'),
      headers: { 'content-encoding': 'gzip' },
    });
    expect([junk.status, junk.error]).toEqual([400, 'usage']);
    const ok = await call(emu, `/drives/${id}/write/0`, { method: 'POST', body: Buffer.alloc(5 * MiB, 1) });
    expect(ok.status).toBe(204);
  });

  it('counts read and write bytes and requests per drive and in the emulator stats', async () => {
    const id = await createDrive(emu, '1M');
    emu.resetStats();
    await call(emu, `/drives/${id}/write/0`, { method: 'POST', body: Buffer.alloc(500, 1) });
    await call(emu, `/drives/${id}/write/0`, { method: 'POST', body: gzipSync(Buffer.alloc(700, 2)), headers: { 'content-encoding': 'gzip' } });
    await call(emu, `/drives/${id}/read/0/300`);
    const info = keysOf((await call(emu, `/drives/${id}/info`)).text);
    expect(info).toMatchObject({
      'read:bytes': String(4096 + 300),
      'read:requests': '2',
      'write:bytes': String(4096 + 1200),
      'write:requests': '3',
    });
    expect(emu.stats()).toMatchObject({ readRequests: 1, readBytes: 300, writeRequests: 2, writeBytes: 1200 });
    expect(emu.stats().requests).toBe(4);
  });

  it('keeps concurrent 4 MiB reads and writes of different ranges consistent', async () => {
    const id = await createDrive(emu, '32M');
    const chunks = Array.from({ length: 8 }, () => randomBytes(4 * MiB));
    await Promise.all(chunks.map((c, i) => call(emu, `/drives/${id}/write/${i * 4}M`, { method: 'POST', body: c })));
    const back = await Promise.all(chunks.map((_, i) => call(emu, `/drives/${id}/read/${i * 4}M/4M`)));
    for (const [i, b] of back.entries()) expect(b.body.equals(chunks[i]!)).toBe(true);
  });
});
