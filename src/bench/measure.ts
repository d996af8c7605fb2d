/**
 * Process timing and memory helpers for the benchmark.
 *
 * Child commands are measured with GNU `/usr/bin/time` when present, because it reports the peak RSS
 * the kernel recorded (wait4 rusage) rather than a sampled guess. Without it we fall back to polling
 * /proc/<pid>/status (VmHWM) and /proc/<pid>/stat, which can miss the last few milliseconds of a run.
 */
import { spawn, spawnSync } from 'node:child_process';
import { lstat, mkdtemp, open, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

export interface ProcessMeasure {
  wallMs: number;
  userMs: number;
  sysMs: number;
  peakRssBytes: number;
  exitCode: number;
  /** Last 256 KiB of output: enough for error messages without holding a chatty tool's full log. */
  stdout: string;
  stderr: string;
  /** How user/sys/peak RSS were obtained, so a report can say how much to trust them. */
  method: 'gnu-time' | 'proc-poll';
}

export interface MeasureOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Return a non-zero exit instead of throwing (for probes). */
  allowFailure?: boolean;
}

const OUTPUT_TAIL = 256 * 1024;
const CLOCK_TICKS_PER_SEC = 100; // USER_HZ on every Linux ABI we run on.

let gnuTime: boolean | undefined;

/** True when /usr/bin/time is GNU time (busybox's does not take -f/-o the same way). */
export function hasGnuTime(): boolean {
  if (gnuTime === undefined) {
    const probe = spawnSync('/usr/bin/time', ['--version'], { encoding: 'utf8' });
    gnuTime = probe.status === 0 && /GNU/.test(`${probe.stdout}${probe.stderr}`);
  }
  return gnuTime;
}

/** Runs `cmd args` to completion and reports wall, CPU and peak RSS of the child. */
export async function measureCommand(cmd: string, args: string[], opts: MeasureOptions = {}): Promise<ProcessMeasure> {
  const result = hasGnuTime() ? await viaGnuTime(cmd, args, opts) : await viaProcPoll(cmd, args, opts);
  if (result.exitCode !== 0 && !opts.allowFailure) {
    const tail = result.stderr.trim().split('\n').slice(-8).join('\n');
    throw new Error(`${cmd} ${args.join(' ')} exited ${result.exitCode}\n${tail}`);
  }
  return result;
}

