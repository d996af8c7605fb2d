/**
 * The CLI's stop mechanism (src/cli/stop.ts) in real child processes: the first SIGINT or SIGTERM aborts
 * the one stop signal and prints one line; a second exits 130 at once; the safety timer exits 130 when the
 * work does not wind down. In-process: the handlers are installed once and leave no listener behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { STOP_MESSAGE, installStopHandlers } from '../../src/cli/stop.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

interface Child {
  proc: ChildProcess;
  stdout: string[];
  stderr: () => string;
  /** Resolves with the first stdout line that starts with `prefix`. */
  line(prefix: string): Promise<string>;
  /** Resolves with stderr once it ends with a newline: stdout and stderr are separate pipes, so a line on one says nothing of the other. */
  stderrLine(): Promise<string>;
  exit: Promise<number | null>;
}

function startChild(graceMs: number): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/stop-child.ts', String(graceMs)], { cwd: root });
  const stdout: string[] = [];
  let err = '';
  const waiters: { prefix: string; resolve: (l: string) => void }[] = [];
  let partial = '';
  proc.stdout!.on('data', (d: Buffer) => {
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const l of lines) {
      stdout.push(l);
      for (const w of waiters.filter((x) => l.startsWith(x.prefix))) w.resolve(l);
    }
  });
  const stderrWaiters: ((text: string) => void)[] = [];
  proc.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.endsWith('\n')) for (const w of stderrWaiters.splice(0)) w(err);
  });
  const exit = once(proc, 'exit').then(([code]) => code as number | null);
  return {
    proc,
    stdout,
    stderr: () => err,
    stderrLine: () =>
      new Promise((resolve, reject) => {
        if (err.endsWith('\n')) return resolve(err);
        stderrWaiters.push(resolve);
        void exit.then((code) => reject(new Error(`child exited (${code}) before a line on stderr; stderr: ${err}`)));
      }),
    exit,
    line: (prefix) =>
      new Promise((resolve, reject) => {
        const seen = stdout.find((l) => l.startsWith(prefix));
        if (seen) return resolve(seen);
        waiters.push({ prefix, resolve });
        void exit.then((code) => reject(new Error(`child exited (${code}) before "${prefix}"; stderr: ${err}`)));
      }),
  };
}

describe.each(['SIGINT', 'SIGTERM'] as const)('%s to a CLI process', (signal) => {
  it('the first aborts the stop signal with INTERRUPTED and prints one line; the second exits 130 at once', async () => {
    // A 10-minute grace: only the second signal can end the child within the test's timeout.
    const child = startChild(600_000);
    try {
      expect(await child.line('ready')).toBe('ready 0 0 1 1');
      child.proc.kill(signal);
      expect(await child.line('aborted')).toBe(`aborted INTERRUPTED 130 ${signal}`);
      expect(child.proc.exitCode).toBeNull();
      expect(await child.stderrLine()).toBe(`drivesnap: ${STOP_MESSAGE}\n`);
      child.proc.kill(signal);
      expect(await child.exit).toBe(130);
      expect(child.stderr().match(/stopping:/g)).toHaveLength(1);
    } finally {
      // A failed assertion must not leave a child waiting out its 10-minute grace.
      if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill('SIGKILL');
    }
  }, 30_000);
});

describe('the safety timer', () => {
  it('exits 130 after the grace period when the work does not wind down by itself', async () => {
    const child = startChild(200);
    await child.line('ready');
    child.proc.kill('SIGINT');
    expect(await child.exit).toBe(130);
    expect(child.stdout).toContain('aborted INTERRUPTED 130 SIGINT');
  }, 30_000);
});

describe('installing the handlers', () => {
  it('adds one listener per signal however often it is installed, and removes them when all release', () => {
    const before = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
    const first = installStopHandlers();
    const second = installStopHandlers();
    expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual([before[0]! + 1, before[1]! + 1]);
    first();
    first(); // releasing twice counts once
    expect(process.listenerCount('SIGINT')).toBe(before[0]! + 1);
    second();
    expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual(before);
  });
});
