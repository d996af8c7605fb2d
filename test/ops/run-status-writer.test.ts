import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type PassOutcome, mergePass, renderPrometheus, renderStatusJson } from '../../src/ops/run-status.js';
import { ping, readRunStatus, reportPass, writeRunStatus } from '../../src/ops/run-status-writer.js';

const SECRET = 'f3a1c0de-secret-check-uuid';

const okPass = (end: string): PassOutcome => ({
  startedAt: new Date('2026-12-01T03:00:00Z'),
  finishedAt: new Date(end),
  exitCode: 0,
  drives: [{ drive: 'eh:web-1', ok: true, startedAt: new Date('2026-12-01T03:00:00Z'), finishedAt: new Date(end), bytesRead: 10, bytesStored: 20, bytesWritten: 5 }],
});
const failPass = (end: string): PassOutcome => ({
  startedAt: new Date('2026-12-02T03:00:00Z'),
  finishedAt: new Date(end),
  exitCode: 1,
  drives: [{ drive: 'eh:web-1', ok: false, startedAt: new Date(end), finishedAt: new Date(end), errorCode: 'EH_AUTH' }],
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'drivesnap-run-status-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeRunStatus / readRunStatus / reportPass on real files', () => {
  it('writes both files in full, creating the directory, and leaves no temp file behind', async () => {
    const status = mergePass('jobs.yaml', undefined, okPass('2026-12-01T03:01:00Z'));
    const files = { file: join(dir, 'state', 'status.json'), prometheus: join(dir, 'textfile', 'drivesnap.prom') };
    expect(await writeRunStatus(files, status)).toEqual([]);
    expect(await readFile(files.file, 'utf8')).toBe(renderStatusJson(status));
    expect(await readFile(files.prometheus, 'utf8')).toBe(renderPrometheus(status));
    expect(await readdir(join(dir, 'state'))).toEqual(['status.json']);
    expect(await readdir(join(dir, 'textfile'))).toEqual(['drivesnap.prom']);
    expect(await readRunStatus(files.file)).toEqual(status);
  });

  it('replaces an existing file whole', async () => {
    const path = join(dir, 'status.json');
    await writeFile(path, 'x'.repeat(100_000));
    const status = mergePass('j', undefined, okPass('2026-12-01T03:01:00Z'));
    await writeRunStatus({ file: path }, status);
    expect(await readFile(path, 'utf8')).toBe(renderStatusJson(status));
  });

  it('reports an unwritable file as a warning, still writing the other', async () => {
    const blocker = join(dir, 'not-a-dir');
    await writeFile(blocker, '');
    const files = { file: join(blocker, 'status.json'), prometheus: join(dir, 'ok.prom') };
    const warnings = await writeRunStatus(files, mergePass('j', undefined, okPass('2026-12-01T03:01:00Z')));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^cannot write the status file .*not-a-dir\/status\.json: /);
    expect(await readFile(files.prometheus, 'utf8')).toContain('drivesnap_drive_last_success_timestamp_seconds');
  });

  it('reads nothing from a missing or foreign file', async () => {
    expect(await readRunStatus(join(dir, 'missing.json'))).toBeUndefined();
    await writeFile(join(dir, 'other.json'), '{"hello":1}');
    expect(await readRunStatus(join(dir, 'other.json'))).toBeUndefined();
  });

  it('carries history from the status file across passes', async () => {
    const files = { file: join(dir, 'status.json') };
    await reportPass({ job: 'j', files }, okPass('2026-12-01T03:01:00Z'));
    const { status, warnings } = await reportPass({ job: 'j', files }, failPass('2026-12-02T03:00:05Z'));
    expect(warnings).toEqual([]);
    expect(status.drives[0]).toMatchObject({ lastSuccess: '2026-12-01T03:01:00.000Z', failuresTotal: 1, lastErrorCode: 'EH_AUTH' });
    expect(await readRunStatus(files.file)).toEqual(status);
  });
});

