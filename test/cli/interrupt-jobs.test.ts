/**
 * Ctrl-C (SIGINT) and SIGTERM sent to a real CLI process part-way through a job, with the emulator slowed
 * (every drive read or write waits) so the job is surely in flight: the process winds down on the one stop
 * signal (src/cli/stop.ts) and exits 130 with the INTERRUPTED message, the repository keeps no lock, and
 * the same command run again resumes (ranges resumed > 0) and succeeds: backup (also with servers held
 * down, which run again), run JOBFILE, clone by copying. The emulator command stops on the same signal,
 * cleans up and exits 130.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { ApiClient } from '../../src/api/client.js';
import type { Emulator } from '../../src/emulator/index.js';
import { listLocks } from '../../src/repo/locks.js';
import { LocalStore } from '../../src/store/local.js';
import { type CliResult, spawnCli, waitUntil } from '../helpers/engine-cli.js';
import {
  ACCOUNT_B,
  apiClient,
  chunkFilesOnDisk,
  Cleanup,
  createDriveWith,
  emulator,
  emulatorCliEnv,
  localRepo,
  makeImage,
  type RangeSpec,
  readWholeDrive,
  type TestRepo,
} from '../helpers/engine-fixtures.js';

const LATENCY_MS = 200;
const image = (seed: number) => makeImage(Array.from({ length: 16 }, (_, i): RangeSpec => ({ random: seed + i })));

const cleanup = new Cleanup();
let emu: Emulator;
let c: ApiClient;
let t: TestRepo;
let env: NodeJS.ProcessEnv;
let work: string;

beforeAll(async () => {
  emu = await emulator(cleanup);
  c = apiClient(cleanup, emu);
  work = await cleanup.tempDir();
  t = await localRepo(cleanup, false);
  env = await emulatorCliEnv(emu, work, { DRIVESNAP_REPO: t.dir!, DRIVESNAP_INDEX: t.indexPath });
});
afterAll(() => cleanup.run());

/** Runs `args` with --json, sends `signal` once a progress line shows 3 ranges done, returns the result. */
async function interruptPartWay(args: string[], signal: NodeJS.Signals, runEnv = env): Promise<CliResult> {
  let ready = false;
  const run = spawnCli([...args, '--json', '--concurrency', '2'], runEnv, (stdout) => {
    ready ||= /"event":"progress"[^\n]*"rangesDone":([3-9]|1[0-5])\b/.test(stdout);
  });
  let exited = false;
  void run.done.then(() => {
    exited = true;
  });
  await waitUntil(() => exited || ready, 'the job to be part-way', 60_000, 10);
  run.child.kill(signal);
  return run.done;
}

/** What every interrupted job must show: exit 130 through main (the job wound down), no lock left. */
async function expectCleanStop(r: CliResult, signal: NodeJS.Signals): Promise<void> {
  expect(r.code, r.stderr).toBe(130);
  expect(r.stderr).toMatch(new RegExp(`interrupted \\(${signal}\\)`));
  expect(r.json.at(-1)).toMatchObject({ error: { code: 'INTERRUPTED' } });
  expect(await listLocks(new LocalStore(t.dir!))).toEqual([]);
}

/** The rerun's final progress: it finished, and took over ranges the interrupted run had done. */
function resumedRanges(r: CliResult): number {
  const last = r.json.filter((j) => j.event === 'progress').at(-1) as { counts: Record<string, number> } | undefined;
  return last?.counts.resumed ?? 0;
}

describe.each(['SIGINT', 'SIGTERM'] as const)('%s part-way', (signal) => {
  const seed = signal === 'SIGINT' ? 100 : 200;
  const drive = `big-${signal}`;

  it('backup: exits 130, leaves no lock, and the rerun resumes and commits the snapshot', async () => {
    await createDriveWith(c, drive, image(seed));
    emu.setFaults({ latencyMs: LATENCY_MS, calls: ['read'] });
    try {
      const stopped = await interruptPartWay(['backup', `eh:${drive}`], signal);
      await expectCleanStop(stopped, signal);
      expect(stopped.json.some((j) => j.event === 'snapshot')).toBe(false);
    } finally {
      emu.setFaults(undefined);
    }
    const rerun = await spawnCli(['backup', `eh:${drive}`, '--json'], env).done;
    expect(rerun.code, rerun.stderr).toBe(0);
    const snapshot = rerun.json.find((j) => j.event === 'snapshot') as { counts: Record<string, number> };
    expect(snapshot.counts.resumed ?? 0).toBeGreaterThan(0);
  });

  it('restore --to-new: exits 130, leaves no lock, and the rerun resumes into the drive it made', async () => {
    const target = `restored-${signal}`;
    emu.setFaults({ latencyMs: LATENCY_MS, calls: ['write'] });
    try {
      const stopped = await interruptPartWay(['restore', 'latest', '--drive', `eh:${drive}`, '--to-new', `eh:${target}`], signal);
      await expectCleanStop(stopped, signal);
    } finally {
      emu.setFaults(undefined);
    }
    const rerun = await spawnCli(['restore', 'latest', '--drive', `eh:${drive}`, '--to-new', `eh:${target}`, '--json'], env).done;
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(resumedRanges(rerun)).toBeGreaterThan(0);
    const made = (await c.listDriveInfo()).filter((d) => d.name === target);
    expect(made).toHaveLength(1);
    expect((await readWholeDrive(c, made[0]!.uuid)).equals(image(seed))).toBe(true);
  });

  it('copy to a file: exits 130, and the rerun resumes and finishes the copy', async () => {
    const file = join(work, `copy-${signal}.img`);
    const source = (await c.listDriveInfo()).find((d) => d.name === drive)!;
    emu.setFaults({ latencyMs: LATENCY_MS, calls: ['read'] });
    try {
      const stopped = await interruptPartWay(['copy', `eh:${source.uuid}`, file], signal);
      await expectCleanStop(stopped, signal);
    } finally {
      emu.setFaults(undefined);
    }
    const rerun = await spawnCli(['copy', `eh:${source.uuid}`, file, '--json'], env).done;
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(resumedRanges(rerun)).toBeGreaterThan(0);
  });
});

