/** A minimal raw HTTP client for the emulator tests: undici request() with Basic auth, no retries. */
import { request } from 'undici';
import { expect, vi } from 'vitest';
import type { Emulator, EmulatorAccount } from '../../src/emulator/index.js';

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
  /** The X-Elastic-Error word, when present. */
  error: string | undefined;
}

export interface CallOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'HEAD';
  body?: string | Buffer;
  headers?: Record<string, string>;
  account?: EmulatorAccount;
  /** Send no Authorization header. */
  anonymous?: boolean;
}

export function basicAuth(account: EmulatorAccount): string {
  return `Basic ${Buffer.from(`${account.user}:${account.secret}`).toString('base64')}`;
}

export async function call(emu: Emulator, path: string, opts: CallOptions = {}): Promise<RawAnswer> {
  const account = opts.account ?? emu.accounts[0]!;
  const headers: Record<string, string> = { ...opts.headers };
  if (!opts.anonymous) headers.authorization = basicAuth(account);
  const res = await request(new URL(path, emu.url), {
    method: opts.method ?? (opts.body === undefined ? 'GET' : 'POST'),
    headers,
    ...(opts.body !== undefined && { body: opts.body }),
  });
  const body = Buffer.from(await res.body.arrayBuffer());
  const error = res.headers['x-elastic-error'];
  return {
    status: res.statusCode,
    headers: res.headers,
    body,
    text: body.toString('utf8'),
    error: typeof error === 'string' ? error : undefined,
  };
}

export const post = (emu: Emulator, path: string, body = '', opts: CallOptions = {}) =>
  call(emu, path, { ...opts, method: 'POST', body });

/** Creates a drive and returns its UUID. */
export async function createDrive(emu: Emulator, size: string | number, opts: CallOptions & { extra?: string } = {}): Promise<string> {
  const answer = await post(emu, '/drives/create', `name test drive\nsize ${size}\n${opts.extra ?? ''}`, opts);
  if (answer.status !== 200) throw new Error(`create failed: ${answer.status} ${answer.text}`);
  return /^drive (\S+)$/m.exec(answer.text)![1]!;
}

export function keysOf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(' ');
    if (line !== '') out[i < 0 ? line : line.slice(0, i)] = i < 0 ? '' : line.slice(i + 1);
  }
  return out;
}

/**
 * Polls a drive until its imaging job is gone and returns the progress values seen on the way. Bounded: if
 * the drive is still imaging after `timeoutMs`, the test fails saying which drive it waited for.
 */
export async function waitImaged(emu: Emulator, id: string, timeoutMs = 30_000, intervalMs = 20): Promise<string[]> {
  const seen: string[] = [];
  await vi.waitFor(
    async () => {
      const imaging = keysOf((await call(emu, `/drives/${id}/info/full`)).text).imaging;
      if (imaging !== undefined) seen.push(imaging);
      expect(imaging, `imaging of drive ${id} to finish within ${timeoutMs} ms`).toBeUndefined();
    },
    { timeout: timeoutMs, interval: intervalMs },
  );
  return seen;
}
