/**
 * The retry layer under injected faults: with ~20% of calls answered busy/system and some connections
 * reset mid-body (seeded, so a failure replays), a 256 MiB drive written with gzip writes and read back
 * through the client, in parallel, comes back byte-identical, and the retries are counted.
 */
import { createHash, randomBytes } from 'node:crypto';
import pLimit from 'p-limit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ApiClient } from '../../src/api/client.js';
import type { RetryEvent } from '../../src/api/retry.js';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { MiB } from '../../src/util/size.js';

const DRIVE_SIZE = 256 * MiB;
const RANGE = 4 * MiB;

let emu: Emulator;
let client: ApiClient;

beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await client?.close();
  await emu?.close();
});

/** Range i: a mix a real drive has (random, text, zeros), different in every range. */
function rangeData(i: number): Buffer {
  const buf = Buffer.alloc(RANGE);
  randomBytes(MiB).copy(buf, 0);
  buf.write(`range ${i} `.repeat(100_000), MiB, 'utf8');
  return buf;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

it('writes and reads 256 MiB byte-identically through busy, system and reset faults, counting retries', async () => {
  const events: RetryEvent[] = [];
  const a = emu.accounts[0]!;
  client = new ApiClient({
    url: emu.url,
    user: a.user,
    secret: a.secret,
    connections: 8,
    retry: { maxAttempts: 12, baseDelayMs: 2, maxDelayMs: 50 },
    onRetry: (e) => events.push(e),
  });
  const drive = await client.createDrive({ name: 'faulty', size: DRIVE_SIZE });
  emu.setFaults({ busyRate: 0.1, systemRate: 0.1, resetRate: 0.05, seed: 42 });

  const limit = pLimit(8);
  const ranges = DRIVE_SIZE / RANGE;
  const written: string[] = [];
  await Promise.all(
    Array.from({ length: ranges }, (_, i) =>
      limit(async () => {
        const data = rangeData(i);
        written[i] = sha(data);
        await client.writeDriveCompressing(drive.uuid, i * RANGE, data);
      }),
    ),
  );
  const read: string[] = [];
  await Promise.all(
    Array.from({ length: ranges }, (_, i) =>
      limit(async () => {
        read[i] = sha(await client.readDrive(drive.uuid, i * RANGE, RANGE));
      }),
    ),
  );
  emu.setFaults(undefined);

  expect(read).toEqual(written);
  const stats = client.stats();
  const injected = emu.stats().faultsInjected;
  // Every failure seen was retried (none gave up), and the kinds injected all showed up.
  expect(stats.retries).toBeGreaterThan(0);
  expect(stats.retries).toBe(events.length);
  expect(stats.retries).toBe(injected);
  expect(stats.byWord.busy).toBeGreaterThan(0);
  expect(stats.byWord.system).toBeGreaterThan(0);
  expect(stats.byWord.connection).toBeGreaterThan(0);
  expect((stats.byWord.busy ?? 0) + (stats.byWord.system ?? 0) + (stats.byWord.connection ?? 0)).toBe(stats.retries);
  // Every exchange is a first attempt, a retry, or the one drive info that explains a write's busy.
  expect(stats.busyChecks).toBeGreaterThan(0);
  expect(stats.requests).toBe(1 + 2 * ranges + stats.busyChecks + stats.retries);
  console.log(
    `faults: ${injected} injected; client: ${stats.requests} requests, ${stats.retries} retries ` +
      `(busy ${stats.byWord.busy}, system ${stats.byWord.system}, connection ${stats.byWord.connection})`,
  );
  await client.destroyDrive(drive.uuid);
});
