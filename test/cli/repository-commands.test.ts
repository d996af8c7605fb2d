/**
 * The repository's promises, through the CLI as users run it (issue 3): the index is only a cache
 * (`index rebuild` after losing it gives the same index), two processes backing up into one repository lose
 * nothing, a backup killed between chunk writes and its manifest leaves a repository that checks clean and
 * whose next backup reuses the orphaned chunks, passwords are managed with `key`, locks with `unlock`, and
 * the same works on an S3 repository.
 */
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRepository } from '../../src/ops/check.js';
import { RepoIndex } from '../../src/repo/index-db.js';
import { Repository } from '../../src/repo/repository.js';
import { LocalStore } from '../../src/store/local.js';
import { cliEnv, runCli, spawnCli, waitUntil } from '../helpers/engine-cli.js';
import { ACCOUNT_A, Cleanup, MiB, apiClient, createDriveWith, emulator, makeImage } from '../helpers/engine-fixtures.js';
import { s3CliEnv } from '../helpers/s3-cli-env.js';
import { type S3TestServer, startS3Server } from '../helpers/s3-server.js';

const cleanup = new Cleanup();
afterAll(() => cleanup.run());

const PASSWORD = 'repository-test-password';
const IMAGE_A = makeImage([{ text: 1 }, 'zero', { random: 2 }, { text: 3 }, { dup: 0 }, { random: 4 }]);
const IMAGE_B = makeImage([{ text: 1 }, { random: 5 }, 'zero', { text: 6 }, { random: 4 }], MiB);

interface Setup {
  dir: string;
  repo: string;
  env: NodeJS.ProcessEnv;
}

async function setup(extra: Record<string, string> = {}): Promise<Setup> {
  const dir = await cleanup.tempDir('drivesnap-repo-cli-');
  const repo = join(dir, 'repo');
  await writeFile(join(dir, 'accounts.yaml'), 'accounts: {}\n');
  await writeFile(join(dir, 'a.img'), IMAGE_A);
  await writeFile(join(dir, 'b.img'), IMAGE_B);
  const env = cliEnv({
    DRIVESNAP_REPO: repo,
    DRIVESNAP_PASSWORD: PASSWORD,
    DRIVESNAP_CONFIG: join(dir, 'accounts.yaml'),
    DRIVESNAP_JOBS_DB: join(dir, 'jobs.sqlite'),
    HOME: dir,
    ...extra,
  });
  const init = await runCli(['init'], env);
  expect(init.code, init.stderr).toBe(0);
  return { dir, repo, env };
}

/** Everything the index says, in a stable order, for comparing two indexes. */
function indexContent(path: string) {
  const index = RepoIndex.open(path);
  try {
    const snapshots = index.listSnapshots().map((s) => ({ ...s, table: index.snapshotTable(s.id)!.toString('hex') }));
    const chunks = [...index.allChunkIds()].map((id) => id.toString('hex')).sort();
    return { snapshots, chunks, storedBytes: index.storedBytes() };
  } finally {
    index.close();
  }
}

async function chunkFiles(repo: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(join(repo, 'chunks')).catch(() => [] as string[])) {
    for (const f of await readdir(join(repo, 'chunks', d))) if (!f.startsWith('.')) out.push(f);
  }
  return out.sort();
}

describe('the index is a cache', () => {
  it('index rebuild after deleting the SQLite file gives the same index', async () => {
    const s = await setup();
    for (const img of ['a.img', 'b.img']) expect((await runCli(['backup', join(s.dir, img)], s.env)).code).toBe(0);
    const indexPath = join(s.repo, 'cache', 'index.sqlite');
    const before = indexContent(indexPath);
    expect(before.snapshots).toHaveLength(2);
    expect(before.chunks.length).toBeGreaterThan(4);
    for (const suffix of ['', '-wal', '-shm']) await rm(indexPath + suffix, { force: true });
    const r = await runCli(['index', 'rebuild', '--json'], s.env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.at(-1)).toMatchObject({ snapshots: 2, chunks: before.chunks.length });
    expect(indexContent(indexPath)).toEqual(before);
  });
});

