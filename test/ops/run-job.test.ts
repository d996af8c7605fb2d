/**
 * `drivesnap run JOBFILE` end to end against the emulator: two accounts of one emulator named in an
 * accounts config file (secrets from environment variables), drives picked by name and by tag, retention,
 * and prune/check on their cadence (remembered between runs). Exit 0 when every drive is backed up, 3 when
 * one drive is missing and the rest succeed, 1 when none succeeds. `run --daemon` keeps the schedule and
 * stops cleanly on SIGTERM.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { ApiClient } from '../../src/api/client.js';
import type { Emulator } from '../../src/emulator/index.js';
import type { Repository } from '../../src/repo/repository.js';
import { listLocks } from '../../src/repo/locks.js';
import { ACCOUNT_A, ACCOUNT_B, apiClient, Cleanup, emulator, makeImage, RANGE } from '../helpers/engine-fixtures.js';
import { cliEnv, runOps, spawnOps, waitUntil } from '../helpers/ops-cli.js';
import { initRepo, PASSWORD, restoredHash } from '../helpers/ops-fixtures.js';
import { sha256 } from '../helpers/engine-fixtures.js';

const cleanup = new Cleanup();
let dir: string;
let emu: Emulator;
let a: ApiClient;
let b: ApiClient;
let repo: Repository;
let env: NodeJS.ProcessEnv;
const content = { web: makeImage([{ random: 1 }, 'zero']), db: makeImage([{ text: 2 }, { random: 3 }]) };

async function jobFile(name: string, extra: Record<string, unknown>): Promise<string> {
  const path = join(dir, name);
  const job = {
    repository: { location: './repo', passwordEnv: 'JOB_REPO_PASSWORD' },
    accounts: ['alpha', 'beta'],
    drives: ['alpha:web', { account: 'beta', tags: ['prod'] }],
    tags: ['nightly'],
    ...extra,
  };
  await writeFile(path, stringify(job));
  return path;
}

const events = (r: { json: Record<string, unknown>[] }, event: string) => r.json.filter((j) => j.event === event);

beforeAll(async () => {
  dir = await cleanup.tempDir('drivesnap-run-');
  emu = await emulator(cleanup);
  a = apiClient(cleanup, emu, ACCOUNT_A);
  b = apiClient(cleanup, emu, ACCOUNT_B);
  const web = await a.createDrive({ name: 'web', size: content.web.length });
  await a.writeDrive(web.uuid, 0, content.web.subarray(0, RANGE), { encoding: 'raw' });
  const db = await b.createDrive({ name: 'db', size: content.db.length, tags: ['prod'] });
  await b.writeDrive(db.uuid, 0, content.db, { encoding: 'raw' });
  // Not tagged prod: the job must leave it alone.
  await b.createDrive({ name: 'scratch', size: RANGE });
  const indexPath = join(dir, 'index.sqlite');
  repo = await initRepo(cleanup, join(dir, 'repo'), indexPath);
  const config = join(dir, 'accounts.yaml');
  await writeFile(
    config,
    stringify({
      accounts: {
        alpha: { url: emu.url, user: ACCOUNT_A.user, secretEnv: 'ALPHA_SECRET' },
        beta: { url: emu.url, user: ACCOUNT_B.user, secretEnv: 'BETA_SECRET' },
      },
    }),
  );
  env = cliEnv({
    DRIVESNAP_CONFIG: config,
    DRIVESNAP_INDEX: indexPath,
    ALPHA_SECRET: ACCOUNT_A.secret,
    BETA_SECRET: ACCOUNT_B.secret,
    JOB_REPO_PASSWORD: PASSWORD,
  });
});
afterAll(() => cleanup.run());

describe('run JOBFILE', () => {
  const policy = { retention: { last: 1 }, prune: { every: '1d' }, check: { every: '1d', readDataSubset: '100%' } };

  it('first run: both accounts backed up (by name and by tag), prune and check run as due, exit 0', async () => {
    const r = await runOps(['run', await jobFile('job.yaml', policy), '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(events(r, 'snapshot').map((e) => e.location).sort()).toEqual(['alpha:web', 'beta:db']);
    expect(events(r, 'prune')).toHaveLength(1);
    expect(events(r, 'check')[0]).toMatchObject({ problems: 0 });
    expect(events(r, 'summary')[0]).toMatchObject({ exitCode: 0 });
    await repo.sync();
    const snaps = repo.index.listSnapshots();
    expect(snaps.map((s) => s.driveName).sort()).toEqual(['db', 'web']);
    expect(snaps.every((s) => s.tags.includes('nightly'))).toBe(true);
    const db = snaps.find((s) => s.driveName === 'db')!;
    expect(db.account).toBe('beta');
    expect(await restoredHash(repo, db.id, dir)).toBe(sha256(content.db));
  });

  it('second run: retention keeps the last snapshot per drive; prune and check are not due yet', async () => {
    const r = await runOps(['run', join(dir, 'job.yaml'), '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(events(r, 'forget')[0]).toMatchObject({ removed: 2, kept: 2 });
    expect(events(r, 'prune')).toEqual([]);
    expect(events(r, 'check')).toEqual([]);
    await repo.sync();
    const ids = new Set(repo.index.listSnapshots().map((s) => s.id));
    expect(ids).toEqual(new Set(events(r, 'snapshot').map((e) => e.snapshot)));
  });

  it('a missing drive: the others are backed up and the run exits 3', async () => {
    const job = await jobFile('job-missing.yaml', { drives: ['alpha:web', 'alpha:nope', { account: 'beta', tags: ['prod'] }] });
    const r = await runOps(['run', job, '--json'], env);
    expect(r.code).toBe(3);
    expect(events(r, 'error').map((e) => e.location)).toEqual(['alpha:nope']);
    expect(events(r, 'snapshot').map((e) => e.location).sort()).toEqual(['alpha:web', 'beta:db']);
  });

  it('every drive missing: exit 1', async () => {
    const job = await jobFile('job-none.yaml', { drives: ['alpha:nope', 'beta:gone'] });
    const r = await runOps(['run', job], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/alpha:nope/);
    expect(r.stdout).toMatch(/0 of 2 drive\(s\) backed up; exit 1/);
  });

  it('run --daemon runs on its schedule and stops cleanly on SIGTERM, leaving no lock', async () => {
    const job = await jobFile('job-daemon.yaml', { drives: ['alpha:web'], schedule: '* * * * * *' });
    const before = repo.index.listSnapshots().length;
    const d = spawnOps(['run', job, '--daemon', '--json'], env);
    let stdout = '';
    d.child.stdout!.on('data', (t: Buffer | string) => {
      stdout += t.toString();
    });
    await waitUntil(() => stdout.includes('"event":"run-end"'), 'a scheduled run to finish');
    d.child.kill('SIGTERM');
    const r = await d.done;
    expect(r.code).toBe(0);
    expect(events(r, 'stopped')).toHaveLength(1);
    expect(events(r, 'run-end')[0]).toMatchObject({ exitCode: 0 });
    await repo.sync();
    expect(repo.index.listSnapshots().length).toBeGreaterThan(before);
    expect(await listLocks(repo.store)).toEqual([]);
  });
});

describe('run JOBFILE with a status block', () => {
  it('writes the status file and the Prometheus file (one entry per drive) and pings the success URL', async () => {
    const pings: { method?: string; url?: string; body: string }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        pings.push({ method: req.method, url: req.url, body });
        res.end('OK');
      });
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    cleanup.add(() => new Promise<void>((ok) => server.close(() => ok())));
    const { port } = server.address() as AddressInfo;
    const job = await jobFile('job-status.yaml', {
      status: { file: 'status/run.json', prometheus: 'status/run.prom', ping: { url: `http://127.0.0.1:${port}/ping/abc` } },
    });
    const r = await runOps(['run', job, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(events(r, 'warning')).toEqual([]);

    const status = JSON.parse(await readFile(join(dir, 'status', 'run.json'), 'utf8'));
    expect(status).toMatchObject({ version: 1, job, lastPass: { exitCode: 0, ok: true }, passes: 1 });
    const snapshots = new Map(events(r, 'snapshot').map((e) => [e.location, e.snapshot]));
    expect(status.drives.map((d: { drive: string }) => d.drive).sort()).toEqual(['alpha:web', 'beta:db']);
    for (const d of status.drives) {
      expect(d).toMatchObject({ lastAttemptOk: true, consecutiveFailures: 0, lastSnapshot: snapshots.get(d.drive), made: expect.any(String) });
      expect(d.bytesStored).toBe(d.drive === 'alpha:web' ? content.web.length : content.db.length);
    }
    const prom = await readFile(join(dir, 'status', 'run.prom'), 'utf8');
    for (const drive of ['alpha:web', 'beta:db']) {
      expect(prom).toMatch(new RegExp(`^drivesnap_drive_last_success_timestamp_seconds\\{[^}]*drive="${drive}"[^}]*\\} \\d`, 'm'));
    }
    expect(prom).toMatch(/^drivesnap_run_last_pass_exit_code\{[^}]*\} 0$/m);
    expect(pings).toHaveLength(1);
    expect(pings[0]).toMatchObject({ method: 'POST', url: '/ping/abc' });
  });
});

describe('run JOBFILE with a status block, failing before it knows its drives', () => {
  it('still writes the status (the pass and its error code) and pings the failure URL', async () => {
    const pings: string[] = [];
    const server = createServer((req, res) => {
      pings.push(`${req.method} ${req.url}`);
      req.resume();
      req.on('end', () => res.end('OK'));
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    cleanup.add(() => new Promise<void>((ok) => server.close(() => ok())));
    const { port } = server.address() as AddressInfo;
    const job = await jobFile('job-broken.yaml', {
      repository: { location: './no-such-repo', passwordEnv: 'JOB_REPO_PASSWORD' },
      status: { file: 'status/broken.json', ping: { url: `http://127.0.0.1:${port}/hc/xyz`, method: 'GET' } },
    });
    const r = await runOps(['run', job, '--json'], env);
    expect(r.code).not.toBe(0);
    const status = JSON.parse(await readFile(join(dir, 'status', 'broken.json'), 'utf8'));
    expect(status).toMatchObject({ job, lastPass: { ok: false, exitCode: r.code, errorCode: 'REPO_NOT_FOUND' }, drives: [] });
    expect(pings).toEqual(['GET /hc/xyz/fail']);
  });
});
