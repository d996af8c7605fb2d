/**
 * Consistent backups (issue 5, part 1): `backup --shutdown-server` and withServerStopped against real
 * emulators (servers with ACPI shutdowns that take time), real repositories, and the CLI as a child process.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '../../src/api/client.js';
import type { ServerInfo } from '../../src/api/servers.js';
import type { Emulator } from '../../src/emulator/index.js';
import { DrivesnapError } from '../../src/errors.js';
import { claimingServers, groupByServers } from '../../src/ops/server-claims.js';
import { stopPlan, timeoutAction, withServerStopped } from '../../src/ops/server-shutdown.js';
import { cliEnv, runCli, waitUntil } from '../helpers/engine-cli.js';
import {
  ACCOUNT_A,
  apiClient,
  Cleanup,
  createDriveWith,
  emulator,
  expectedTable,
  localRepo,
  makeImage,
  type TestRepo,
} from '../helpers/engine-fixtures.js';

const IMAGE = makeImage([{ text: 1 }, 'zero', { random: 2 }], 4096);

const cleanup = new Cleanup();
/** Shutdowns complete after 100 ms. */
let emu: Emulator;
/** Shutdowns take a minute: a guest that ignores the ACPI button, for the timeout cases. */
let slow: Emulator;
let a: ApiClient;
let s: ApiClient;

beforeAll(async () => {
  emu = await emulator(cleanup, { shutdownDelayMs: 100 });
  slow = await emulator(cleanup, { shutdownDelayMs: 60_000 });
  a = apiClient(cleanup, emu);
  s = apiClient(cleanup, slow);
});
afterAll(() => cleanup.run());

async function serverWith(c: ApiClient, name: string, persistent = true): Promise<{ server: string; drive: string }> {
  const drive = await createDriveWith(c, `${name}-disk`, IMAGE);
  const info = await c.createServer({ name, cpu: 1000, mem: 512, persistent, 'ide:0:0': drive, boot: 'ide:0:0' });
  expect(info.status).toBe('active');
  return { server: info.uuid, drive };
}

async function cliRepo(): Promise<TestRepo & { env: NodeJS.ProcessEnv }> {
  const r = await localRepo(cleanup, false);
  const home = await cleanup.tempDir('drivesnap-server-home-');
  const env = cliEnv({
    EHURI: emu.url,
    EHAUTH: `${ACCOUNT_A.user}:${ACCOUNT_A.secret}`,
    DRIVESNAP_REPO: r.dir,
    DRIVESNAP_INDEX: join(home, 'index.sqlite'),
    DRIVESNAP_JOBS_DB: join(home, 'jobs.sqlite'),
    HOME: home,
  });
  return { ...r, env };
}

async function snapshotsOf(r: TestRepo, drive: string) {
  await r.repo.sync();
  return r.repo.index.listSnapshots({ driveUuid: drive });
}

describe('pure decisions', () => {
  const info = (over: Partial<ServerInfo>): ServerInfo =>
    ({ uuid: 'u', name: 'web', status: 'active', persistent: true, ...over }) as ServerInfo;

  it('shuts down persistent running servers, leaves stopped ones alone, refuses non-persistent ones', () => {
    expect(stopPlan(info({}))).toEqual({ action: 'shutdown' });
    expect(stopPlan(info({ status: 'stopped' }))).toEqual({ action: 'none' });
    expect(stopPlan(info({ persistent: false }))).toMatchObject({ action: 'refuse', code: 'SERVER_NOT_PERSISTENT' });
    expect(stopPlan(info({ status: 'dumped' }))).toMatchObject({ action: 'refuse', code: 'SERVER_STATE' });
    expect(timeoutAction(false)).toBe('refuse');
    expect(timeoutAction(true)).toBe('power-off');
  });

  it('finds the servers in claim tokens and groups drives that share a server, in the order given', () => {
    expect(claimingServers(['h:guest:S1:ide:0:0', 'h:guest:S2:block:1', 'h:guest:S1:ide:0:1', 'junk'])).toEqual(['S1', 'S2']);
    const groups = groupByServers([
      { item: 'd1', account: 'eh', servers: ['S1'] },
      { item: 'f', account: '', servers: [] },
      { item: 'd2', account: 'eh', servers: ['S2'] },
      { item: 'd3', account: 'eh', servers: ['S2', 'S1'] }, // shared by both: joins the two groups
      { item: 'd4', account: 'other', servers: ['S1'] }, // same UUID in another account: not the same server
    ]);
    expect(groups.map((g) => g.items)).toEqual([['d1', 'd2', 'd3'], ['f'], ['d4']]);
    expect(groups[0]!.servers.sort()).toEqual(['S1', 'S2']);
  });
});

