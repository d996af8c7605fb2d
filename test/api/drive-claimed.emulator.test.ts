/**
 * A change refused because a running server claims the drive fails at once (one info fetch after the
 * first `busy`, no backoff), naming the server; a transient `busy` on a free drive is still retried.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/api/client.js';
import { busyCause, parseClaims } from '../../src/api/drive-claims.js';
import { parseDriveInfo } from '../../src/api/drive-info.js';
import { DriveClaimedError, DriveImagingError } from '../../src/api/errors.js';
import type { RetryEvent } from '../../src/api/retry.js';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { MiB } from '../../src/util/size.js';

let emu: Emulator;
const clients: ApiClient[] = [];

function client(onRetry?: (e: RetryEvent) => void): ApiClient {
  const a = emu.accounts[0]!;
  // Long backoff on purpose: a claimed drive must not wait any of it out.
  const c = new ApiClient({ url: emu.url, user: a.user, secret: a.secret, retry: { maxAttempts: 8, baseDelayMs: 2000, maxDelayMs: 10_000 }, ...(onRetry ? { onRetry } : {}) });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  emu = await startEmulator({ accounts: [{ user: randomUUID(), secret: 'claimed-secret-value' }], imagingBytesPerSec: 256 * 1024 });
});
afterAll(async () => {
  for (const c of clients) await c.close();
  await emu?.close();
});

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.unreachable('the call succeeded'),
    (err: unknown) => err,
  );
}

describe('busy because a server claims the drive', () => {
  it('a write, a resize and a destroy fail after one attempt, naming the server and its device', async () => {
    const retries: RetryEvent[] = [];
    const c = client((e) => retries.push(e));
    const d = await c.createDrive({ name: 'held', size: MiB });
    const s = await c.createServer({ name: 'web-7', cpu: 1000, mem: 512, 'ide:0:1': d.uuid });
    for (const change of [
      () => c.writeDrive(d.uuid, 0, Buffer.alloc(512, 1)),
      () => c.setDrive(d.uuid, { size: 2 * MiB }),
      () => c.destroyDrive(d.uuid),
    ]) {
      const before = c.stats().byWord.busy ?? 0;
      const err = await failure(change());
      expect(err).toBeInstanceOf(DriveClaimedError);
      expect(err).toMatchObject({ code: 'EH_CLAIMED', exitCode: 1, drive: d.uuid, claims: [{ server: s.uuid, device: 'ide:0:1' }] });
      const message = (err as Error).message;
      expect(message).toContain(s.uuid);
      expect(message).toContain('"web-7"');
      expect(message).toContain('ide:0:1');
      expect(message).toMatch(/stop or shut down the server/);
      expect(message).toContain('--shutdown-server');
      expect((c.stats().byWord.busy ?? 0) - before, 'attempts of the refused call').toBe(1);
    }
    expect(retries).toEqual([]);
    await c.stopServer(s.uuid);
    await c.waitForServerState(s.uuid, 'destroyed', { intervalMs: 20 });
    await c.writeDrive(d.uuid, 0, Buffer.alloc(512, 1));
    await c.destroyDrive(d.uuid);
  });

  it('an injected busy on a free drive is still retried and the write succeeds', async () => {
    const retries: RetryEvent[] = [];
    const a = emu.accounts[0]!;
    const c = new ApiClient({ url: emu.url, user: a.user, secret: a.secret, retry: { baseDelayMs: 1, maxDelayMs: 2 }, onRetry: (e) => retries.push(e) });
    clients.push(c);
    const d = await c.createDrive({ name: 'free', size: MiB });
    // Seeded so that the first write is refused and a later attempt gets through.
    emu.setFaults({ busyRate: 0.5, calls: ['write'], seed: 3 });
    try {
      let writes = 0;
      while (retries.length === 0 && writes < 50) {
        await c.writeDrive(d.uuid, 0, Buffer.alloc(512, writes));
        writes++;
      }
    } finally {
      emu.setFaults(undefined);
    }
    expect(retries.length).toBeGreaterThan(0);
    expect(retries[0]).toMatchObject({ kind: 'busy', operation: `POST /drives/${d.uuid}/write/0` });
    expect(Buffer.from(await c.readDrive(d.uuid, 0, 1))[0]).toBeLessThan(50);
    await c.destroyDrive(d.uuid);
  });

  it('a write into a drive being imaged fails at once saying so', async () => {
    const c = client();
    const src = await c.createDrive({ name: 'img-src', size: 4 * MiB });
    const dst = await c.createDrive({ name: 'img-dst', size: 4 * MiB });
    await c.imageDrive(dst.uuid, src.uuid);
    const before = c.stats().byWord.busy ?? 0;
    const err = await failure(c.writeDrive(dst.uuid, 0, Buffer.alloc(512, 1)));
    expect(err).toBeInstanceOf(DriveImagingError);
    expect(err).toMatchObject({ code: 'EH_IMAGING', drive: dst.uuid });
    expect((err as Error).message).toMatch(/is being imaged/);
    expect((c.stats().byWord.busy ?? 0) - before).toBe(1);
  });
});

describe('busyCause (pure)', () => {
  it('reads claims with colon devices, prefers claimed over imaging, and is undefined for neither', () => {
    expect(parseClaims(['00154:guest:s1:ide:0:0', 'junk', '7:guest:s2:block:1'])).toEqual([
      { server: 's1', device: 'ide:0:0' },
      { server: 's2', device: 'block:1' },
    ]);
    const free = parseDriveInfo({ drive: 'd', size: '1' });
    expect(busyCause('POST x', free)).toBeUndefined();
    const imaging = parseDriveInfo({ drive: 'd', size: '1', imaging: 'queued' });
    expect(busyCause('POST x', imaging)).toBeInstanceOf(DriveImagingError);
    const both = parseDriveInfo({ drive: 'd', size: '1', imaging: '5%', claimed: 'h:guest:s1:ide:0:0' });
    const err = busyCause('POST x', both, new Map([['s1', 'db']]));
    expect(err).toBeInstanceOf(DriveClaimedError);
    expect(err?.message).toContain('"db" (s1) as ide:0:0');
  });
});