async function viaGnuTime(cmd: string, args: string[], opts: MeasureOptions): Promise<ProcessMeasure> {
  const dir = await mkdtemp(join(tmpdir(), 'drivesnap-time-'));
  const out = join(dir, 'time.txt');
  try {
    // %U %S are seconds with 10 ms resolution, %M is max RSS in KiB; wall time we take ourselves.
    const run = await runChild('/usr/bin/time', ['-f', '%U %S %M', '-o', out, cmd, ...args], opts);
    const fields = (await readFile(out, 'utf8')).trim().split('\n').pop()!.split(/\s+/).map(Number);
    const [user = 0, sys = 0, maxKiB = 0] = fields;
    return {
      ...run,
      userMs: Math.round(user * 1000),
      sysMs: Math.round(sys * 1000),
      peakRssBytes: maxKiB * 1024,
      method: 'gnu-time',
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function viaProcPoll(cmd: string, args: string[], opts: MeasureOptions): Promise<ProcessMeasure> {
  let peakKiB = 0;
  let ticks = { user: 0, sys: 0 };
  const sample = async (pid: number): Promise<void> => {
    try {
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      const hwm = /VmHWM:\s+(\d+)/.exec(status);
      if (hwm) peakKiB = Math.max(peakKiB, Number(hwm[1]));
      // Fields after the parenthesised comm: state is [0], utime [11], stime [12].
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks = { user: Number(rest[11]), sys: Number(rest[12]) };
    } catch {
      // The process exited between polls; keep the last sample.
    }
  };
  const run = await runChild(cmd, args, opts, (pid) => {
    const timer = setInterval(() => void sample(pid), 25);
    return () => clearInterval(timer);
  });
  return {
    ...run,
    userMs: (ticks.user * 1000) / CLOCK_TICKS_PER_SEC,
    sysMs: (ticks.sys * 1000) / CLOCK_TICKS_PER_SEC,
    peakRssBytes: peakKiB * 1024,
    method: 'proc-poll',
  };
}

type ChildRun = Pick<ProcessMeasure, 'wallMs' | 'exitCode' | 'stdout' | 'stderr'>;

function runChild(
  cmd: string,
  args: string[],
  opts: MeasureOptions,
  onStart?: (pid: number) => () => void,
): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const stop = child.pid !== undefined && onStart ? onStart(child.pid) : () => {};
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout = (stdout + d).slice(-OUTPUT_TAIL);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-OUTPUT_TAIL);
    });
    child.on('error', (err) => {
      stop();
      reject(err);
    });
    child.on('close', (code, signal) => {
      stop();
      resolve({ wallMs: performance.now() - started, exitCode: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}

/**
 * Measures an async function in this process. peakRssBytes is the process's lifetime peak
 * (getrusage maxrss), so it is only meaningful for a fresh process that runs one measured thing.
 */
export async function measureInProcess<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; wallMs: number; userMs: number; sysMs: number; peakRssBytes: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await fn();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return {
    result,
    wallMs,
    userMs: cpu.user / 1000,
    sysMs: cpu.system / 1000,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
}

/** Median of a non-empty list (mean of the middle two for even lengths). */
export function median(values: number[]): number {
  if (values.length === 0) throw new Error('median of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** MB/s with MB = 10^6 bytes, the unit disk and network benchmarks usually quote. */
export function mbPerSec(bytes: number, ms: number): number {
  return ms > 0 ? bytes / 1e6 / (ms / 1000) : 0;
}

/**
 * Size of a directory tree, hard links counted once.
 * - 'apparent' (default, like `du -sb`): sum of file lengths. Use it for repositories: it is what the
 *   repository would cost in an object store or after copying, independent of the host file system.
 *   Unlike du we leave out directories' own sizes (a few KiB that depend on the host file system).
 * - 'allocated' (`du -s -B1`): blocks actually allocated, so sparse images count only their data.
 */
export async function dirSize(path: string, mode: 'apparent' | 'allocated' = 'apparent'): Promise<number> {
  const seen = new Set<string>();
  const walk = async (p: string): Promise<number> => {
    const st = await lstat(p);
    const key = `${st.dev}:${st.ino}`;
    if (seen.has(key)) return 0;
    seen.add(key);
    let total = mode === 'apparent' ? (st.isDirectory() ? 0 : st.size) : st.blocks * 512;
    if (st.isDirectory()) {
      for (const name of await readdir(p)) total += await walk(join(p, name));
    }
    return total;
  };
  return walk(path);
}

/**
 * Reads files through to /dev/null so every tool's measured run starts with them in the page cache. Without
 * it, whichever tool reads an image first pays the disk (the incremental image was read cold by drivesnap
 * and warm by the peers that followed it).
 */
export async function warmFiles(paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    const h = await open(path, 'r');
    try {
      const buf = Buffer.allocUnsafe(8 * 2 ** 20);
      for (let at = 0; ; ) {
        const { bytesRead } = await h.read(buf, 0, buf.length, at);
        if (bytesRead === 0) break;
        at += bytesRead;
      }
    } finally {
      await h.close();
    }
  }
}

/**
 * Writes back every dirty page before a measured step. ext4 (data=ordered) makes an fsync wait for other
 * files' dirty data in the same journal commit, so a durable step measured right after another tool wrote
 * a repository would pay for that tool's writeback.
 */
export async function settleDisk(): Promise<void> {
  await measureCommand('sync', []);
}
