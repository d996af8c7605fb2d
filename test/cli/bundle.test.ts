/**
 * The CLI as `npm ci` ships it: bin/drivesnap running the esbuild bundle (scripts/bundle.mjs), not src/ through
 * tsx. The bundle is built fresh from the current source into a package-shaped temporary folder (package.json,
 * bin/, dist/bundle, and node_modules and native/ linked from this checkout), so what runs is exactly the
 * launcher and the bundle, with no dist/cli to fall back to, and a stale dist/ cannot hide a break. Covers every
 * path the bundle resolves at run time: package.json (the version), the native addon, the lazily loaded
 * command chunks, undici (the drive API's client), and the hashing worker (used when DRIVESNAP_CODEC=zlib keeps
 * the addon out).
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, readdir, rename, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPackageRoot } from '../../src/util/package-root.js';
import { type CliResult, cliEnv, parseJsonLines } from '../helpers/engine-cli.js';
import { Cleanup, apiClient, createDriveWith, emulator, emulatorCliEnv, makeImage } from '../helpers/engine-fixtures.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
const ADDON_BUILT = existsSync(join(ROOT, 'native/isal/build/Release/drivesnap_isal.node'));
const IMAGE = makeImage([{ text: 1 }, 'zero', { random: 2 }, { dup: 0 }, { random: 3 }], 1024 * 1024 + 512);

const cleanup = new Cleanup();
afterAll(() => cleanup.run());

let pkg: string;
let bundleDir: string;

beforeAll(async () => {
  pkg = await cleanup.tempDir('drivesnap-bundle-');
  bundleDir = join(pkg, 'dist', 'bundle');
  await mkdir(join(pkg, 'bin'));
  await copyFile(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  await copyFile(join(ROOT, 'bin', 'drivesnap'), join(pkg, 'bin', 'drivesnap'));
  await copyFile(join(ROOT, 'bin', 'package.json'), join(pkg, 'bin', 'package.json'));
  await symlink(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
  await symlink(join(ROOT, 'native'), join(pkg, 'native'));
  await run(process.execPath, [join(ROOT, 'scripts', 'bundle.mjs'), bundleDir], { cwd: ROOT, timeout: 120_000 });
}, 180_000);

/** bin/drivesnap of the temporary package, in a child node, with only the given environment. */
async function drivesnap(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(pkg, 'bin', 'drivesnap'), ...args], { cwd: pkg, env, timeout: 120_000 });
    return { code: 0, signal: null, stdout, stderr, json: parseJsonLines(stdout) };
  } catch (err) {
    const e = err as { code?: number; signal?: NodeJS.Signals; stdout?: string; stderr?: string };
    return { code: e.code ?? null, signal: e.signal ?? null, stdout: e.stdout ?? '', stderr: e.stderr ?? '', json: parseJsonLines(e.stdout ?? '') };
  }
}

/**
 * The most threads a run of bin/drivesnap had at once (Linux: /proc/PID/task, sampled until it exits), and
 * its exit code. libuv starts all of its pool's threads at the pool's first use.
 */
