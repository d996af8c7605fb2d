/**
 * Direct reads over TLS (src/api/direct-read.ts) against a node:https server with a certificate made for the
 * test by the openssl command: the decrypted body lands in the caller's buffer in place on a reused
 * connection, and a server whose certificate is not trusted is refused, never read.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectReads } from '../../src/api/direct-read.js';

let dir: string;
let cert: Buffer;
let key: Buffer;
let server: Server;
let port: number;
const sockets: Socket[] = [];
const body = randomBytes(1_000_000);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'drivesnap-tls-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ], { stdio: 'ignore' });
  cert = readFileSync(join(dir, 'cert.pem'));
  key = readFileSync(join(dir, 'key.pem'));
  server = createServer({ cert, key }, (req, res) => {
    sockets.push(req.socket);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length) });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

function reads(ca: Buffer | undefined): DirectReads {
  return new DirectReads({ host: '127.0.0.1', port, hostHeader: `localhost:${port}`, connections: 2, timeoutMs: 5000, tls: { servername: 'localhost', ...(ca ? { ca } : {}) } });
}

const get = () => ({ method: 'GET' as const, path: '/read', headers: {}, signal: new AbortController().signal });

describe('direct reads over TLS', () => {
  it('read the decrypted body into the caller buffer in place, one connection for reads one after another', async () => {
    const d = reads(cert);
    try {
      for (let i = 0; i < 2; i++) {
        const into = Buffer.alloc(body.length);
        const got = await d.exchange(get(), () => ({ into, tooLong: () => new Error('too long') }));
        expect(got.body.buffer).toBe(into.buffer);
        expect(into.equals(body)).toBe(true);
      }
      expect(sockets).toHaveLength(2);
      expect(sockets[1]).toBe(sockets[0]);
    } finally {
      d.close();
    }
  });

  it('refuse a server whose certificate is not trusted, with the TLS error code', async () => {
    const d = reads(undefined);
    try {
      await expect(d.exchange(get(), () => ({ limit: 10 }))).rejects.toMatchObject({ code: expect.stringMatching(/SELF_SIGNED|UNABLE_TO_VERIFY/) });
    } finally {
      d.close();
    }
  });
});
