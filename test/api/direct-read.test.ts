/**
 * Direct reads (src/api/direct-read.ts) against a plain node:http server each test scripts: bodies land in the
 * caller's buffer in place, connections are reused and replaced when the server closed them, and every odd
 * answer (cut off, longer or shorter than announced, not framed by Content-Length, silent) fails the way the
 * client's retry layer expects. Then the client over it: reads after the first go direct, and faults there
 * are retried.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/api/client.js';
import { DirectReads, UnsupportedFraming } from '../../src/api/direct-read.js';
import type { RetryEvent } from '../../src/api/retry.js';
import type { BodyTarget } from '../../src/api/exchange.js';

let server: Server | undefined;
const closers: (() => unknown)[] = [];

afterEach(async () => {
  for (const c of closers.splice(0)) await c();
  if (server) {
    server.closeAllConnections();
    await new Promise((r) => server!.close(r));
    server = undefined;
  }
});

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void | Promise<void>;

/** A server answering with `handle`; returns its port and the sockets requests came on, in order. */
async function serve(handle: Handler, opts: { keepAliveTimeout?: number } = {}): Promise<{ port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  server = createServer((req, res) => {
    sockets.push(req.socket);
    void handle(req, res, sockets.length);
  });
  if (opts.keepAliveTimeout !== undefined) server.keepAliveTimeout = opts.keepAliveTimeout;
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, sockets };
}

function reads(port: number, timeoutMs = 5000): DirectReads {
  const d = new DirectReads({ host: '127.0.0.1', port, hostHeader: `127.0.0.1:${port}`, connections: 2, timeoutMs });
  closers.push(() => d.close());
  return d;
}

const intoTarget = (into: Buffer) => (): BodyTarget => ({ into, tooLong: () => new Error('too long') });
const get = (path = '/read', signal = new AbortController().signal) => ({ method: 'GET' as const, path, headers: { authorization: 'Basic x' }, signal });
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Answers with `body` under its Content-Length, written in `pieces` with a pause after each. */
function inPieces(body: Buffer, pieces: number[] = []): Handler {
  return async (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length) });
    let at = 0;
    for (const n of pieces) {
      res.write(body.subarray(at, at + n));
      at += n;
      await pause(5);
    }
    res.end(body.subarray(at));
  };
}

