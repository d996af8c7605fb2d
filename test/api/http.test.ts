/**
 * What the client puts on the wire and how it reads odd answers, against a plain node:http server each
 * test scripts: pre-emptive auth, Content-Length (never chunked) writes, truncated bodies, missing error
 * headers, which calls are resent after a lost answer, and that no secret reaches an error.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/api/client.js';
import { ApiConnectionError, ApiError } from '../../src/api/errors.js';

const USER = '9d8c7b6a-5f4e-4d3c-2b1a-0f9e8d7c6b5a';
const SECRET = 'Very-Secret-Key-123';
const DRIVE = '3b5e3f4c-8a9d-4c1e-b2f3-0a1b2c3d4e5f';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

let server: Server | undefined;
const clients: ApiClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  if (server) {
    server.closeAllConnections();
    await new Promise((r) => server!.close(r));
    server = undefined;
  }
});

/** Starts a server answering with `handle`; returns a client for it and the requests seen. */
async function serve(
  handle: (req: Seen, res: ServerResponse, n: number) => void,
  opts: { format?: 'text' | 'json'; maxAttempts?: number; minimumRate?: { bytesPerSecond: number; baseMs: number } } = {},
): Promise<{ client: ApiClient; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) };
      seen.push(s);
      handle(s, res, seen.length);
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const client = new ApiClient({
    url: `http://127.0.0.1:${port}/api/`,
    user: USER,
    secret: SECRET,
    format: opts.format ?? 'text',
    retry: { maxAttempts: opts.maxAttempts ?? 4, baseDelayMs: 1, maxDelayMs: 2 },
    ...(opts.minimumRate ? { minimumRate: opts.minimumRate } : {}),
  });
  clients.push(client);
  return { client, seen };
}

function info(res: ServerResponse, size = 1024): void {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(`drive ${DRIVE}\nname d\nsize ${size}\nstatus active\nuser ${USER}`);
}

function fail(res: ServerResponse, status: number, word?: string): void {
  res.writeHead(status, { 'content-type': 'text/plain', ...(word ? { 'x-elastic-error': word } : {}) });
  res.end('something went wrong\n');
}

describe('requests on the wire', () => {
  it('sends Basic auth with the first request, below the base path, asking for the chosen format', async () => {
    const { client, seen } = await serve((_s, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify([{ drive: 'a' }, { drive: 'b' }]));
    }, { format: 'json' });
    expect(await client.listDrives()).toEqual(['a', 'b']);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.url).toBe('/api/drives/list');
    expect(seen[0]!.headers.authorization).toBe('Basic ' + Buffer.from(`${USER}:${SECRET}`).toString('base64'));
    expect(seen[0]!.headers.accept).toBe('application/json');
  });

  it('sends key/value bodies as text lines or JSON with plain integer sizes', async () => {
    const { client, seen } = await serve((_s, res) => info(res, 10 * 1024 ** 3));
    await client.createDrive({ name: 'my disk', size: 10 * 1024 ** 3, tags: ['a', 'b'] });
    expect(seen[0]!.headers['content-type']).toBe('text/plain');
    expect(seen[0]!.body.toString()).toBe('name my disk\nsize 10737418240\ntags a b\n');
  });

  it('writes with Content-Length, never chunked, and Content-Encoding gzip when compressing', async () => {
    const { client, seen } = await serve((_s, res) => {
      res.writeHead(204);
      res.end();
    });
    const raw = Buffer.from('hello drive '.repeat(1000));
    await client.writeDrive(DRIVE, 4096, raw);
    await client.writeDriveCompressing(DRIVE, 0, raw);
    expect(seen.map((s) => [s.method, s.url])).toEqual([
      ['POST', `/api/drives/${DRIVE}/write/4096`],
      ['POST', `/api/drives/${DRIVE}/write/0`],
    ]);
    for (const s of seen) {
      expect(s.headers['transfer-encoding']).toBeUndefined();
      expect(Number(s.headers['content-length'])).toBe(s.body.length);
    }
    expect(seen[0]!.headers['content-encoding']).toBeUndefined();
    expect(seen[0]!.body.equals(raw)).toBe(true);
    expect(seen[1]!.headers['content-encoding']).toBe('gzip');
    expect(seen[1]!.body.length).toBeLessThan(raw.length);
    expect(gunzipSync(seen[1]!.body).equals(raw)).toBe(true);
  });
});