async function peakThreads(args: string[], env: NodeJS.ProcessEnv): Promise<{ threads: number; code: number | null }> {
  const child = spawn(process.execPath, [join(pkg, 'bin', 'drivesnap'), ...args], { cwd: pkg, env, stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let threads = 0;
  let done = false;
  void exited.then(() => (done = true));
  while (!done) {
    threads = Math.max(threads, (await readdir(`/proc/${child.pid}/task`).catch(() => [])).length);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { threads, code: await exited };
}

async function repoEnv(codec: string): Promise<{ dir: string; env: NodeJS.ProcessEnv }> {
  const dir = await cleanup.tempDir('drivesnap-bundle-repo-');
  await writeFile(join(dir, 'accounts.yaml'), 'accounts: {}\n');
  await writeFile(join(dir, 'disk.img'), IMAGE);
  const env = cliEnv({
    DRIVESNAP_REPO: join(dir, 'repo'),
    DRIVESNAP_PASSWORD: 'bundle-test-password',
    DRIVESNAP_CONFIG: join(dir, 'accounts.yaml'),
    DRIVESNAP_JOBS_DB: join(dir, 'jobs.sqlite'),
    DRIVESNAP_CODEC: codec,
    HOME: dir,
  });
  return { dir, env };
}

describe('bin/drivesnap from the bundle', () => {
  it('prints the version from package.json', async () => {
    const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await drivesnap(['--version'], cliEnv({}));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  // auto: the ISA-L addon when it is built (found from the package root); zlib: node:zlib and worker-thread hashing.
  it.each([['auto'], ['zlib']])('inits, backs up, restores and checks a repository (DRIVESNAP_CODEC=%s)', async (codec) => {
    const { dir, env } = await repoEnv(codec);
    for (const args of [['init'], ['backup', join(dir, 'disk.img'), '--json'], ['restore', 'latest', '--to', join(dir, 'out.img'), '--verify'], ['check', '--read-data']]) {
      const r = await drivesnap(args, env);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      if (args[0] === 'backup') expect(r.json.find((e) => e.event === 'snapshot')?.codec).toMatch(codec === 'zlib' || !ADDON_BUILT ? /^node:zlib/ : /^(libdeflate|isal-igzip)/);
    }
    expect((await readFile(join(dir, 'out.img'))).equals(IMAGE)).toBe(true);
  }, 120_000);

  // The drive API's client loads undici's pool through createRequire from the bundle's own folder.
  it('backs up a drive through the API and restores it to a file', async () => {
    const emu = await emulator(cleanup);
    await createDriveWith(apiClient(cleanup, emu), 'disk', IMAGE);
    const dir = await cleanup.tempDir('drivesnap-bundle-api-');
    const env = await emulatorCliEnv(emu, dir, { DRIVESNAP_REPO: join(dir, 'repo') });
    for (const args of [['init'], ['backup', 'eh:disk'], ['restore', 'latest', '--to', join(dir, 'out.img')]]) {
      const r = await drivesnap(args, env);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    expect((await readFile(join(dir, 'out.img'))).equals(IMAGE)).toBe(true);
  }, 120_000);

  // bin/drivesnap starts the key derivation before the CLI reads its options (src/cli/early-unlock.ts): a password
  // file that is a pipe must be left for the real read, which would otherwise wait for a writer that has gone.
  it('opens the repository with --password-file a pipe, read once by the command', async () => {
    const { dir, env } = await repoEnv('auto');
    expect((await drivesnap(['init'], env)).code).toBe(0);
    const fifo = join(dir, 'password.fifo');
    await run('mkfifo', [fifo]);
    const writer = run('sh', ['-c', `printf %s "$1" > "$2"`, 'sh', env.DRIVESNAP_PASSWORD!, fifo], { timeout: 60_000 });
    const { DRIVESNAP_PASSWORD: _, ...withoutPassword } = env;
    const r = await drivesnap(['snapshots', '--password-file', fifo, '--json'], withoutPassword);
    await writer;
    expect(r.code, r.stderr).toBe(0);
  }, 120_000);

  // libuv sizes its pool from UV_THREADPOOL_SIZE at the pool's first use, which an ES module entry comes too
  // late to set: the launcher is CommonJS for this. Two runs differing only in the setting differ by as many threads.
  it.skipIf(process.platform !== 'linux')('sizes the thread pool from DRIVESNAP_THREADS (else keeps UV_THREADPOOL_SIZE) before the pool starts', async () => {
    // init: scrypt runs on the pool, and nothing else starts threads of its own (no hashing workers).
    const init = async (vars: Record<string, string>) => peakThreads(['init'], { ...(await repoEnv('auto')).env, ...vars });
    const five = await init({ DRIVESNAP_THREADS: '5' });
    const nine = await init({ DRIVESNAP_THREADS: '9' });
    const userSix = await init({ UV_THREADPOOL_SIZE: '6' });
    expect([five.code, nine.code, userSix.code]).toEqual([0, 0, 0]);
    expect(nine.threads - five.threads).toBe(4);
    expect(userSix.threads - five.threads).toBe(1);
  }, 120_000);

  it('refuses a DRIVESNAP_THREADS that is not a whole number from 1 to 1024, naming it (exit 2)', async () => {
    for (const bad of ['0', 'x', '2000']) {
      const r = await drivesnap(['--version'], cliEnv({ DRIVESNAP_THREADS: bad }));
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toBe(
        `drivesnap: DRIVESNAP_THREADS=${bad} must be a whole number from 1 to 1024 (threads for hashing, compression and disk I/O); unset it for the default`,
      );
      expect(r.stdout).toBe('');
    }
  });

  it('hashes on the bundled worker.js when the addon is kept out: without it the backup fails', async () => {
    const { dir, env } = await repoEnv('zlib');
    expect((await drivesnap(['init'], env)).code).toBe(0);
    await rename(join(bundleDir, 'worker.js'), join(bundleDir, 'worker.js.away'));
    try {
      const r = await drivesnap(['backup', join(dir, 'disk.img')], env);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/worker\.js/);
    } finally {
      await rename(join(bundleDir, 'worker.js.away'), join(bundleDir, 'worker.js'));
    }
  }, 120_000);
});

describe('findPackageRoot', () => {
  const ours = (roots: string[]) => (dir: string) => roots.includes(dir);

  it('finds the nearest accepted directory at or above the start', () => {
    expect(findPackageRoot('/opt/app/dist/bundle', ours(['/opt/app', '/opt']))).toBe('/opt/app');
    expect(findPackageRoot('/opt/app', ours(['/opt/app']))).toBe('/opt/app');
  });

  it('gives undefined when no directory up to the file system root is accepted', () => {
    expect(findPackageRoot('/opt/app/src/util', ours([]))).toBeUndefined();
  });
});
