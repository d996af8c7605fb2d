/**
 * Server migration (issue 5, part 2) between two emulators standing for two providers, each with its own
 * account: the configuration arrives intact (drive UUIDs and state aside), the drives are byte-identical,
 * `--start` starts the new server, and an interrupted migration resumes without copying anything twice.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/api/client.js';
import type { ApiObject } from '../../src/api/wire.js';
import { type Emulator, STANDARD_DRIVES } from '../../src/emulator/index.js';
import { DrivesnapError } from '../../src/errors.js';
import { translateServerConfig } from '../../src/ops/migrate-config.js';
import { migrateServer } from '../../src/ops/migrate-server.js';
import { RepoIndex } from '../../src/repo/index-db.js';
import { cliEnv, runCli } from '../helpers/engine-cli.js';
import {
  ACCOUNT_A,
  ACCOUNT_B,
  apiClient,
  Cleanup,
  createDriveWith,
  emulator,
  makeImage,
  nonZeroRanges,
  readWholeDrive,
  writeCounters,
} from '../helpers/engine-fixtures.js';

/** What a running server reports about itself: not configuration. */
const STATE_KEY = /^(server|user|status|started|smp:cores|nic:\d:dhcp:ip|vnc:ip|rx|tx|rx:packets|tx:packets|.*:(read|write):(bytes|requests))$/;
const DEVICE = /^(ide:[01]:[01]|scsi:0:[0-7]|block:[0-7])$/;
const CDROM = STANDARD_DRIVES.find((d) => d.media === 'cdrom')!;


const cleanup = new Cleanup();
let emuA: Emulator;
let emuB: Emulator;
let a: ApiClient;
let b: ApiClient;

beforeAll(async () => {
  emuA = await emulator(cleanup);
  emuB = await emulator(cleanup);
  a = apiClient(cleanup, emuA, ACCOUNT_A);
  b = apiClient(cleanup, emuB, ACCOUNT_B);
});
afterAll(() => cleanup.run());

async function serverWithDrives(name: string, images: Record<string, Buffer>, extra: Record<string, string> = {}) {
  const config: Record<string, string> = {
    name,
    cpu: '2000',
    mem: '1024',
    smp: '2',
    persistent: 'true',
    boot: 'ide:0:0',
    'nic:0:model': 'virtio',
    'nic:0:dhcp': 'auto',
    tags: 'web prod',
    'user:role': 'frontend',
    ...extra,
  };
  for (const [device, image] of Object.entries(images)) config[device] = await createDriveWith(a, `${name}-${device}`, image);
  const info = await a.createServer(config);
  expect(info.status).toBe('active');
  return { uuid: info.uuid, config: info.raw };
}

describe('translateServerConfig', () => {
  it('swaps drive UUIDs, drops state, and leaves out what only the source account owns', () => {
    const source: ApiObject = {
      server: 'S',
      status: 'active',
      'ide:0:0': 'D1',
      'ide:0:0:read:bytes': '5',
      'ide:1:0': 'LIB',
      'ide:1:0:media': 'cdrom',
      boot: 'ide:1:0 ide:0:0',
      'nic:0:dhcp': '10.0.0.5',
      'nic:1:vlan': 'V',
      'nic:0:mac': 'aa:bb:cc:dd:ee:ff',
      'avoid:drives': 'D1 OTHER',
      'vnc:password': 'pw',
      'user:x': 'y',
      novel: 'z',
    };
    const other = translateServerConfig(source, { driveMap: { D1: 'N1', LIB: null }, sameAccount: false });
    expect(other.config).toEqual({
      'ide:0:0': 'N1',
      boot: 'ide:0:0',
      'nic:0:dhcp': 'auto',
      'nic:0:mac': 'aa:bb:cc:dd:ee:ff',
      'avoid:drives': 'N1',
      'vnc:password': 'pw',
      'user:x': 'y',
    });
    expect(other.notes.map((n) => n.key).sort()).toEqual(['ide:1:0', 'nic:0:dhcp', 'nic:1:vlan', 'novel']);
    expect(JSON.stringify(other.notes)).not.toContain('pw"');
    const same = translateServerConfig(source, { driveMap: { D1: 'N1', LIB: 'LIB' }, sameAccount: true, newMacs: true });
    expect(same.config).toMatchObject({ 'nic:0:dhcp': '10.0.0.5', 'nic:1:vlan': 'V', 'avoid:drives': 'N1 OTHER', 'ide:1:0': 'LIB' });
    expect(same.config['nic:0:mac']).toBeUndefined();
  });
});

