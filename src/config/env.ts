/**
 * The environment, read in one place: every variable drivesnap's library and CLI look at is read through
 * this module, typed and validated; a bad value is an ENV_INVALID error (exit 2) naming the variable.
 * (The emulator's and the bench's entry points keep their own.) Every function takes the environment as
 * an optional last argument, `processEnv()` by default, so tests pass a plain object instead of mutating
 * process.env.
 *
 * | variable | read by | meaning |
 * |---|---|---|
 * | DRIVESNAP_REPO | `repoFromEnv` | repository location when --repo is not given |
 * | DRIVESNAP_PASSWORD (or a job file's own name) | `passwordFromEnv` | repository password |
 * | DRIVESNAP_INDEX | `indexPathFromEnv` | the SQLite index cache file, instead of the per-repository default |
 * | DRIVESNAP_CONFIG | `configFileFromEnv` | the accounts file, instead of $XDG_CONFIG_HOME/drivesnap/config.yaml |
 * | DRIVESNAP_DEBUG | `debugEnabled` | print stacks of failures |
 * | DRIVESNAP_CODEC | `codecSetting` | `auto`, `isal` or `zlib` (../codec/active.ts validates it) |
 * | DRIVESNAP_THREADS | bin/drivesnap only | libuv's pool size, which must be set before Node uses the pool |
 * | DRIVESNAP_API_MIN_RATE, DRIVESNAP_API_BASE_MS | `apiMinimumRate` | the slowest API link accepted |
 * | DRIVESNAP_S3_ENDPOINT, AWS_REGION | `s3Endpoint`, `awsRegion` | S3 endpoint and region (the AWS SDK reads its credentials itself) |
 * | EHURI, EHAUTH | `ehAccountEnv` | the `eh` account: API URL and USER_UUID:SECRET |
 * | XDG_CONFIG_HOME, XDG_CACHE_HOME, XDG_STATE_HOME, HOME | `xdgDir`, `homeDir` | base directories (XDG: absolute only) |
 * | USER, USERNAME | `userNameFromEnv` | the user named in lock files when the passwd entry is missing |
 */
import { homedir } from 'node:os';
import { isAbsolute } from 'node:path';
import { DrivesnapError } from '../errors.js';
import { parseSize } from '../util/size.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** The process's environment: the one place drivesnap reads process.env. */
export function processEnv(): Env {
  return process.env;
}

function envError(name: string, value: string, what: string): DrivesnapError {
  return new DrivesnapError('ENV_INVALID', `${name}=${value} ${what}`);
}

/** A variable's value; empty counts as unset. */
export function envText(name: string, env: Env = processEnv()): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

export function repoFromEnv(env: Env = processEnv()): string | undefined {
  return envText('DRIVESNAP_REPO', env);
}

export function passwordFromEnv(name = 'DRIVESNAP_PASSWORD', env: Env = processEnv()): string | undefined {
  return envText(name, env);
}

/** A password file's password: its text without one final line break (what `echo secret > file` adds). */
export function passwordFromFileText(text: string): string {
  return text.replace(/\r?\n$/, '');
}

export function indexPathFromEnv(env: Env = processEnv()): string | undefined {
  return envText('DRIVESNAP_INDEX', env);
}

export function configFileFromEnv(env: Env = processEnv()): string | undefined {
  return envText('DRIVESNAP_CONFIG', env);
}

export function debugEnabled(env: Env = processEnv()): boolean {
  return envText('DRIVESNAP_DEBUG', env) !== undefined;
}

export const CODEC_ENV = 'DRIVESNAP_CODEC';
export function codecSetting(env: Env = processEnv()): string | undefined {
  return env[CODEC_ENV];
}

export function s3Endpoint(env: Env = processEnv()): string | undefined {
  return envText('DRIVESNAP_S3_ENDPOINT', env);
}

export function awsRegion(env: Env = processEnv()): string | undefined {
  return envText('AWS_REGION', env);
}

export function ehAccountEnv(env: Env = processEnv()): { url: string | undefined; auth: string | undefined } {
  return { url: envText('EHURI', env), auth: envText('EHAUTH', env) };
}

/** An XDG base directory when set to an absolute path; XDG says a relative one is invalid and ignored. */
export function xdgDir(name: 'XDG_CONFIG_HOME' | 'XDG_CACHE_HOME' | 'XDG_STATE_HOME', env: Env = processEnv()): string | undefined {
  const value = envText(name, env);
  return value !== undefined && isAbsolute(value) ? value : undefined;
}

export function homeDir(env: Env = processEnv()): string {
  return envText('HOME', env) ?? homedir();
}

export function userNameFromEnv(env: Env = processEnv()): string | undefined {
  return envText('USER', env) ?? envText('USERNAME', env);
}

export interface ApiMinimumRate {
  bytesPerSecond?: number;
  baseMs?: number;
}

/**
 * DRIVESNAP_API_MIN_RATE (bytes per second, k/M suffixes: `64k`) and DRIVESNAP_API_BASE_MS: every API
 * exchange must finish within base + bytes / rate, or it counts as stalled (defaults: 64 KiB/s, 10 s).
 * Undefined when neither is set.
 */
export function apiMinimumRate(env: Env = processEnv()): ApiMinimumRate | undefined {
  const rate: ApiMinimumRate = {};
  const rateText = envText('DRIVESNAP_API_MIN_RATE', env);
  if (rateText !== undefined) {
    const bytesPerSecond = parseSize(rateText);
    if (!bytesPerSecond) throw envError('DRIVESNAP_API_MIN_RATE', rateText, 'is not a rate: give bytes per second > 0, e.g. 64k');
    rate.bytesPerSecond = bytesPerSecond;
  }
  const baseText = envText('DRIVESNAP_API_BASE_MS', env);
  if (baseText !== undefined) {
    const baseMs = parseSize(baseText);
    if (baseMs === undefined || /[a-z]/i.test(baseText)) throw envError('DRIVESNAP_API_BASE_MS', baseText, 'is not a whole number of milliseconds');
    rate.baseMs = baseMs;
  }
  return Object.keys(rate).length > 0 ? rate : undefined;
}

