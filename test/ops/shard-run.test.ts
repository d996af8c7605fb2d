/**
 * `run --shard K/N` end to end: two hosts (two CLI processes, each with its own index) run the same job
 * at the same time against one S3 repository (a real S3-compatible server). Both succeed; every drive of
 * the job gets exactly one snapshot, from the shard its UUID hashes to; only shard 1 prunes; and the
 * repository checks clean afterwards.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { ApiClient } from '../../src/api/client.js';
import type { Emulator } from '../../src/emulator/index.js';
import { shardOf } from '../../src/ops/shard.js';
import { ACCOUNT_A, apiClient, Cleanup, createDriveWith, emulator, makeImage, PASSWORD, s3Repo, type TestRepo } from '../helpers/engine-fixtures.js';
import { runOps, spawnOps } from '../helpers/ops-cli.js';
import { s3CliEnv } from '../helpers/s3-cli-env.js';
import { type S3TestServer, startS3Server } from '../helpers/s3-server.js';

const cleanup = new Cleanup();
let s3: S3TestServer;
let emu: Emulator;
let c: ApiClient;
let t: TestRepo;
let dir: string;
const PREFIX = 'shards';
const drives = new Map<string, string>();

beforeAll(async () => {
  s3 = await startS3Server();
  cleanup.add(() => s3.close());
  emu = await emulator(cleanup);
  c = apiClient(cleanup, emu);
  t = await s3Repo(cleanup, s3, PREFIX);
  // s3rver keeps objects as files and removes a directory once it is empty: a lock put by one host while
  // another deletes the last lock then fails inside s3rver and kills it. Real S3 has no directories; an
  // object that is not a lock (the lock code ignores it) keeps locks/ from ever emptying here.
  await t.repo.store.put('locks/s3rver-keeps-this-directory/placeholder', Buffer.from('not a lock'));
  dir = await cleanup.tempDir('drivesnap-shards-');
  for (let i = 0; i < 6; i++) {
    const name = `host-${i}`;
    drives.set(await createDriveWith(c, name, makeImage([{ random: 700 + i }, { text: i }])), name);
  }
  await writeFile(
    join(dir, 'accounts.yaml'),
    stringify({ accounts: { alpha: { url: emu.url, user: ACCOUNT_A.user, secretEnv: 'ALPHA_SECRET' } } }),
  );
  await writeFile(
    join(dir, 'job.yaml'),
    stringify({
      repository: { location: `s3://${s3.bucket}/${PREFIX}`, passwordEnv: 'JOB_REPO_PASSWORD', s3Endpoint: s3.endpoint },
      drives: [{ account: 'alpha', all: true }],
      tags: ['nightly'],
      retention: { last: 1 },
      prune: { every: '1d' },
      parallelDrives: 2,
    }),
  );
}, 60_000);
afterAll(() => cleanup.run());

function hostEnv(host: string): NodeJS.ProcessEnv {
  return s3CliEnv(s3, PREFIX, {
    HOME: dir,
    DRIVESNAP_CONFIG: join(dir, 'accounts.yaml'),
    DRIVESNAP_INDEX: join(dir, `${host}-index.sqlite`),
    DRIVESNAP_JOBS_DB: join(dir, `${host}-jobs.sqlite`),
    ALPHA_SECRET: ACCOUNT_A.secret,
    JOB_REPO_PASSWORD: PASSWORD,
    DRIVESNAP_PASSWORD: PASSWORD,
  });
}

const events = (r: { json: Record<string, unknown>[] }, event: string) => r.json.filter((j) => j.event === event);

describe('run --shard K/N', () => {
  it('two shards at once against one S3 repository: both succeed, every drive backed up exactly once, check passes', async () => {
    const job = join(dir, 'job.yaml');
    const [one, two] = await Promise.all([
      spawnOps(['run', job, '--shard', '1/2', '--json'], hostEnv('one')).done,
      spawnOps(['run', job, '--shard', '2/2', '--json'], hostEnv('two')).done,
    ]);
    expect(one.code, one.stderr).toBe(0);
    expect(two.code, two.stderr).toBe(0);

    const byName = new Map([...drives].map(([uuid, name]) => [`alpha:${name}`, uuid]));
    for (const [r, index] of [
      [one, 1],
      [two, 2],
    ] as const) {
      const backedUp = events(r, 'snapshot').map((e) => e.location as string);
      // Exactly this shard's drives: those whose UUID hashes to it.
      expect(backedUp.sort()).toEqual([...byName].filter(([, uuid]) => shardOf(uuid, 2) === index).map(([label]) => label).sort());
      expect(events(r, 'summary')[0]).toMatchObject({ shard: `${index}/2` });
    }
    // Upkeep is shard 1's: it prunes (or finds the other host's lock and leaves prune due); shard 2 never tries.
    expect(events(one, 'prune')).toHaveLength(1);
    expect(events(two, 'prune')).toEqual([]);

    await t.repo.sync();
    const snapshots = t.repo.listSnapshots();
    expect(snapshots.map((s) => s.driveUuid).sort()).toEqual([...drives.keys()].sort());

    const check = await runOps(['check', '--read-data'], hostEnv('three'));
    expect(check.code, check.stderr + check.stdout).toBe(0);
  }, 120_000);

  it('refuses a malformed --shard with a usage error naming the option', async () => {
    const r = await runOps(['run', join(dir, 'job.yaml'), '--shard', '3/2'], hostEnv('one'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--shard takes K\/N/);
  });
});
