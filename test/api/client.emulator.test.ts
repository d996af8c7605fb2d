/**
 * The client against the emulator over real HTTP, in both wire formats: every call, the typed errors per
 * X-Elastic-Error word, and which failures are (not) retried.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ApiClientOptions } from '../../src/api/client.js';
import { ApiError } from '../../src/api/errors.js';
import { HttpTransport } from '../../src/api/http.js';
import type { RetryEvent } from '../../src/api/retry.js';
import { type Emulator, STANDARD_DRIVES, startEmulator } from '../../src/emulator/index.js';
import { MiB } from '../../src/util/size.js';

let emu: Emulator;
const clients: ApiClient[] = [];

function client(opts: Partial<ApiClientOptions> = {}, account = 0): ApiClient {
  const a = emu.accounts[account]!;
  const c = new ApiClient({ url: emu.url, user: a.user, secret: a.secret, retry: { baseDelayMs: 1, maxDelayMs: 5 }, ...opts });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  emu = await startEmulator({
    accounts: [
      { user: randomUUID(), secret: 'first-secret-value' },
      { user: randomUUID(), secret: 'second-secret-value', quotaDrives: 1 },
    ],
    // Slow enough that the library image (tens of KiB gzipped) is still imaging at the first poll, even on a loaded machine.
    imagingBytesPerSec: 64 * 1024,
  });
});
afterAll(async () => {
  for (const c of clients) await c.close();
  await emu?.close();
});

describe.each(['text', 'json'] as const)('every drive call (%s)', (format) => {
  it('creates, lists, shows, changes and destroys a drive', async () => {
    const c = client({ format });
    const created = await c.createDrive({ name: `web root ${format}`, size: 8 * MiB, tags: ['prod', 'web'], 'user:note': 'two\nlines' });
    expect(created).toMatchObject({ name: `web root ${format}`, size: 8 * MiB, status: 'active', tags: ['prod', 'web'], claimType: 'exclusive' });
    expect(created.userData.note).toBe('two\nlines');
    expect(await c.listDrives()).toContain(created.uuid);
    expect((await c.listDriveInfo()).find((d) => d.uuid === created.uuid)?.name).toBe(`web root ${format}`);
    const full = await c.driveInfo(created.uuid, { full: true });
    expect(full.user).toBe(emu.accounts[0]!.user);
    expect(full.writeRequests).toBeGreaterThanOrEqual(1);
    const changed = await c.setDrive(created.uuid, { name: 'renamed', size: 12 * MiB, 'claim:type': 'shared' });
    expect(changed).toMatchObject({ name: 'renamed', size: 12 * MiB, claimType: 'shared' });
    await c.destroyDrive(created.uuid);
    expect(await c.listDrives()).not.toContain(created.uuid);
  });

  it('writes raw and gzip data and reads exactly those bytes back, including 3-byte and split 4 MiB+ reads', async () => {
    const c = client({ format });
    const d = await c.createDrive({ name: `data ${format}`, size: 10 * MiB });
    const raw = randomBytes(MiB);
    const text = Buffer.from('compressible '.repeat(100_000));
    await c.writeDrive(d.uuid, 0, raw);
    await c.writeDriveCompressing(d.uuid, 5 * MiB - 7, text);
    expect((await c.readDrive(d.uuid, 0, MiB)).equals(raw)).toBe(true);
    expect((await c.readDrive(d.uuid, 5 * MiB - 7, text.length)).equals(text)).toBe(true);
    expect((await c.readDrive(d.uuid, 10, 3)).equals(raw.subarray(10, 13))).toBe(true);
    const whole = await c.readDrive(d.uuid, 0, 10 * MiB);
    expect(whole.length).toBe(10 * MiB);
    expect(whole.subarray(5 * MiB - 7, 5 * MiB - 7 + text.length).equals(text)).toBe(true);
    expect(whole.subarray(MiB, 2 * MiB).equals(Buffer.alloc(MiB))).toBe(true);
    expect((await c.readDrive(d.uuid, 10 * MiB, 0)).length).toBe(0);
    await c.destroyDrive(d.uuid);
  });

  it('refuses a read past the end before asking the server, learning the size from info when needed', async () => {
    const maker = client({ format });
    const d = await maker.createDrive({ name: `small ${format}`, size: MiB });
    const fresh = client({ format });
    await expect(fresh.readDrive(d.uuid, MiB - 2, 3)).rejects.toMatchObject({ code: 'EH_RANGE' });
    expect(fresh.stats().requests).toBe(1); // the info call only
    expect((await fresh.readDrive(d.uuid, MiB - 2, 2)).length).toBe(2);
    expect(fresh.stats().requests).toBe(2);
    await maker.destroyDrive(d.uuid);
  });

  it('lists the standard library and images a drive from it, reporting progress until done', async () => {
    const c = client({ format });
    const standard = await c.listStandardDriveInfo();
    expect(standard.map((d) => d.uuid)).toEqual(expect.arrayContaining(await c.listStandardDrives()));
    const source = standard.find((d) => d.uuid === STANDARD_DRIVES[0]!.drive)!;
    const rawsize = Number(source.raw.rawsize);
    const dst = await c.createDrive({ name: `from library ${format}`, size: rawsize });
    const progress: (number | undefined)[] = [];
    await c.imageDrive(dst.uuid, source.uuid, 'gunzip');
    await c.waitForImaging(dst.uuid, (p) => progress.push(p), { intervalMs: 50 });
    expect(progress.length).toBeGreaterThan(0);
    for (const p of progress) if (p !== undefined) expect(p).toBeGreaterThanOrEqual(0);
    expect((await c.driveInfo(dst.uuid)).imaging).toBeUndefined();
    const gz = await c.readDrive(source.uuid, 0, source.size);
    expect((await c.readDrive(dst.uuid, 0, rawsize)).equals(gunzipSync(gz))).toBe(true);
    await c.destroyDrive(dst.uuid);
  });

  it('creates, sets, starts, stops and destroys servers, which claim their drives', async () => {
    const c = client({ format });
    const d = await c.createDrive({ name: `boot ${format}`, size: MiB });
    const s = await c.createServer({ name: `web ${format}`, cpu: 2000, mem: 1024, persistent: true, 'ide:0:0': d.uuid, boot: 'ide:0:0' }, { stopped: true });
    expect(s).toMatchObject({ status: 'stopped', cpu: 2000, mem: 1024, persistent: true, drives: { 'ide:0:0': d.uuid } });
    expect(await c.listServers()).toContain(s.uuid);
    expect((await c.setServer(s.uuid, { name: 'renamed', mem: 2048 })).mem).toBe(2048);
    await c.startServer(s.uuid);
    await c.waitForServerState(s.uuid, 'active', { intervalMs: 20 });
    expect((await c.driveInfo(d.uuid)).claimed.length).toBe(1);
    expect((await c.listServerInfo()).find((x) => x.uuid === s.uuid)?.status).toBe('active');
    await c.resetServer(s.uuid);
    await c.stopServer(s.uuid);
    await c.waitForServerState(s.uuid, 'stopped', { intervalMs: 20 });
    expect((await c.driveInfo(d.uuid)).claimed).toEqual([]);
    await c.destroyServer(s.uuid);
    await c.waitForServerState(s.uuid, 'destroyed', { intervalMs: 20 });
    const transient = await c.createServer({ name: 'temp', cpu: 1000, mem: 512 });
    expect(transient.status).toBe('active');
    await c.shutdownServer(transient.uuid);
    await c.waitForServerState(transient.uuid, 'destroyed', { intervalMs: 20 });
    await c.destroyDrive(d.uuid);
  });

  it('creates, lists, sets and destroys resources', async () => {
    const c = client({ format });
    const ip = await c.createResource('ip', { name: `addr ${format}` });
    expect(ip.type).toBe('ip');
    expect(await c.listResources()).toContainEqual({ type: 'ip', resource: ip.resource });
    expect(await c.listResources('ip')).toContainEqual({ type: 'ip', resource: ip.resource });
    expect((await c.resourceInfo('ip', ip.resource)).name).toBe(`addr ${format}`);
    expect((await c.listResourceInfo()).map((r) => r.resource)).toContain(ip.resource);
    expect((await c.setResource('ip', ip.resource, { tags: 'x y' })).tags).toEqual(['x', 'y']);
    await c.destroyResource('ip', ip.resource);
    expect(await c.listResources()).not.toContainEqual({ type: 'ip', resource: ip.resource });
  });
});

describe('errors per X-Elastic-Error word', () => {
  async function failure(p: Promise<unknown>): Promise<ApiError> {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }

  it('usage, missing and auth fail at once: one request each, counted by word', async () => {
    const c = client();
    const d = await c.createDrive({ name: 'errs', size: MiB });
    const usage = await failure(c.setDrive(d.uuid, { size: 'lots' }));
    expect(usage).toMatchObject({ status: 400, word: 'usage', code: 'EH_USAGE', object: d.uuid, call: `POST /drives/${d.uuid}/set` });
    const missing = await failure(c.driveInfo(randomUUID()));
    expect(missing).toMatchObject({ status: 404, word: 'missing', code: 'EH_MISSING' });
    expect(c.stats()).toEqual({ requests: 3, retries: 0, byWord: { usage: 1, missing: 1 }, busyChecks: 0 });

    const wrong = new ApiClient({ url: emu.url, user: emu.accounts[0]!.user, secret: 'not-the-secret' });
    clients.push(wrong);
    const auth = await failure(wrong.listDrives());
    expect(auth).toMatchObject({ status: 401, word: 'auth', code: 'EH_AUTH' });
    expect(wrong.stats()).toEqual({ requests: 1, retries: 0, byWord: { auth: 1 }, busyChecks: 0 });
    const everything = JSON.stringify(auth) + auth.message + String(auth.stack) + String(auth.cause);
    expect(everything).not.toContain('not-the-secret');
    await c.destroyDrive(d.uuid);
  });

  it('busy is retried up to maxAttempts, then thrown; full and billing are not retried', async () => {
    const events: RetryEvent[] = [];
    const c = client({ retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 }, onRetry: (e) => events.push(e) });
    const d = await c.createDrive({ name: 'busy', size: MiB });
    // An injected busy: the drive is neither claimed nor imaging, so every busy is transient and retried.
    emu.setFaults({ busyRate: 1, calls: ['write'], seed: 1 });
    const busy = await failure(c.writeDrive(d.uuid, 0, Buffer.alloc(512, 1)));
    emu.setFaults(undefined);
    expect(busy).toMatchObject({ status: 409, word: 'busy', code: 'EH_BUSY' });
    expect(events.map((e) => [e.kind, e.attempt])).toEqual([
      ['busy', 1],
      ['busy', 2],
    ]);
    expect(events[0]!.operation).toBe(`POST /drives/${d.uuid}/write/0`);
    expect(c.stats().byWord.busy).toBe(3);

    const before = c.stats().requests;
    const full = await failure(c.writeDrive(d.uuid, MiB - 1, Buffer.alloc(2)));
    expect(full).toMatchObject({ status: 507, word: 'full', code: 'EH_FULL' });
    expect(c.stats().requests).toBe(before + 1);
    await c.destroyDrive(d.uuid);

    const quota = client({}, 1);
    const only = await quota.createDrive({ name: 'only one', size: MiB });
    const billing = await failure(quota.createDrive({ name: 'one too many', size: MiB }));
    expect(billing).toMatchObject({ status: 402, word: 'billing', code: 'EH_BILLING' });
    expect(quota.stats()).toEqual({ requests: 2, retries: 0, byWord: { billing: 1 }, busyChecks: 0 });
    await quota.destroyDrive(only.uuid);
  });

  it('method: a GET on a call that needs POST', async () => {
    const a = emu.accounts[0]!;
    const http = new HttpTransport({ url: emu.url, user: a.user, secret: a.secret, connections: 1, timeoutMs: 10_000 });
    try {
      const err = await failure(http.send({ method: 'GET', path: '/drives/create' }));
      expect(err).toMatchObject({ status: 405, word: 'method', code: 'EH_METHOD' });
    } finally {
      await http.close();
    }
  });
});
