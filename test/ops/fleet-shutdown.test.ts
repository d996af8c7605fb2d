/**
 * `--shutdown-server` with several drives at once (src/ops/backup-orchestrator.ts): the drives of one
 * server are backed up in one stop of it, while it is down; groups of servers go one after another, so a
 * second server is only shut down once the first runs again; a drive no server holds is backed up too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import { type BackupEvent, backupAll } from '../../src/ops/backup-orchestrator.js';
import { selectDrives, targetItems } from '../../src/ops/run-select.js';
import { apiClient, Cleanup, createDriveWith, emulator, localRepo, makeImage, type TestRepo } from '../helpers/engine-fixtures.js';

const cleanup = new Cleanup();
let c: ApiClient;
let t: TestRepo;

beforeAll(async () => {
  c = apiClient(cleanup, await emulator(cleanup, { shutdownDelayMs: 100 }));
  t = await localRepo(cleanup, false);
});
afterAll(() => cleanup.run());

describe('backupAll --shutdown-server with drives at once', () => {
  it('one stop per server for all its drives, one group of servers down at a time', async () => {
    const disk = (name: string, seed: number) => createDriveWith(c, name, makeImage([{ random: seed }, { text: seed }]));
    const x1 = await disk('x1', 1);
    const x2 = await disk('x2', 2);
    const y1 = await disk('y1', 3);
    await disk('free', 4);
    const x = await c.createServer({ name: 'x', cpu: 1000, mem: 512, persistent: true, 'ide:0:0': x1, 'ide:0:1': x2, boot: 'ide:0:0' });
    const y = await c.createServer({ name: 'y', cpu: 1000, mem: 512, persistent: true, 'ide:0:0': y1, boot: 'ide:0:0' });
    const clients = { get: async () => c };
    const names = ['x1', 'free', 'y1', 'x2'];
    const items = targetItems(await selectDrives(names.map((drive) => ({ kind: 'drive', account: 'eh', drive })), clients), clients);
    const events: BackupEvent[] = [];
    const outcomes = await backupAll({ repo: t.repo, items, drives: 2, concurrency: 4, shutdown: { timeoutMs: 30_000 }, onEvent: (e) => events.push(e) });

    expect(outcomes.map((o) => [o.location, o.ok])).toEqual(names.map((n) => [`eh:${n}`, true]));
    const at = (event: string, server?: string) => events.findIndex((e) => e.event === event && (server === undefined || (e as { server?: string }).server === server));
    const snapshotAt = (location: string) => events.findIndex((e) => e.event === 'snapshot' && e.location === location);
    for (const drive of ['eh:x1', 'eh:x2']) {
      expect(snapshotAt(drive)).toBeGreaterThan(at('server-stopped', x.uuid));
      expect(snapshotAt(drive)).toBeLessThan(at('server-started', x.uuid));
    }
    expect(snapshotAt('eh:y1')).toBeGreaterThan(at('server-stopped', y.uuid));
    // x runs again before y is asked to shut down; each was stopped once.
    expect(at('server-started', x.uuid)).toBeLessThan(at('server-shutdown', y.uuid));
    expect(events.filter((e) => e.event === 'server-shutdown')).toHaveLength(2);
    expect((await c.serverInfo(x.uuid)).status).toBe('active');
    expect((await c.serverInfo(y.uuid)).status).toBe('active');
  });
});
