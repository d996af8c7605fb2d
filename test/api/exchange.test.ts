/**
 * exchange(): a body of known length lands in the caller's buffer in place, piece by piece as the parser hands
 * it over, against a plain node:http server that writes the body in uneven pieces with pauses between them.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import type { Pool as UndiciPool } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { exchange } from '../../src/api/exchange.js';

const Pool = createRequire(import.meta.url)('undici/lib/dispatcher/pool.js') as typeof UndiciPool;

let server: Server | undefined;
let pool: UndiciPool | undefined;

afterEach(async () => {
  await pool?.close();
  pool = undefined;
  if (server) {
    server.closeAllConnections();
    await new Promise((r) => server!.close(r));
    server = undefined;
  }
});

/** A server answering every request with `body`, written in `pieces` with a pause after each. */
async function serveInPieces(body: Buffer, pieces: number[]): Promise<UndiciPool> {
  server = createServer(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length) });
    let at = 0;
    for (const n of pieces) {
      res.write(body.subarray(at, at + n));
      at += n;
      await new Promise((r) => setTimeout(r, 5));
    }
    res.end(body.subarray(at));
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  pool = new Pool(`http://127.0.0.1:${port}`, { connections: 1 });
  return pool;
}

const get = { method: 'GET' as const, path: '/read', headers: {} };

describe('exchange into a buffer', () => {
  it('puts every piece of the body at its own offset of the caller buffer, and returns that buffer', async () => {
    const body = randomBytes(300_000);
    const p = await serveInPieces(body, [1, 4095, 70_000, 3, 100_000]);
    const into = Buffer.alloc(body.length, 0xee);
    const got = await exchange(p, { ...get, signal: new AbortController().signal }, () => ({ into, tooLong: () => new Error('too long') }));
    expect(got.status).toBe(200);
    expect(got.body).toBe(into);
    expect(into.equals(body)).toBe(true);
  });

  it('leaves the bytes past a short body untouched and returns only what arrived', async () => {
    const body = randomBytes(1000);
    const p = await serveInPieces(body, [10, 490]);
    const into = Buffer.alloc(4000, 0xee);
    const got = await exchange(p, { ...get, signal: new AbortController().signal }, () => ({ into, tooLong: () => new Error('too long') }));
    expect(got.body.equals(body)).toBe(true);
    expect(got.body.buffer).toBe(into.buffer);
    expect(into.subarray(1000).equals(Buffer.alloc(3000, 0xee))).toBe(true);
  });

  it('fails with the target error when the body is longer than the buffer, without writing past it', async () => {
    const body = randomBytes(5000);
    const p = await serveInPieces(body, [3000]);
    const backing = Buffer.alloc(5000, 0xee);
    const into = backing.subarray(0, 4000);
    const err = await exchange(p, { ...get, signal: new AbortController().signal }, () => ({ into, tooLong: () => new Error('body too long') })).catch((e: unknown) => e);
    expect((err as Error).message).toBe('body too long');
    expect(backing.subarray(4000).equals(Buffer.alloc(1000, 0xee))).toBe(true);
  });
});