describe('migrate-server (CLI) between two providers', () => {
  it('copies the three drives, recreates the server with the same configuration, and --start starts it', async () => {
    const images = {
      'ide:0:0': makeImage([{ text: 1 }, 'zero', { random: 2 }], 4096),
      'scsi:0:1': makeImage([{ random: 3 }]),
      'block:0': makeImage([{ text: 4 }, { dup: 0 }]),
    };
    const src = await serverWithDrives('web', images, {
      'ide:1:0': CDROM.drive,
      'ide:1:0:media': 'cdrom',
      'nic:0:mac': '02:00:00:00:00:01',
      vnc: 'auto',
      'vnc:password': 'vncSecr8',
    });
    const home = await cleanup.tempDir('drivesnap-migrate-home-');
    const config = join(home, 'config.yaml');
    await writeFile(
      config,
      `accounts:\n  a:\n    url: ${emuA.url}\n    user: ${ACCOUNT_A.user}\n    secretEnv: A_SECRET\n` +
        `  b:\n    url: ${emuB.url}\n    user: ${ACCOUNT_B.user}\n    secretEnv: B_SECRET\n`,
    );
    const env = cliEnv({
      DRIVESNAP_CONFIG: config,
      A_SECRET: ACCOUNT_A.secret,
      B_SECRET: ACCOUNT_B.secret,
      DRIVESNAP_JOBS_DB: join(home, 'jobs.sqlite'),
      HOME: home,
    });
    const res = await runCli(['migrate-server', 'a:web', 'b:', '--start', '--json'], env);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/crash-consistent/);
    expect(res.stdout + res.stderr).not.toContain('vncSecr8');
    const result = res.json.find((j) => j.event === 'migrated') as {
      server: string;
      started: boolean;
      mapping: Record<string, string | null>;
      drives: { device: string; action: string }[];
    };
    expect(result.started).toBe(true);
    expect(Object.fromEntries(result.drives.map((d) => [d.device, d.action]))).toEqual({
      'block:0': 'copied',
      'ide:0:0': 'copied',
      'ide:1:0': 'library-matched',
      'scsi:0:1': 'copied',
    });

    const dest = await b.serverInfo(result.server);
    expect(dest.status).toBe('active');
    for (const [key, value] of Object.entries(src.config)) {
      if (STATE_KEY.test(key)) continue;
      if (DEVICE.test(key)) expect(dest.raw[key], key).toBe(result.mapping[value]);
      else expect(dest.raw[key], key).toBe(value);
    }
    // Nothing more than the source's configuration (and the destination's own state keys).
    const extraKeys = Object.keys(dest.raw).filter((k) => !STATE_KEY.test(k) && !(k in src.config));
    expect(extraKeys).toEqual([]);
    for (const [device, image] of Object.entries(images)) {
      const to = result.mapping[src.config[device]!]!;
      expect(to).not.toBe(src.config[device]);
      expect((await readWholeDrive(b, to)).equals(image), device).toBe(true);
    }
    // The source is untouched and still running.
    expect((await a.serverInfo(src.uuid)).status).toBe('active');
  });
});

