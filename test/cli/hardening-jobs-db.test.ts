/**
 * Where the jobs database (copy's and clone's checkpoints) and the index cannot be kept, from a real CLI
 * process each time: a directory under /proc, where Node's recursive mkdir used to spin forever. Each run
 * is killed if it outlives RUN_LIMIT_MS, so a hang fails the test instead of stalling the suite.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, cliEnv, spawnCli } from '../helpers/engine-cli.js';
import { finishWithin } from './hardening-bounded.js';

const RUN_LIMIT_MS = 30_000;

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'drivesnap-jobs-db-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true, maxRetries: 2 }).catch(() => undefined);
});

function runBounded(args: string[], vars: Record<string, string | undefined>): Promise<CliResult> {
  const env = cliEnv({ DRIVESNAP_PASSWORD: 'jobs-db-password', HOME: work, ...vars });
  return finishWithin(spawnCli(args, env), RUN_LIMIT_MS, `drivesnap ${args.join(' ')}`);
}

function errorLines(r: CliResult): string[] {
  return r.stderr.split('\n').filter((line) => line.startsWith('drivesnap:'));
}

describe.runIf(existsSync('/proc/self'))('a jobs database or index under /proc', () => {
  it('copy with DRIVESNAP_JOBS_DB under /proc fails at once, naming the directory, and writes no target', async () => {
    const source = join(work, 'a.img');
    const target = join(work, 'b.img');
    await writeFile(source, Buffer.alloc(64 * 1024, 7));
    const r = await runBounded(['copy', source, target], { DRIVESNAP_JOBS_DB: '/proc/x/jobs.sqlite' });
    expect(r.code).toBe(1);
    expect(errorLines(r)).toEqual([expect.stringMatching(/cannot create directory \/proc\/x: (ENOENT|EACCES)/)]);
    expect(existsSync(target)).toBe(false);
  });

  it('init with DRIVESNAP_INDEX under /proc fails before the repository is written', async () => {
    const repo = join(work, 'repo');
    const r = await runBounded(['init', '--repo', repo], { DRIVESNAP_INDEX: '/proc/x/index.sqlite' });
    expect(r.code).toBe(1);
    expect(errorLines(r)).toEqual([expect.stringMatching(/cannot create directory \/proc\/x: (ENOENT|EACCES)/)]);
    // No config, no key file: the location is as free as before, so a corrected init simply runs.
    const left = existsSync(repo) ? await readdir(repo, { recursive: true }) : [];
    expect(left.filter((name) => name === 'config' || name.startsWith('keys'))).toEqual([]);
  });
});