describe('odd answers', () => {
  it('retries a read whose complete answer is shorter than asked, as a dropped connection', async () => {
    const { client, seen } = await serve((s, res, n) => {
      if (s.url.endsWith('/info')) return info(res);
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(Buffer.alloc(n === 2 ? 50 : 100, 7));
    });
    expect((await client.readDrive(DRIVE, 0, 100)).equals(Buffer.alloc(100, 7))).toBe(true);
    expect(seen).toHaveLength(3);
    expect(client.stats()).toEqual({ requests: 3, retries: 1, byWord: { connection: 1 }, busyChecks: 0 });
  });

  it('retries a read whose answer is longer than asked, and keeps the bytes of the answer that fits', async () => {
    const { client, seen } = await serve((s, res, n) => {
      if (s.url.endsWith('/info')) return info(res);
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(Buffer.alloc(n === 2 ? 70_000 : 100, 9));
    });
    const into = Buffer.alloc(200, 1);
    const got = await client.readDrive(DRIVE, 0, 100, into);
    expect(got.equals(Buffer.alloc(100, 9))).toBe(true);
    expect(seen).toHaveLength(3);
    expect(client.stats().byWord).toEqual({ connection: 1 });
  });

  it('retries a body cut off mid-way by a reset, and gives up after maxAttempts with a connection error', async () => {
    const { client } = await serve((s, res) => {
      if (s.url.endsWith('/info')) return info(res);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '100' });
      res.write(Buffer.alloc(40));
      setImmediate(() => res.socket?.destroy());
    }, { maxAttempts: 3 });
    const err = await client.readDrive(DRIVE, 0, 100).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiConnectionError);
    expect((err as ApiConnectionError).code).toBe('EH_CONNECTION');
    expect(client.stats()).toEqual({ requests: 4, retries: 2, byWord: { connection: 3 }, busyChecks: 0 });
  });

  it('classifies by status when the X-Elastic-Error header is missing, and by its first word when present', async () => {
    const { client } = await serve((s, res) => {
      if (s.url.includes('/info')) return fail(res, 404);
      return fail(res, 409, 'busy drive is claimed');
    }, { maxAttempts: 2 });
    await expect(client.driveInfo(DRIVE)).rejects.toMatchObject({ word: 'missing', status: 404 });
    await expect(client.setDrive(DRIVE, { name: 'x' })).rejects.toMatchObject({ word: 'busy', status: 409, body: 'something went wrong\n' });
  });

  it('does not resend a create whose answer was lost, but does resend a destroy and takes its 404 as done', async () => {
    const { client, seen } = await serve((s, res, n) => {
      if (s.url.endsWith('/create') || n === 2) return void res.socket?.destroy();
      return fail(res, 404, 'missing');
    });
    await expect(client.createDrive({ name: 'x', size: 1024 })).rejects.toBeInstanceOf(ApiConnectionError);
    expect(seen).toHaveLength(1);
    await client.destroyDrive(DRIVE);
    expect(seen.map((s) => s.url)).toEqual(['/api/drives/create', `/api/drives/${DRIVE}/destroy`, `/api/drives/${DRIVE}/destroy`]);
  });

  it('resends a create the server answered busy', async () => {
    const { client, seen } = await serve((_s, res, n) => (n === 1 ? fail(res, 409, 'busy') : info(res)));
    expect((await client.createDrive({ name: 'x', size: 1024 })).uuid).toBe(DRIVE);
    expect(seen).toHaveLength(2);
  });

  it('refuses a server answer that is not valid in its format, with a stable code', async () => {
    const { client } = await serve((_s, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"drive": ');
    });
    await expect(client.driveInfo(DRIVE)).rejects.toMatchObject({ code: 'EH_BAD_RESPONSE' });
  });
});

describe('a body that trickles', () => {
  it('fails each exchange at its deadline (base + bytes / minimum rate) as stalled, retries it, then gives up', async () => {
    const timers: NodeJS.Timeout[] = [];
    const { client } = await serve(
      (_s, res) => {
        // 100 bytes announced, one sent every 50 ms: the idle timeout never fires, the deadline must.
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' });
        timers.push(setInterval(() => res.write('x'), 50));
      },
      { maxAttempts: 2, minimumRate: { bytesPerSecond: 1024, baseMs: 150 } },
    );
    try {
      const err = (await client.listDrives().catch((e: unknown) => e)) as Error & { code: string };
      expect(err).toBeInstanceOf(ApiConnectionError);
      expect(err.code).toBe('EH_STALLED');
      expect(err.message).toBe(
        'GET /drives/list stalled below 1.00 KiB/s (not done within 0.2 s): the link or the server is too slow; ' +
          'drivesnap retries, and fails the job if it stays below that rate (DRIVESNAP_API_MIN_RATE sets the minimum)',
      );
      // Retried once, per maxAttempts 2 (counted by the client: under load the server may not see the 2nd in time).
      expect(client.stats()).toEqual({ requests: 2, retries: 1, byWord: { connection: 2 }, busyChecks: 0 });
    } finally {
      for (const t of timers) clearInterval(t);
    }
  });
});

describe('redirects', () => {
  it('refuses a 302 naming where it points, without following it or leaking its query', async () => {
    const { client, seen } = await serve((_s, res) => {
      res.writeHead(302, { location: 'https://elsewhere.example/api/drives/list?token=abc' }).end();
    });
    const err = (await client.listDrives().catch((e: unknown) => e)) as Error & { code: string };
    expect(err.code).toBe('EH_REDIRECT');
    expect(err.message).toContain('HTTP 302, redirecting to https://elsewhere.example/api/drives/list');
    expect(err.message).toContain('does not follow redirects');
    expect(err.message).not.toContain('token=abc');
    expect(seen).toHaveLength(1); // neither followed nor retried
  });
});

describe('secrets', () => {
  function everything(err: unknown): string {
    const parts: string[] = [];
    for (let e: unknown = err, depth = 0; e && depth < 10; e = (e as { cause?: unknown }).cause, depth++) {
      parts.push(String(e), JSON.stringify(e), String((e as Error).stack), JSON.stringify(Object.entries(e as object)));
    }
    return parts.join('\n');
  }

  it('keeps the secret and the Authorization header out of API errors and connection errors', async () => {
    const basic = Buffer.from(`${USER}:${SECRET}`).toString('base64');
    const { client } = await serve((_s, res) => fail(res, 401, 'auth'));
    const auth = await client.listDrives().catch((e: unknown) => e);
    expect(auth).toBeInstanceOf(ApiError);
    const refused = new ApiClient({ url: 'http://127.0.0.1:1/', user: USER, secret: SECRET, retry: { maxAttempts: 2, baseDelayMs: 1 } });
    clients.push(refused);
    const conn = await refused.listDrives().catch((e: unknown) => e);
    expect(conn).toBeInstanceOf(ApiConnectionError);
    expect(refused.stats().retries).toBe(1);
    for (const err of [auth, conn]) {
      const text = everything(err);
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(basic);
    }
  });
});