describe('withServerStopped', () => {
  it('runs the work with the server stopped and its drive unclaimed, then starts it again', async () => {
    const { server, drive } = await serverWith(a, 'lib-ok');
    expect((await a.driveInfo(drive)).claimed).toHaveLength(1);
    const seen = await withServerStopped(a, server, { pollMs: 20 }, async (stopped) => {
      expect(stopped).toEqual([{ uuid: server, name: 'lib-ok', method: 'acpi' }]);
      return { status: (await a.serverInfo(server)).status, claimed: (await a.driveInfo(drive)).claimed };
    });
    expect(seen).toEqual({ status: 'stopped', claimed: [] });
    expect((await a.serverInfo(server)).status).toBe('active');
  });

  it('starts the server again when the work fails, and passes the failure on', async () => {
    const { server } = await serverWith(a, 'lib-fail');
    const boom = new DrivesnapError('BOOM', 'the work failed');
    await expect(withServerStopped(a, server, { pollMs: 20 }, async () => Promise.reject(boom))).rejects.toBe(boom);
    expect((await a.serverInfo(server)).status).toBe('active');
  });

  it('a stop starts the server again at once, while the work is still winding down', async () => {
    const { server } = await serverWith(a, 'lib-stop');
    const controller = new AbortController();
    const work = withServerStopped(a, server, { pollMs: 20, signal: controller.signal }, async () => {
      controller.abort(new DrivesnapError('INTERRUPTED', 'stopped'));
      // The work has not returned: only a restart started by the stop itself brings the server back here.
      await waitUntil(async () => (await a.serverInfo(server)).status === 'active', 'the server to run again', 15_000);
      throw controller.signal.reason;
    });
    await expect(work).rejects.toMatchObject({ code: 'INTERRUPTED' });
    expect((await a.serverInfo(server)).status).toBe('active');
  });

  it('on timeout refuses and leaves the server running; with powerOffOnTimeout powers it off instead', async () => {
    const { server } = await serverWith(s, 'lib-slow');
    let ran = false;
    const refused = withServerStopped(s, server, { timeoutMs: 200, pollMs: 20 }, async () => {
      ran = true;
    });
    await expect(refused).rejects.toMatchObject({ code: 'SERVER_SHUTDOWN_TIMEOUT' });
    expect(ran).toBe(false);
    expect((await s.serverInfo(server)).status).toBe('active');

    const status = await withServerStopped(s, server, { timeoutMs: 200, pollMs: 20, powerOffOnTimeout: true }, async (stopped) => {
      expect(stopped.map((x) => x.method)).toEqual(['power-off']);
      return (await s.serverInfo(server)).status;
    });
    expect(status).toBe('stopped');
    expect((await s.serverInfo(server)).status).toBe('active');
  });

  it('refuses a non-persistent server without touching it (stopping would destroy it)', async () => {
    const { server } = await serverWith(a, 'lib-temp', false);
    await expect(withServerStopped(a, server, { pollMs: 20 }, async () => 1)).rejects.toMatchObject({ code: 'SERVER_NOT_PERSISTENT' });
    expect((await a.serverInfo(server)).status).toBe('active');
  });
});

describe('backup --shutdown-server (CLI)', () => {
  it('shuts the server down, backs up its drive, records it in the manifest, and starts it again', async () => {
    const r = await cliRepo();
    const { server, drive } = await serverWith(a, 'cli-ok');
    const res = await runCli(['backup', `eh:${drive}`, '--shutdown-server', '--json'], r.env);
    expect(res.code, res.stderr).toBe(0);
    const events = res.json.map((e) => e.event);
    // Stopped before the snapshot was taken, started after it.
    expect(events.indexOf('server-stopped')).toBeLessThan(events.indexOf('snapshot'));
    expect(events.indexOf('snapshot')).toBeLessThan(events.indexOf('server-started'));
    expect((await a.serverInfo(server)).status).toBe('active');
    const [snap] = await snapshotsOf(r, drive);
    const manifest = await r.repo.loadManifest(snap!.id);
    expect(manifest.meta.claimed).toBe(false);
    expect(manifest.meta.extra.serverShutdown).toEqual({
      consistency: 'shutdown',
      servers: [{ server, name: 'cli-ok', method: 'acpi' }],
    });
    expect(manifest.table.equals(await expectedTable(IMAGE, r.repo))).toBe(true);
  });

  it('starts the server again when the backup fails (repository not writable) and exits non-zero', async () => {
    const r = await cliRepo();
    // A file where the chunks directory belongs: every chunk write fails (ENOTDIR), even as root.
    await writeFile(join(r.dir!, 'chunks'), 'not a directory');
    const { server, drive } = await serverWith(a, 'cli-fail');
    const res = await runCli(['backup', `eh:${drive}`, '--shutdown-server', '--json'], r.env);
    expect(res.code).toBe(1);
    const events = res.json.map((e) => e.event);
    expect(events).toContain('server-stopped');
    expect(events).toContain('server-started');
    expect(events).not.toContain('snapshot');
    expect((await a.serverInfo(server)).status).toBe('active');
    expect(await snapshotsOf(r, drive)).toHaveLength(0);
  });

  it('refuses after --shutdown-timeout without --stop-server: server left running, nothing backed up', async () => {
    const r = await cliRepo();
    const { server, drive } = await serverWith(s, 'cli-slow');
    const env = { ...r.env, EHURI: slow.url };
    const res = await runCli(['backup', `eh:${drive}`, '--shutdown-server', '--shutdown-timeout', '0.3', '--json'], env);
    expect(res.code).toBe(1);
    expect(res.json.at(-1)).toMatchObject({ error: { code: 'SERVER_SHUTDOWN_TIMEOUT' } });
    expect((await s.serverInfo(server)).status).toBe('active');
    expect(await snapshotsOf(r, drive)).toHaveLength(0);
  });
});