describe('several writers', () => {
  it('two processes backing up into one repository at once lose nothing', async () => {
    const s = await setup();
    const a = spawnCli(['backup', join(s.dir, 'a.img'), '--json'], s.env);
    const b = spawnCli(['backup', join(s.dir, 'b.img'), '--json'], s.env);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    for (const [img, data] of [
      ['a.img', IMAGE_A],
      ['b.img', IMAGE_B],
    ] as const) {
      const out = join(s.dir, `restored-${img}`);
      const r = await runCli(['restore', 'latest', '--drive', join(s.dir, img), '--to', out, '--verify'], s.env);
      expect(r.code, r.stderr).toBe(0);
      expect((await readFile(out)).equals(data)).toBe(true);
    }
    const check = await runCli(['check', '--read-data'], s.env);
    expect(check.code, check.stderr).toBe(0);
  });
});

describe('a backup killed between its chunk writes and its manifest', () => {
  it('leaves a repository that checks clean, and the next backup reuses the orphaned chunks', async () => {
    const emu = await emulator(cleanup, { faults: { latencyMs: 150, calls: ['read'] } });
    const c = apiClient(cleanup, emu);
    const image = makeImage(Array.from({ length: 12 }, (_, i) => ({ random: 100 + i })));
    await createDriveWith(c, 'slow', image);
    const s = await setup({ EHURI: emu.url, EHAUTH: `${ACCOUNT_A.user}:${ACCOUNT_A.secret}` });
    const job = spawnCli(['backup', 'eh:slow', '--concurrency', '2'], s.env);
    await waitUntil(async () => (await chunkFiles(s.repo)).length >= 4, 'some chunks stored');
    job.child.kill('SIGKILL');
    const killed = await job.done;
    expect(killed.signal).toBe('SIGKILL');
    const orphans = await chunkFiles(s.repo);
    expect(orphans.length).toBeGreaterThanOrEqual(4);
    expect(orphans.length).toBeLessThan(12);

    const repo = await Repository.open(new LocalStore(s.repo), { password: PASSWORD, indexPath: () => join(s.dir, 'fresh-index.sqlite') });
    try {
      const report = await checkRepository(repo, { readData: 1 });
      expect(report.problems).toEqual([]);
      expect(report.snapshots).toBe(0);
      expect(report.unreferencedChunks).toBe(orphans.length);
    } finally {
      await repo.close();
    }

    // A new host (fresh index) backs up the same drive: the orphans are found in the repository, not re-sent.
    const again = await runCli(['backup', 'eh:slow', '--json'], { ...s.env, DRIVESNAP_INDEX: join(s.dir, 'host2.sqlite') });
    expect(again.code, again.stderr).toBe(0);
    const done = again.json.find((j) => j.event === 'snapshot') as { counts: Record<string, number> };
    expect(done.counts.unchanged).toBe(orphans.length);
    expect(done.counts.new).toBe(12 - orphans.length);
    const after = await chunkFiles(s.repo);
    expect(after).toHaveLength(12);
    for (const f of orphans) expect(after).toContain(f);
  });
});

describe('keys', () => {
  it('adds, lists and removes passwords; a removed password no longer opens; the last key stays', async () => {
    const s = await setup();
    const second = join(s.dir, 'second.pw');
    await writeFile(second, 'another password\n');
    const add = await runCli(['key', 'add', '--new-password-file', second, '--json'], s.env);
    expect(add.code, add.stderr).toBe(0);
    const list = await runCli(['key', 'list', '--json'], s.env);
    const keys = JSON.parse(list.stdout) as { id: string; host: string }[];
    expect(keys).toHaveLength(2);
    expect(keys.every((k) => k.host === hostname())).toBe(true);
    expect(list.stdout).not.toContain(PASSWORD);

    const withSecond = { ...s.env, DRIVESNAP_PASSWORD: undefined };
    expect((await runCli(['snapshots', '--password-file', second], withSecond)).code).toBe(0);
    const firstId = keys.find((k) => k.id !== (add.json.at(-1) as { added: string }).added)!.id;
    expect((await runCli(['key', 'remove', firstId], s.env)).code).toBe(0);
    const wrong = await runCli(['snapshots'], s.env);
    expect(wrong.code).toBe(12);
    expect(wrong.stderr).not.toContain(PASSWORD);
    const last = await runCli(['key', 'remove', (add.json.at(-1) as { added: string }).added, '--password-file', second], withSecond);
    expect(last.code).toBe(2);
    expect(last.stderr).toMatch(/only key/);
  });
});