describe('backup --shutdown-server', () => {
  it('SIGINT part-way: the server it shut down runs again, exit 130, no lock left', async () => {
    const disk = await createDriveWith(c, 'srv-disk', image(400));
    const server = (await c.createServer({ name: 'srv', cpu: 1000, mem: 512, persistent: true, 'ide:0:0': disk, boot: 'ide:0:0' })).uuid;
    emu.setFaults({ latencyMs: LATENCY_MS, calls: ['read'] });
    try {
      const stopped = await interruptPartWay(['backup', 'eh:srv-disk', '--shutdown-server'], 'SIGINT');
      await expectCleanStop(stopped, 'SIGINT');
      expect(stopped.json.map((j) => j.event)).toContain('server-stopped');
    } finally {
      emu.setFaults(undefined);
    }
    expect((await c.serverInfo(server)).status).toBe('active');
  });
});

describe('clone to another account', () => {
  it('SIGINT part-way: exits 130, and the rerun resumes into the drive it made and finishes it', async () => {
    const b = apiClient(cleanup, emu, ACCOUNT_B);
    const config = join(work, 'accounts-b.yaml');
    await writeFile(config, stringify({ accounts: { b: { url: emu.url, user: ACCOUNT_B.user, secretEnv: 'B_SECRET' } } }));
    const cloneEnv = { ...env, DRIVESNAP_CONFIG: config, B_SECRET: ACCOUNT_B.secret };
    const data = image(500);
    await createDriveWith(c, 'to-clone', data);
    const args = ['clone', 'eh:to-clone', '--name', 'cloned', '--to', 'b:'];
    emu.setFaults({ latencyMs: LATENCY_MS, calls: ['read'] });
    try {
      const stopped = await interruptPartWay(args, 'SIGINT', cloneEnv);
      expect(stopped.code, stopped.stderr).toBe(130);
      expect(stopped.json.at(-1)).toMatchObject({ error: { code: 'INTERRUPTED' } });
    } finally {
      emu.setFaults(undefined);
    }
    const rerun = await spawnCli([...args, '--json'], cloneEnv).done;
    expect(rerun.code, rerun.stderr).toBe(0);
    const result = rerun.json.at(-1) as { method: string; drive: string; counts: Record<string, number> };
    expect(result.method).toBe('copy');
    expect(result.counts.resumed ?? 0).toBeGreaterThan(0);
    expect((await b.listDriveInfo()).filter((d) => d.name === 'cloned').map((d) => d.uuid)).toEqual([result.drive]);
    expect((await readWholeDrive(b, result.drive)).equals(data)).toBe(true);
  });
});

describe('run JOBFILE', () => {
  it('SIGTERM part-way: exits 130, leaves no lock, and the next run resumes the backup', async () => {
    await createDriveWith(c, 'run-big', image(300));
    const job = join(work, 'job.yaml');
    await writeFile(job, stringify({ repository: { location: t.dir }, drives: ['eh:run-big'], concurrency: 2 }));
    emu.setFaults({ latencyMs: LATENCY_MS, calls: ['read'] });
    try {
      const run = spawnCli(['run', job, '--json'], env);
      let exited = false;
      void run.done.then(() => {
        exited = true;
      });
      const before = (await chunkFilesOnDisk(t.dir!)).size;
      await waitUntil(async () => exited || (await chunkFilesOnDisk(t.dir!)).size >= before + 3, 'the run to be part-way', 60_000, 10);
      run.child.kill('SIGTERM');
      await expectCleanStop(await run.done, 'SIGTERM');
    } finally {
      emu.setFaults(undefined);
    }
    const rerun = await spawnCli(['run', job, '--json'], env).done;
    expect(rerun.code, rerun.stderr).toBe(0);
    const snapshot = rerun.json.find((j) => j.event === 'snapshot') as { location: string; counts: Record<string, number> };
    expect(snapshot.location).toBe('eh:run-big');
    expect(snapshot.counts.resumed ?? 0).toBeGreaterThan(0);
  });
});

describe('emulator', () => {
  it('stops on SIGINT: closes, removes its temporary data directory, exits 130', async () => {
    let url = '';
    const run = spawnCli(['emulator', '--listen', '127.0.0.1:0', '--json'], env, (stdout) => {
      url = /"ehuri":"([^"]+)"/.exec(stdout)?.[1] ?? '';
    });
    await waitUntil(() => url !== '', 'the emulator to serve');
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code, r.stderr).toBe(130);
    const dataDir = (r.json[0] as { dataDir: string }).dataDir;
    const { access } = await import('node:fs/promises');
    await expect(access(dataDir)).rejects.toThrow();
  });
});
