/**
 * Consistent backups: shut the servers that use a drive down by ACPI (the guest flushes its file systems
 * and halts), wait until they are stopped, run the work, and start them again — whatever the work did.
 *
 * The decisions (may this server be stopped at all? what after a timeout?) are pure functions; the rest is
 * the polling and the promise that a server this module stopped is started again before it returns.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError } from '../api/errors.js';
import type { ServerInfo } from '../api/servers.js';
import { DrivesnapError, type ErrorCode, errorMessage } from '../errors.js';

/** The part of ApiClient this module needs. */
export interface ServerControlApi {
  serverInfo(uuid: string): Promise<ServerInfo>;
  shutdownServer(uuid: string): Promise<void>;
  stopServer(uuid: string): Promise<void>;
  startServer(uuid: string): Promise<void>;
}

export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 300_000;
/** After a power-off the API answers at once; this only bounds a provider that is slow to report it. */
const POWER_OFF_WAIT_MS = 60_000;
const START_WAIT_MS = 120_000;

export interface ServerStopOptions {
  /** How long an ACPI shutdown may take; default 300 s. */
  timeoutMs?: number;
  /** On timeout, power the server off (`stop`) instead of refusing (`--stop-server`). */
  powerOffOnTimeout?: boolean;
  /** Time between status polls; default 1000 ms. */
  pollMs?: number;
  /** Start the servers again afterwards; default true. False leaves them stopped (a migration cut-over). */
  restart?: boolean;
  signal?: AbortSignal;
  onEvent?: (e: ServerEvent) => void;
}

export type StopMethod = 'acpi' | 'power-off';

export interface ServerEvent {
  event: 'server-shutdown' | 'server-timeout' | 'server-power-off' | 'server-stopped' | 'server-starting' | 'server-started';
  server: string;
  name: string;
}

export interface StoppedServer {
  uuid: string;
  name: string;
  /** How it was stopped; `was-stopped`: it was not running, so it is not started afterwards either. */
  method: StopMethod | 'was-stopped';
}

// ---- pure decisions -----------------------------------------------------------------------------------

export type StopPlan = { action: 'shutdown' } | { action: 'none' } | { action: 'refuse'; code: ErrorCode; reason: string };

/** What to do with a server before its drives are read. */
export function stopPlan(info: ServerInfo): StopPlan {
  const label = serverLabel(info);
  if (info.status === 'stopped') return { action: 'none' };
  if (info.status !== 'active') {
    return { action: 'refuse', code: 'SERVER_STATE', reason: `server ${label} is ${info.status || 'in an unknown state'}, neither active nor stopped` };
  }
  if (!info.persistent) {
    // The API destroys a non-persistent server when it stops: shutting it down would delete it for good.
    return {
      action: 'refuse',
      code: 'SERVER_NOT_PERSISTENT',
      reason:
        `server ${label} is not persistent: stopping it would destroy it. Make it persistent first ` +
        '(`persistent true`), or back up without --shutdown-server (crash-consistent)',
    };
  }
  return { action: 'shutdown' };
}

/** After the ACPI shutdown did not finish in time. */
export function timeoutAction(powerOffOnTimeout: boolean): 'power-off' | 'refuse' {
  return powerOffOnTimeout ? 'power-off' : 'refuse';
}

export function serverLabel(info: Pick<ServerInfo, 'uuid' | 'name'>): string {
  return info.name ? `${info.name} (${info.uuid})` : info.uuid;
}

// ---- I/O ----------------------------------------------------------------------------------------------

/** Raised when a stopped server could not be started again: the one failure the user must act on at once. */
export class ServerRestartError<T = unknown> extends DrivesnapError {
  constructor(
    readonly servers: string[],
    message: string,
    /** The work's result when the work itself succeeded (e.g. the snapshot was saved). */
    readonly result: T | undefined,
    cause: unknown,
  ) {
    super('SERVER_RESTART_FAILED', message, { cause });
  }
}

/** Runs `fn` while the server is stopped; see withServersStopped. */
export function withServerStopped<T>(
  api: ServerControlApi,
  serverUuid: string,
  opts: ServerStopOptions,
  fn: (stopped: StoppedServer[]) => Promise<T>,
): Promise<T> {
  return withServersStopped(api, [serverUuid], opts, fn);
}

/**
 * Shuts every server down (in parallel), runs `fn`, then starts again those this call stopped, also when
 * `fn` throws, and as soon as `opts.signal` aborts. Refuses before touching any server if one of them is not persistent. When a shutdown times
 * out without `powerOffOnTimeout`, starts again the servers already stopped, leaves the late one running
 * and throws SERVER_SHUTDOWN_TIMEOUT; `fn` never runs.
 */
export async function withServersStopped<T>(
  api: ServerControlApi,
  serverUuids: readonly string[],
  opts: ServerStopOptions,
  fn: (stopped: StoppedServer[]) => Promise<T>,
): Promise<T> {
  const infos = await Promise.all([...new Set(serverUuids)].map((u) => api.serverInfo(u)));
  for (const info of infos) {
    const plan = stopPlan(info);
    if (plan.action === 'refuse') throw new DrivesnapError(plan.code, plan.reason);
  }
  const stopped: StoppedServer[] = [];
  const settled = await Promise.allSettled(
    infos.map(async (info) => {
      const s = stopPlan(info).action === 'none' ? wasStopped(info) : await stopOne(api, info, opts);
      stopped.push(s);
    }),
  );
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    // Undo what was done: servers that did stop come back; the late one was never powered off.
    const restartError = await restartAll(api, stopped, opts);
    if (restartError) throw restartFailure(restartError, stopped, undefined, failed.reason);
    throw failed.reason;
  }
  // A stop (Ctrl-C, SIGTERM) starts the servers again at once, while the work winds down: the process
  // may have only seconds left (src/cli/stop.ts), and the work's result is abandoned anyway. Only what was
  // read before the stop was read with the servers down; an interrupted backup commits nothing.
  let restarting: Promise<unknown> | undefined;
  const restart = () => (restarting ??= opts.restart === false ? Promise.resolve(undefined) : restartAll(api, stopped, opts));
  const onStop = () => void restart();
  opts.signal?.addEventListener('abort', onStop, { once: true });
  let result: T;
  try {
    if (opts.signal?.aborted) void restart();
    result = await fn(stopped);
  } catch (err) {
    const restartError = await restart();
    if (restartError) throw restartFailure(restartError, stopped, undefined, err);
    throw err;
  } finally {
    opts.signal?.removeEventListener('abort', onStop);
  }
  const restartError = await restart();
  if (restartError) throw restartFailure(restartError, stopped, result, undefined);
  return result;
}

