/**
 * Places drivesnap cannot keep its files, from a real CLI process each time: a directory under /proc
 * (where Node's recursive mkdir used to spin forever), a read-only repository (where SQLite said only
 * "unable to open database file"), and an empty password file. Each run is killed if it outlives
 * RUN_LIMIT_MS, so a hang fails the test instead of stalling the suite.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliChild, type CliResult, cliEnv, spawnCli } from '../helpers/engine-cli.js';
import { finishWithin } from './hardening-bounded.js';

const RUN_LIMIT_MS = 30_000;
const PASSWORD = 'hardening-password';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'drivesnap-hardening-'));
});
afterAll(async () => {
  await setModes(join(work, 'ro-repo'), 0o755, 0o644).catch(() => undefined);
  await rm(work, { recursive: true, force: true, maxRetries: 2 }).catch(() => undefined);
});

function runBounded(args: string[], vars: Record<string, string | undefined>, opts: { uid?: number } = {}): Promise<CliResult> {
  const env = cliEnv({ DRIVESNAP_PASSWORD: PASSWORD, HOME: work, ...vars });
  const child = opts.uid === undefined ? spawnCli(args, env) : spawnAsUser(args, env, opts.uid);
  return finishWithin(child, RUN_LIMIT_MS, `drivesnap ${args.join(' ')}`);
}

function errorLines(r: CliResult): string[] {
  return r.stderr.split('\n').filter((line) => line.startsWith('drivesnap:'));
}

describe.runIf(existsSync('/proc/self'))('a location under /proc', () => {
  for (const repo of ['/proc/x', '/proc/self/x', '/proc/sys/x']) {
    it(`init --repo ${repo} fails at once, naming the errno and what to do`, async () => {
      const r = await runBounded(['init', '--repo', repo], {});
      expect(r.code).toBe(1);
      // ENOENT as root (procfs refuses new entries that way); a user may meet EACCES first.
      expect(errorLines(r)).toEqual([expect.stringMatching(new RegExp(`cannot create directory ${repo}: (ENOENT|EACCES)`))]);
      expect(r.stderr).toContain('choose a directory on a normal');
    });
  }

  it('DRIVESNAP_INDEX under /proc fails at once, naming the index directory', async () => {
    const r = await runBounded(['init', '--repo', join(work, 'proc-index-repo')], { DRIVESNAP_INDEX: '/proc/x/index.sqlite' });
    expect(r.code).toBe(1);
    expect(errorLines(r)).toEqual([expect.stringMatching(/cannot create directory \/proc\/x: (ENOENT|EACCES)/)]);
  });
});

describe('a read-only repository', () => {
  // root writes through any mode bits, so as root the read-only run is made as an unprivileged user.
  const asUser = process.getuid?.() === 0 ? { uid: 65534 } : {};

  it('says the index directory is read-only and what to do, instead of "unable to open database file"', async () => {
    const repo = join(work, 'ro-repo');
    expect((await runBounded(['init', '--repo', repo], {})).code).toBe(0);
    await chmod(work, 0o755);
    await setModes(repo, 0o555, 0o444);
    const r = await runBounded(['snapshots', '--repo', repo], {}, asUser);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain('unable to open database file');
    expect(errorLines(r)).toEqual([expect.stringContaining(`the index directory ${join(repo, 'cache')} is read-only`)]);
    expect(r.stderr).toContain('set DRIVESNAP_INDEX to a file in a writable directory');
  });
});

describe('an index SQLite cannot open', () => {
  it('is explained with what to do, not only "unable to open database file"', async () => {
    const r = await runBounded(['init', '--repo', join(work, 'dir-index-repo')], { DRIVESNAP_INDEX: work });
    expect(r.code).toBe(1);
    expect(errorLines(r)).toEqual([expect.stringContaining('the index database cannot be opened for writing (SQLITE_CANTOPEN')]);
    expect(r.stderr).toContain('set DRIVESNAP_INDEX to a file in a writable directory');
  });
});

describe('an empty password file', () => {
  it('says the file is empty (not "set DRIVESNAP_PASSWORD or --password-file")', async () => {
    const repo = join(work, 'pw-repo');
    expect((await runBounded(['init', '--repo', repo], {})).code).toBe(0);
    const empty = join(work, 'empty-password');
    await writeFile(empty, '\n');
    const r = await runBounded(['snapshots', '--repo', repo, '--password-file', empty], { DRIVESNAP_PASSWORD: undefined });
    expect(r.code).toBe(2);
    expect(errorLines(r)).toEqual([`drivesnap: the password file ${empty} is empty: write the password into it`]);
  });
});

async function setModes(dir: string, dirMode: number, fileMode: number): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await setModes(path, dirMode, fileMode);
    else await chmod(path, fileMode);
  }
  await chmod(dir, dirMode);
}

/** spawnCli's child as another user (spawnCli takes no uid): stdout and stderr only, which is all these tests read. */
function spawnAsUser(args: string[], env: NodeJS.ProcessEnv, uid: number): CliChild {
  const entry = new URL('../helpers/engine-cli-entry.ts', import.meta.url).pathname;
  const cwd = new URL('../../', import.meta.url).pathname;
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], { cwd, env, uid, gid: uid, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
  child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, json: [] }));
  });
  return { child, done };
}