describe('ping against a loopback HTTP server', () => {
  let server: Server;
  let base: string;
  const seen: Array<{ method: string; url: string; body: string; type?: string }> = [];
  let respond: (req: IncomingMessage, res: ServerResponse) => void;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, body, type: req.headers['content-type'] });
        respond(req, res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ping/${SECRET}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  beforeEach(() => {
    seen.length = 0;
    respond = (_req, res) => res.end('OK');
  });

  const okStatus = () => mergePass('jobs.yaml', undefined, okPass('2026-12-01T03:01:00Z'));
  const failStatus = () => mergePass('jobs.yaml', undefined, failPass('2026-12-02T03:00:05Z'));

  it('GETs the URL after a good pass', async () => {
    expect(await ping({ url: base, method: 'GET' }, okStatus())).toEqual({ ok: true, status: 200 });
    expect(seen).toEqual([{ method: 'GET', url: `/ping/${SECRET}`, body: '', type: undefined }]);
  });

  it('POSTs the summary to url/fail after a failed pass', async () => {
    expect(await ping({ url: base, method: 'POST' }, failStatus())).toEqual({ ok: true, status: 200 });
    expect(seen).toEqual([
      {
        method: 'POST',
        url: `/ping/${SECRET}/fail`,
        body: 'drivesnap run jobs.yaml: exit 1, 0 of 1 drives backed up\nfailed eh:web-1: EH_AUTH\n',
        type: 'text/plain; charset=utf-8',
      },
    ]);
  });

  it('uses the failure URL when given', async () => {
    await ping({ url: base, failureUrl: `${base}/other`, method: 'GET' }, failStatus());
    expect(seen.map((s) => s.url)).toEqual([`/ping/${SECRET}/other`]);
  });

  it('turns an HTTP error into a warning that names the host, not the secret path', async () => {
    respond = (_req, res) => {
      res.statusCode = 500;
      res.end('boom');
    };
    const r = await ping({ url: base, method: 'GET' }, okStatus());
    expect(r).toEqual({ ok: false, warning: `the ping to ${new URL(base).protocol}//${new URL(base).host}/… answered HTTP 500` });
  });

  it('gives up after the timeout with a warning when the server never answers', async () => {
    respond = () => {};
    const r = await ping({ url: base, method: 'GET' }, okStatus(), 200);
    expect(r).toEqual({ ok: false, warning: expect.stringMatching(/no answer within 0\.2 s$/) });
    expect(JSON.stringify(r)).not.toContain(SECRET);
  });

  it('turns a refused connection into a warning', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const r = await ping({ url: `http://127.0.0.1:${port}/ping/${SECRET}`, method: 'GET' }, okStatus());
    expect(r).toEqual({ ok: false, warning: `the ping to http://127.0.0.1:${port}/… failed: ECONNREFUSED` });
  });

  it('sends nothing to a URL holding credentials, or to one that is not a URL', async () => {
    const withUser = base.replace('http://', 'http://user:pw@');
    const r = await ping({ url: withUser, method: 'GET' }, okStatus());
    expect(r).toEqual({ ok: false, warning: expect.stringMatching(/holds a user name or password: not sent/) });
    expect(JSON.stringify(r)).not.toMatch(/pw|secret/);
    expect(await ping({ url: 'not a url', method: 'GET' }, okStatus())).toEqual({ ok: false, warning: 'the ping URL is not a URL: (invalid URL)' });
    expect(seen).toEqual([]);
  });

  it('reportPass pings and returns its warning without failing', async () => {
    respond = (_req, res) => {
      res.statusCode = 404;
      res.end();
    };
    const { warnings } = await reportPass({ job: 'j', files: {}, ping: { url: base, method: 'GET' } }, failPass('2026-12-02T03:00:05Z'));
    expect(seen.map((s) => s.url)).toEqual([`/ping/${SECRET}/fail`]);
    expect(warnings).toEqual([expect.stringMatching(/answered HTTP 404$/)]);
  });
});