describe('locks', () => {
  it('a live lock of another host blocks a backup with exit 11 naming it; unlock keeps it, --remove-all removes it', async () => {
    const s = await setup();
    const now = new Date().toISOString();
    await mkdir(join(s.repo, 'locks'), { recursive: true });
    const lock = { host: 'other-host', pid: 4242, user: 'ops', time: now, refreshed: now, exclusive: true };
    await writeFile(join(s.repo, 'locks', 'f'.repeat(32)), JSON.stringify(lock));
    const blocked = await runCli(['backup', join(s.dir, 'a.img')], s.env);
    expect(blocked.code).toBe(11);
    expect(blocked.stderr).toMatch(/other-host/);
    expect((await runCli(['unlock'], s.env)).code).toBe(0);
    expect((await runCli(['backup', join(s.dir, 'a.img')], s.env)).code).toBe(11);
    const all = await runCli(['unlock', '--remove-all', '--json'], s.env);
    expect(all.json.at(-1)).toMatchObject({ removed: 1 });
    expect((await runCli(['backup', join(s.dir, 'a.img')], s.env)).code).toBe(0);
  });
});

describe('cat', () => {
  it('prints the config and a snapshot as JSON, without secrets', async () => {
    const s = await setup();
    expect((await runCli(['backup', join(s.dir, 'a.img')], s.env)).code).toBe(0);
    const config = JSON.parse((await runCli(['cat', 'config'], s.env)).stdout);
    expect(config).toMatchObject({ version: 1, encryption: 'aes-256-gcm', chunkSize: 4 * MiB });
    const snap = JSON.parse((await runCli(['cat', 'snapshot', 'latest'], s.env)).stdout);
    expect(snap.chunks).toHaveLength(6);
    expect(snap.chunks[1]).toBeNull();
    expect(snap.chunks[4]).toBe(snap.chunks[0]);
    expect(JSON.stringify(snap)).not.toContain(PASSWORD);
  });

  it('with --json prints one object on one line, as every command does', async () => {
    const s = await setup();
    const r = await runCli(['cat', 'config', '--json'], s.env);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ version: 1, chunkSize: 4 * MiB });
  });
});

describe('an S3 repository', () => {
  let s3: S3TestServer;
  beforeAll(async () => {
    s3 = await startS3Server();
    cleanup.add(() => s3.close());
  });

  it('init, backup, snapshots, restore and check work through s3:// with the endpoint from the environment', async () => {
    const dir = await cleanup.tempDir('drivesnap-repo-s3-');
    await writeFile(join(dir, 'a.img'), IMAGE_A);
    await writeFile(join(dir, 'accounts.yaml'), 'accounts: {}\n');
    const env = s3CliEnv(s3, 'team/repo', {
      DRIVESNAP_PASSWORD: PASSWORD,
      DRIVESNAP_CONFIG: join(dir, 'accounts.yaml'),
      XDG_CACHE_HOME: join(dir, 'cache'),
      HOME: dir,
    });
    for (const args of [['init'], ['backup', join(dir, 'a.img')], ['restore', 'latest', '--to', join(dir, 'out.img'), '--verify'], ['check', '--read-data']]) {
      const r = await runCli(args, env);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    expect((await readFile(join(dir, 'out.img'))).equals(IMAGE_A)).toBe(true);
    // The index of an S3 repository lives in the user's cache directory, keyed by the repository id.
    const cacheDirs = await readdir(join(dir, 'cache', 'drivesnap'));
    expect(cacheDirs).toHaveLength(1);
    expect((await stat(join(dir, 'cache', 'drivesnap', cacheDirs[0]!, 'index.sqlite'))).isFile()).toBe(true);
  });
});

