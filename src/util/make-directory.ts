/**
 * `mkdir -p` with a bounded number of system calls. Node's own `mkdir(path, { recursive: true })` loops
 * forever where mkdir answers ENOENT although the parent exists (/proc, /sys: virtual file systems refuse
 * new entries that way), spinning a core. Here each level is created at most twice (before and after its
 * parent), so the work is bounded by the path's depth, and every failure names the errno and what to do.
 */
import { mkdirSync, statSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { DrivesnapError } from '../errors.js';
import { errnoCode, fsAdvice } from './fs-errors.js';

export class DirectoryError extends DrivesnapError {
  override name = 'DirectoryError';
  constructor(
    readonly path: string,
    readonly errno: string | undefined,
    why: string,
    options?: { cause?: unknown },
  ) {
    super('DIRECTORY_CREATE', `cannot create directory ${path}: ${errno ?? 'error'}: ${why}`, options);
  }
}

/** Creates `path` and its missing parents; returns the first directory created, or undefined if it existed. */
export async function makeDirectory(path: string): Promise<string | undefined> {
  const steps = levelSteps(resolve(path));
  for (let step = steps.next(); ; ) {
    if (step.done) return step.value;
    const { call, at } = step.value;
    step = steps.next(await errnoOf(() => (call === 'mkdir' ? mkdir(at) : stat(at).then(requireDirectory))));
  }
}

/** The same, synchronously (for callers that open a database synchronously). */
export function makeDirectorySync(path: string): string | undefined {
  const steps = levelSteps(resolve(path));
  for (let step = steps.next(); ; ) {
    if (step.done) return step.value;
    const { call, at } = step.value;
    step = steps.next(errnoOfSync(() => (call === 'mkdir' ? mkdirSync(at) : requireDirectory(statSync(at)))));
  }
}

/** A file-system call the plan asks for; the driver answers with its errno, or undefined on success. */
interface Step {
  call: 'mkdir' | 'stat';
  at: string;
}

/** The plan for one level, free of I/O so both drivers share it: mkdir; on ENOENT the parent, then mkdir once more. */
function* levelSteps(path: string): Generator<Step, string | undefined, string | undefined> {
  const first = yield { call: 'mkdir', at: path };
  if (first === undefined) return path;
  if (first === 'EEXIST') return existing(path, yield { call: 'stat', at: path });
  if (first !== 'ENOENT' || dirname(path) === path) throw failure(path, first);
  const created = yield* levelSteps(dirname(path));
  const second = yield { call: 'mkdir', at: path };
  if (second === undefined) return created ?? path;
  if (second === 'EEXIST') return existing(path, yield { call: 'stat', at: path });
  throw failure(path, second);
}

async function errnoOf(call: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await call();
    return undefined;
  } catch (err) {
    return errnoCode(err) ?? 'error';
  }
}

function errnoOfSync(call: () => unknown): string | undefined {
  try {
    call();
    return undefined;
  } catch (err) {
    return errnoCode(err) ?? 'error';
  }
}

function requireDirectory(info: { isDirectory(): boolean }): void {
  if (!info.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
}

function existing(path: string, statErrno: string | undefined): undefined {
  if (statErrno !== undefined) throw failure(path, statErrno === 'ENOTDIR' ? 'EEXIST' : statErrno);
  return undefined;
}

function failure(path: string, errno: string): DirectoryError {
  if (errno === 'ENOENT') {
    // The parent exists (it was just made or found), yet mkdir says "no such file": a virtual file system.
    return new DirectoryError(
      path,
      errno,
      `the file system at ${dirname(path)} does not allow new directories (a virtual file system such as /proc or /sys?): choose a directory on a normal file system`,
    );
  }
  if (errno === 'EEXIST') {
    return new DirectoryError(path, 'EEXIST', 'a file of that name is in the way: remove it or choose another directory');
  }
  return new DirectoryError(path, errno, `${fsAdvice(errno)}; choose a directory on a normal, writable file system`);
}