function wasStopped(info: ServerInfo): StoppedServer {
  return { uuid: info.uuid, name: info.name, method: 'was-stopped' };
}

async function stopOne(api: ServerControlApi, info: ServerInfo, opts: ServerStopOptions): Promise<StoppedServer> {
  const emit = (event: ServerEvent['event']) => opts.onEvent?.({ event, server: info.uuid, name: info.name });
  const timeoutMs = opts.timeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  emit('server-shutdown');
  try {
    await api.shutdownServer(info.uuid);
  } catch (err) {
    // It stopped between our look and our request (someone else did it): nothing of ours to undo.
    if (err instanceof ApiError && err.word === 'busy' && (await api.serverInfo(info.uuid)).status === 'stopped') return wasStopped(info);
    throw err;
  }
  if (await waitForStatus(api, info.uuid, 'stopped', timeoutMs, opts)) {
    emit('server-stopped');
    return { uuid: info.uuid, name: info.name, method: 'acpi' };
  }
  emit('server-timeout');
  if (timeoutAction(Boolean(opts.powerOffOnTimeout)) === 'refuse') {
    throw new DrivesnapError(
      'SERVER_SHUTDOWN_TIMEOUT',
      `server ${serverLabel(info)} did not shut down within ${Math.round(timeoutMs / 1000)} s (does the guest act on ACPI ` +
        'power buttons?); nothing was backed up and the server was left running. Pass --stop-server to power it off ' +
        'after the timeout, or a longer --shutdown-timeout',
    );
  }
  emit('server-power-off');
  try {
    await api.stopServer(info.uuid);
  } catch (err) {
    // The ACPI shutdown finished just as we gave up on it: that is what we wanted.
    if (!(err instanceof ApiError && err.word === 'busy')) throw err;
  }
  if (!(await waitForStatus(api, info.uuid, 'stopped', POWER_OFF_WAIT_MS, opts))) {
    throw new DrivesnapError('SERVER_SHUTDOWN_TIMEOUT', `server ${serverLabel(info)} is still not stopped after being powered off`);
  }
  emit('server-stopped');
  return { uuid: info.uuid, name: info.name, method: 'power-off' };
}

/** Polls until the server has `status`; false when the time runs out first. A vanished server throws. */
async function waitForStatus(api: ServerControlApi, uuid: string, status: string, timeoutMs: number, opts: ServerStopOptions): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const pollMs = opts.pollMs ?? 1000;
  for (;;) {
    throwIfAborted(opts.signal);
    let now: string;
    try {
      now = (await api.serverInfo(uuid)).status;
    } catch (err) {
      if (err instanceof ApiError && err.word === 'missing') {
        throw new DrivesnapError('EH_SERVER_GONE', `server ${uuid} no longer exists (destroyed while drivesnap waited for it)`);
      }
      throw err;
    }
    if (now === status) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    try {
      await sleep(Math.min(pollMs, left), undefined, { signal: opts.signal });
    } catch {
      throwIfAborted(opts.signal);
    }
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason instanceof DrivesnapError ? signal.reason : new DrivesnapError('INTERRUPTED', 'interrupted');
}

/** Starts every server this module stopped; returns the first failure (after trying them all). */
async function restartAll(api: ServerControlApi, stopped: StoppedServer[], opts: ServerStopOptions): Promise<unknown> {
  const ours = stopped.filter((s) => s.method !== 'was-stopped');
  // Never interrupted: a server left down is worse than a slower exit.
  const untimed: ServerStopOptions = { ...opts, signal: undefined };
  const results = await Promise.allSettled(
    ours.map(async (s) => {
      opts.onEvent?.({ event: 'server-starting', server: s.uuid, name: s.name });
      await api.startServer(s.uuid);
      if (!(await waitForStatus(api, s.uuid, 'active', START_WAIT_MS, untimed))) {
        throw new DrivesnapError('SERVER_START_TIMEOUT', `server ${serverLabel(s)} was started but is not active yet`);
      }
      opts.onEvent?.({ event: 'server-started', server: s.uuid, name: s.name });
    }),
  );
  return results.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason;
}

function restartFailure<T>(restartError: unknown, stopped: StoppedServer[], result: T | undefined, workError: unknown): ServerRestartError<T> {
  const ours = stopped.filter((s) => s.method !== 'was-stopped');
  const names = ours.map(serverLabel).join(', ');
  const work = workError === undefined ? '' : `; the work itself failed too: ${errorMessage(workError)}`;
  return new ServerRestartError(
    ours.map((s) => s.uuid),
    `could not start server(s) ${names} again: ${errorMessage(restartError)}. START IT BY HAND ` +
      `(\`POST /servers/UUID/start\`)${work}`,
    result,
    workError ?? restartError,
  );
}