describe('migrateServer resume', () => {
  it('after an interrupted run, resumes without recopying finished drives or ranges (source shut down for the copy)', async () => {
    const images = {
      'block:0': makeImage([{ text: 21 }], 4096),
      'ide:0:0': makeImage([{ text: 11 }, { random: 12 }, 'zero', { text: 13 }]),
      'scsi:0:0': makeImage([{ random: 31 }, 'zero']),
    };
    const src = await serverWithDrives('resume', images);
    const work = await cleanup.tempDir('drivesnap-migrate-jobs-');
    const jobs = RepoIndex.open(join(work, 'jobs.sqlite'));
    cleanup.add(() => jobs.close());
    // One attempt per write: an injected failure fails its range at once.
    const dest = new ApiClient({ url: emuB.url, user: ACCOUNT_B.user, secret: ACCOUNT_B.secret, retry: { maxAttempts: 1 } });
    cleanup.add(() => dest.close());
    const base = { source: a, sourceAccount: 'a', dest, destAccount: 'b', server: src.uuid, jobs, parallelDrives: 1, concurrency: 1 };

    // Run 1: the first drive completes; the second fails after writing its first range (the destination
    // starts refusing writes), and so does the third.
    await expect(
      migrateServer({
        ...base,
        onDriveProgress: (d, p) => {
          if (d.device === 'ide:0:0' && p.count('written') === 1) emuB.setFaults({ systemRate: 1, calls: ['write'] });
        },
      }),
    ).rejects.toMatchObject({ code: 'RANGES_FAILED' });
    emuB.setFaults(undefined);
    expect(jobs.listJobs('migrate-server:')).toHaveLength(1);

    // Run 2, with the source shut down for the copy this time: it is started again afterwards.
    const result = await migrateServer({ ...base, shutdown: { pollMs: 20 } });
    expect(result.stoppedSource).toEqual([{ uuid: src.uuid, name: 'resume', method: 'acpi' }]);
    expect(result.crashConsistent).toBe(false);
    expect((await a.serverInfo(src.uuid)).status).toBe('active');
    const by = Object.fromEntries(result.drives.map((d) => [d.device, d]));
    expect(by['block:0']!.action).toBe('copied-earlier');
    expect(by['ide:0:0']!.action).toBe('copied');
    // Range 0 (written) and range 2 (zero) were finished in run 1.
    expect(by['ide:0:0']!.progress!.counts.resumed).toBe(2);
    for (const [device, image] of Object.entries(images)) {
      const to = by[device]!.to!;
      expect((await readWholeDrive(b, to)).equals(image), device).toBe(true);
      // A new drive reports one write of 4096 bytes; each non-zero range was then written exactly once.
      expect((await writeCounters(b, to)).requests - 1, device).toBe(nonZeroRanges(image).length);
    }
    // The drives the first run created were reused, not created again.
    const names = (await b.listDriveInfo()).map((d) => d.name).filter((n) => n.startsWith('resume-'));
    expect(names.sort()).toEqual(['resume-block:0', 'resume-ide:0:0', 'resume-scsi:0:0']);
    expect((await b.serverInfo(result.server)).status).toBe('stopped');
    expect(jobs.listJobs('migrate-server:')).toHaveLength(0);
  });

  it('a stop mid-copy ends with INTERRUPTED, starts the shut-down source again, and keeps the job for the rerun', async () => {
    const src = await serverWithDrives('stop', { 'ide:0:0': makeImage([{ text: 41 }, { random: 42 }, { text: 43 }]) });
    const work = await cleanup.tempDir('drivesnap-migrate-jobs-');
    const jobs = RepoIndex.open(join(work, 'jobs.sqlite'));
    cleanup.add(() => jobs.close());
    const controller = new AbortController();
    const run = migrateServer({
      source: a,
      sourceAccount: 'a',
      dest: b,
      destAccount: 'b',
      server: src.uuid,
      jobs,
      parallelDrives: 1,
      concurrency: 1,
      shutdown: { pollMs: 20 },
      signal: controller.signal,
      onDriveProgress: (_d, p) => {
        if (p.count('written') === 1) controller.abort(new DrivesnapError('INTERRUPTED', 'stopped'));
      },
    });
    await expect(run).rejects.toMatchObject({ code: 'INTERRUPTED' });
    expect((await a.serverInfo(src.uuid)).status).toBe('active');
    expect(jobs.listJobs('migrate-server:')).toHaveLength(1);
  });
});