describe('direct reads', () => {
  it('read each body into the caller buffer in place and reuse one connection for reads one after another', async () => {
    const body = randomBytes(300_000);
    const { port, sockets } = await serve(inPieces(body, [1, 4095, 70_000, 3]));
    const d = reads(port);
    for (let i = 0; i < 3; i++) {
      const into = Buffer.alloc(body.length, 0xee);
      const got = await d.exchange(get(), intoTarget(into));
      expect(got.status).toBe(200);
      expect(got.headers.get('content-type')).toBe('application/octet-stream');
      expect(got.body.buffer).toBe(into.buffer);
      expect(got.body.length).toBe(body.length);
      expect(into.equals(body)).toBe(true);
    }
    expect(new Set(sockets).size).toBe(1);
  });

  it('open at most `connections` connections: further reads wait for one to come free, or for their abort', async () => {
    const body = randomBytes(10_000);
    const answer = inPieces(body, [5000]);
    const { port, sockets } = await serve(answer);
    const d = reads(port);
    const results = await Promise.all(Array.from({ length: 6 }, () => d.exchange(get(), intoTarget(Buffer.alloc(body.length)))));
    expect(results.every((r) => r.body.equals(body))).toBe(true);
    expect(sockets).toHaveLength(6);
    expect(new Set(sockets).size).toBe(2);
    const controller = new AbortController();
    server!.removeAllListeners('request');
    server!.on('request', () => {}); // never answers: both connections stay busy
    const busy = [d.exchange(get(), intoTarget(Buffer.alloc(1))), d.exchange(get(), intoTarget(Buffer.alloc(1)))];
    const waiting = d.exchange(get('/read', controller.signal), intoTarget(Buffer.alloc(1)));
    setTimeout(() => controller.abort(), 20);
    await expect(waiting).rejects.toMatchObject({ code: 'UND_ERR_ABORTED' });
    d.close();
    server!.closeAllConnections();
    await Promise.allSettled(busy);
  });

  it('send the path, Host and the given headers', async () => {
    let seen: IncomingMessage | undefined;
    const { port } = await serve((req, res) => {
      seen = req;
      res.end('ok');
    });
    await reads(port).exchange(get('/api/drives/x/read/0/2'), intoTarget(Buffer.alloc(2)));
    expect(seen?.url).toBe('/api/drives/x/read/0/2');
    expect(seen?.headers.host).toBe(`127.0.0.1:${port}`);
    expect(seen?.headers.authorization).toBe('Basic x');
  });

  it('open a new connection when the server closed the idle one, and resend a read a reused one dropped unanswered', async () => {
    const body = randomBytes(1000);
    const answer = inPieces(body);
    const { port, sockets } = await serve((req, res, n) => {
      if (n === 1) res.on('finish', () => setTimeout(() => req.socket.end(), 10));
      if (n === 3) return void req.socket.destroy();
      return answer(req, res, n);
    });
    const d = reads(port);
    for (let i = 0; i < 3; i++) {
      const into = Buffer.alloc(1000);
      await d.exchange(get(), intoTarget(into));
      expect(into.equals(body)).toBe(true);
      await pause(50);
    }
    // 1 on the first connection, which the server then ended; 2 and 3 on the second, which dropped 3; 4 on a third.
    expect(sockets).toHaveLength(4);
    expect(new Set(sockets).size).toBe(3);
    expect(sockets[2]).toBe(sockets[1]);
  });

  it('fail a body cut off mid-way as a socket fault naming how much arrived', async () => {
    const { port } = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': '100000' });
      res.write(Buffer.alloc(40_000));
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const err = await reads(port).exchange(get(), intoTarget(Buffer.alloc(100_000))).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UND_ERR_SOCKET' });
    expect((err as Error).message).toMatch(/closed after \d+ of 100000 bytes of the body/);
  });

  it("fail an answer announced longer than the buffer with the target's error, writing nothing past the buffer", async () => {
    const { port } = await serve(inPieces(randomBytes(5000)));
    const backing = Buffer.alloc(5000, 0xee);
    const err = await reads(port).exchange(get(), () => ({ into: backing.subarray(0, 4000), tooLong: () => new Error('body too long') })).catch((e: unknown) => e);
    expect((err as Error).message).toBe('body too long');
    expect(backing.equals(Buffer.alloc(5000, 0xee))).toBe(true);
  });

  it('return an answer shorter than the buffer as it is, for the caller to call truncated', async () => {
    const body = randomBytes(700);
    const { port } = await serve(inPieces(body));
    const into = Buffer.alloc(1000, 0xee);
    const got = await reads(port).exchange(get(), intoTarget(into));
    expect(got.body.equals(body)).toBe(true);
    expect(into.subarray(700).equals(Buffer.alloc(300, 0xee))).toBe(true);
  });

  it('gather an error answer up to the limit and drop the rest, keeping the connection usable', async () => {
    const { port, sockets } = await serve((_req, res, n) => {
      if (n === 1) {
        res.writeHead(404, { 'x-elastic-error': 'missing no such drive', 'content-length': '50000' });
        return void res.end(Buffer.alloc(50_000, 0x61));
      }
      res.end('fine');
    });
    const d = reads(port);
    const got = await d.exchange(get(), () => ({ limit: 100 }));
    expect(got.status).toBe(404);
    expect(got.headers.get('x-elastic-error')).toBe('missing no such drive');
    expect(got.body.equals(Buffer.alloc(100, 0x61))).toBe(true);
    const into = Buffer.alloc(4);
    await d.exchange(get(), intoTarget(into));
    expect(into.toString()).toBe('fine');
    expect(new Set(sockets).size).toBe(1);
  });

  it('refuse an answer not framed by Content-Length as UnsupportedFraming', async () => {
    const { port } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(Buffer.alloc(50));
    });
    await expect(reads(port).exchange(get(), intoTarget(Buffer.alloc(50)))).rejects.toBeInstanceOf(UnsupportedFraming);
  });

  it('fail a silent server after the idle timeout, and an aborted read at once', async () => {
    const { port } = await serve(() => {});
    await expect(reads(port, 100).exchange(get(), intoTarget(Buffer.alloc(10)))).rejects.toMatchObject({ code: 'UND_ERR_HEADERS_TIMEOUT' });
    const controller = new AbortController();
    const pending = reads(port).exchange(get('/read', controller.signal), intoTarget(Buffer.alloc(10)));
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError', code: 'UND_ERR_ABORTED' });
  });

  it('through the client: reads after the first go direct, and one cut off there is retried without the secret in any error', async () => {
    const SECRET = 'Very-Secret-Key-123';
    const DRIVE = '3b5e3f4c-8a9d-4c1e-b2f3-0a1b2c3d4e5f';
    const body = randomBytes(200_000);
    const { port, sockets } = await serve((req, res, n) => {
      if (req.url!.endsWith('/info')) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        return void res.end(`drive ${DRIVE}\nname d\nsize ${body.length}\nstatus active\n`);
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length) });
      if (n === 3) {
        res.write(body.subarray(0, 1000));
        return void setTimeout(() => res.socket?.destroy(), 20);
      }
      res.end(body);
    });
    const errors: RetryEvent[] = [];
    const client = new ApiClient({
      url: `http://127.0.0.1:${port}/`,
      user: 'u',
      secret: SECRET,
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
      onRetry: (e) => errors.push(e),
    });
    closers.push(() => client.close());
    for (let i = 0; i < 3; i++) {
      const into = Buffer.alloc(body.length);
      expect((await client.readDrive(DRIVE, 0, body.length, into)).equals(body)).toBe(true);
    }
    expect(client.stats()).toMatchObject({ requests: 5, retries: 1, byWord: { connection: 1 } });
    // info and the first read on undici's connections; the later reads on direct ones (one replaced after the cut).
    const direct = sockets.slice(2);
    expect(direct.some((s) => sockets.slice(0, 2).includes(s))).toBe(false);
    expect(new Set(direct).size).toBe(2);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ kind: 'connection', error: expect.stringMatching(/closed after \d+ of 200000 bytes/) });
    expect(JSON.stringify(errors)).not.toContain(SECRET);
  });

  it('through the client: reads started together before the framing is known wait for the first one\'s head, then go direct', async () => {
    const DRIVE = '3b5e3f4c-8a9d-4c1e-b2f3-0a1b2c3d4e5f';
    const body = randomBytes(100_000);
    const arrived: { url: string; at: number; socket: Socket }[] = [];
    let firstHeadAt = Number.POSITIVE_INFINITY;
    const { port } = await serve(async (req, res) => {
      arrived.push({ url: req.url!, at: performance.now(), socket: req.socket });
      if (req.url!.endsWith('/info')) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        return void res.end(`drive ${DRIVE}\nname d\nsize ${body.length}\nstatus active\n`);
      }
      // The first read's answer comes late: reads sent meanwhile would all go through undici.
      if (arrived.length === 2) await pause(150);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length) });
      if (arrived.length >= 2 && firstHeadAt === Number.POSITIVE_INFINITY) firstHeadAt = performance.now();
      res.end(body);
    });
    const client = new ApiClient({ url: `http://127.0.0.1:${port}/`, user: 'u', secret: 's', retry: { maxAttempts: 1 } });
    closers.push(() => client.close());
    await client.driveInfo(DRIVE);
    const read = () => client.readDrive(DRIVE, 0, body.length, Buffer.alloc(body.length));
    for (const got of await Promise.all([read(), read(), read(), read()])) expect(got.equals(body)).toBe(true);
    expect(arrived).toHaveLength(5);
    const [info, first, ...later] = arrived;
    // Only the first read left before its answer's head; the others went out after it, on connections of
    // their own (not undici's, which carried the info call and the first read).
    for (const r of later) {
      expect(r.at).toBeGreaterThanOrEqual(firstHeadAt);
      expect([info!.socket, first!.socket]).not.toContain(r.socket);
    }
  });

  it('through the client: a server framing reads otherwise answers reads started together, all through undici', async () => {
    const DRIVE = '3b5e3f4c-8a9d-4c1e-b2f3-0a1b2c3d4e5f';
    const body = randomBytes(100_000);
    let reads = 0;
    const { port } = await serve((req, res) => {
      if (req.url!.endsWith('/info')) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        return void res.end(`drive ${DRIVE}\nname d\nsize ${body.length}\nstatus active\n`);
      }
      reads++;
      // No Content-Length: node:http frames the answer chunked.
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write(body.subarray(0, 1000));
      res.end(body.subarray(1000));
    });
    const client = new ApiClient({ url: `http://127.0.0.1:${port}/`, user: 'u', secret: 's', retry: { maxAttempts: 1 } });
    closers.push(() => client.close());
    await client.driveInfo(DRIVE);
    const read = () => client.readDrive(DRIVE, 0, body.length, Buffer.alloc(body.length));
    for (const got of await Promise.all([read(), read(), read(), read()])) expect(got.equals(body)).toBe(true);
    for (const got of await Promise.all([read(), read()])) expect(got.equals(body)).toBe(true);
    expect(reads).toBe(6);
  });
});
