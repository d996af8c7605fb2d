/**
 * The I/O of run-status.ts: read the previous status, write the status and Prometheus files atomically
 * (temp file + rename in the same directory, so a scraper or a reader never sees half a file), and ping a
 * healthchecks-style URL. Reporting never fails the run: every problem comes back as a warning to emit.
 */
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Agent, request } from 'undici';
import { errorMessage } from '../errors.js';
import { makeDirectory } from '../util/make-directory.js';
import { writeFileAtomic } from '../util/write-file-atomic.js';
import { type PassOutcome, type PingConfig, type RunStatus, mergePass, parseRunStatus, pingBody, pingTarget, redactUrl, renderPrometheus, renderStatusJson } from './run-status.js';

export const PING_TIMEOUT_MS = 10_000;

export interface StatusFiles {
  /** JSON status; also where the history (last success, failure counts) is read back from. */
  file?: string;
  /** Prometheus text format, e.g. in node_exporter's textfile directory (name it *.prom). */
  prometheus?: string;
}

/** The status a previous pass wrote, or undefined when there is none or it is not a status file. */
export async function readRunStatus(path: string): Promise<RunStatus | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  return parseRunStatus(text);
}

/** Writes the configured files; returns one warning per file that could not be written. */
export async function writeRunStatus(files: StatusFiles, status: RunStatus): Promise<string[]> {
  const warnings: string[] = [];
  const jobs: Array<[string, string]> = [];
  if (files.file !== undefined) jobs.push([files.file, renderStatusJson(status)]);
  if (files.prometheus !== undefined) jobs.push([files.prometheus, renderPrometheus(status)]);
  for (const [path, text] of jobs) {
    try {
      await makeDirectory(dirname(path));
      await writeFileAtomic(path, text);
    } catch (err) {
      warnings.push(`cannot write the status file ${path}: ${errorMessage(err)}`);
    }
  }
  return warnings;
}

export type PingResult = { ok: true; status: number } | { ok: false; warning: string };

/**
 * Calls the success or failure URL for a pass. Never throws and never waits more than `timeoutMs`; the
 * warning names the host only (the path of a ping URL is its secret).
 */
export async function ping(config: PingConfig, status: RunStatus, timeoutMs = PING_TIMEOUT_MS): Promise<PingResult> {
  const url = pingTarget(config, status.lastPass.exitCode);
  const shown = redactUrl(url);
  if (!URL.canParse(url)) return { ok: false, warning: `the ping URL is not a URL: ${shown}` };
  const parsed = new URL(url);
  if (parsed.username !== '' || parsed.password !== '') {
    return { ok: false, warning: `the ping URL for ${shown} holds a user name or password: not sent; remove them from the job file` };
  }
  // Our own agent, closed after, so no kept-alive socket holds a one-shot `run` open.
  const dispatcher = new Agent({ connectTimeout: timeoutMs, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  try {
    const res = await request(url, {
      method: config.method,
      dispatcher,
      signal: AbortSignal.timeout(timeoutMs),
      ...(config.method === 'POST' ? { body: pingBody(status), headers: { 'content-type': 'text/plain; charset=utf-8' } } : {}),
    });
    await res.body.dump();
    if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true, status: res.statusCode };
    return { ok: false, warning: `the ping to ${shown} answered HTTP ${res.statusCode}` };
  } catch (err) {
    const why = (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : ((err as NodeJS.ErrnoException).code ?? (err as Error).name);
    return { ok: false, warning: `the ping to ${shown} failed: ${why}` };
  } finally {
    await dispatcher.close().catch(() => undefined);
  }
}

/**
 * Everything `run` does after a pass: merge it into the previous status (the status file's, or `previous`
 * when the caller keeps it elsewhere), write the files, ping. Returns the new status and the warnings to emit.
 */
export async function reportPass(
  config: { job: string; files: StatusFiles; ping?: PingConfig; previous?: RunStatus; timeoutMs?: number },
  pass: PassOutcome,
): Promise<{ status: RunStatus; warnings: string[] }> {
  const previous = config.previous ?? (config.files.file !== undefined ? await readRunStatus(config.files.file) : undefined);
  const status = mergePass(config.job, previous, pass);
  const warnings = await writeRunStatus(config.files, status);
  if (config.ping) {
    const r = await ping(config.ping, status, config.timeoutMs);
    if (!r.ok) warnings.push(r.warning);
  }
  return { status, warnings };
}
