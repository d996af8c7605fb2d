/**
 * The drive API client (api-contract.md): drives, drive data, imaging, servers and resources, over one
 * undici keep-alive pool per client, in the text format (default) or JSON.
 *
 * Retries happen here and only here, per HTTP exchange, following ./retry.ts. Calls whose repetition is
 * harmless (reads, info, set, destroy, and writes: a write at a fixed offset is idempotent) are retried on
 * every retryable failure. Calls that would act twice if a lost answer hid a success (create, image,
 * server start/stop/...) are retried only when the server answered with a retryable error word, or when
 * the connection failed before the request could be sent.
 *
 * A `busy` answer to a call that changes a drive (write, set, destroy, image into) makes the client fetch
 * that drive's info once: a running server's claim or an imaging job is final (EH_CLAIMED, EH_IMAGING,
 * naming the server and what to do), anything else is a transient `busy` and retried.
 *
 * Drive reads never run past the end of a drive: the client remembers the size of every drive it has seen
 * info for, fetches info once for a drive it has not, and refuses (EH_RANGE) a range past that size. So a
 * body shorter than asked is always a dropped connection, and is retried as one. A drive resized by someone
 * else after this client saw it needs a fresh `driveInfo()` before reading the new part.
 */
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { DrivesnapError } from '../errors.js';
import { MiB } from '../util/size.js';
import { abortableSleep } from '../util/stop-request.js';
import type { MinimumRate } from './deadline.js';
import { busyCause, parseClaims } from './drive-claims.js';
import { type DriveInfo, parseDriveInfo } from './drive-info.js';
import { ApiError } from './errors.js';
import { type HttpCall, type HttpResponse, HttpTransport, failedBeforeSending } from './http.js';
import { type ApiParams, toApiObject } from './params.js';
import { type ResourceInfo, type ResourceRef, parseResourceInfo, parseResourceList } from './resources.js';
import { type RetryListener, type RetryPolicy, resolveRetryPolicy, withRetries } from '../util/retry-policy.js';
import { type FailureKind, failureKind, isRetryableApiFailure } from './retry.js';
import { type ServerInfo, type ServerState, parseServerInfo } from './servers.js';
import {
  type ApiObject,
  type WireFormat,
  formatFromContentType,
  formatJsonObject,
  formatTextObject,
  parseList,
  parseObjects,
} from './wire.js';

const gzipAsync = promisify(gzip);

/** The API's limit for one read call (api-contract.md); longer reads are split into calls of this size. */
export const MAX_READ_BYTES = 4 * MiB;

export interface ApiClientOptions {
  /** Endpoint, e.g. `https://api-lon-p.elastichosts.com/`. */
  url: string;
  /** The account's user UUID. */
  user: string;
  /** The account's secret API key. Kept in a private field; never printed. */
  secret: string;
  /** Wire format of requests and responses; default `text`. */
  format?: WireFormat;
  /** Keep-alive connections to the endpoint for drive reads, and as many for every other call; default 8. */
  connections?: number;
  retry?: Partial<RetryPolicy>;
  /** Longest wait for headers, and longest silence inside a body; default 120 s. */
  timeoutMs?: number;
  /** The slowest link accepted: each exchange must finish within base + bytes / rate (./deadline.ts). */
  minimumRate?: Partial<MinimumRate>;
  /** Called before each retry's wait (every retry is also published on RETRY_CHANNEL). */
  onRetry?: RetryListener;
  /** Random source for retry jitter, [0, 1); default Math.random. For tests. */
  random?: () => number;
  /** Stops retrying, and ends a backoff wait at once, when it aborts (the CLI passes stopSignal()). */
  signal?: AbortSignal;
}

export interface ClientStats {
  /** HTTP exchanges attempted, retries included. */
  requests: number;
  /** Exchanges repeated after a retryable failure. */
  retries: number;
  /** Failed exchanges (retried or not) by error word, or `connection` / `other`. */
  byWord: Partial<Record<FailureKind, number>>;
  /** Drive info fetched to explain a `busy` (claimed, imaging or transient); each is one more request. */
  busyChecks: number;
}

export interface WaitOptions {
  /** Time between polls; default 1000 ms. */
  intervalMs?: number;
  /** Give up after this long; default 1 hour. */
  timeoutMs?: number;
  /** Ends the wait between polls at once, rejecting with the signal's reason (Ctrl-C). */
  signal?: AbortSignal;
}

/** Whether a call may be sent again after a failure that may hide a success. */
type Repeatable = 'always' | 'if-not-done';

interface Exchange extends HttpCall {
  repeatable: Repeatable;
  /** For destroy: a `missing` answer to a retry means the lost first attempt did the job. */
  missingOnRetryIsSuccess?: boolean;
  /**
   * A call that changes this drive (write, set/resize, destroy, image into): on its first `busy` the client
   * fetches the drive's info once, and fails at once when a server claims the drive or imaging writes
   * into it (drive-claims.ts); a `busy` with neither is transient and retried as any other.
   */
  changesDrive?: string;
}

export class ApiClient {
  readonly url: string;
  /** Keep-alive connections the client opens at most for drive reads (and as many for other calls). */
  readonly connections: number;
  readonly user: string;
  readonly format: WireFormat;
  readonly #http: HttpTransport;
  readonly #policy: RetryPolicy;
  readonly #onRetry: RetryListener | undefined;
  readonly #random: () => number;
  readonly #signal: AbortSignal | undefined;
  readonly #stats: ClientStats = { requests: 0, retries: 0, byWord: {}, busyChecks: 0 };
  readonly #sizes = new Map<string, number>();

  constructor(opts: ApiClientOptions) {
    const connections = opts.connections ?? 8;
    if (!Number.isInteger(connections) || connections < 1) {
      throw new DrivesnapError('USAGE', `connections must be a whole number >= 1, not ${connections}`);
    }
    this.#http = new HttpTransport({
      url: opts.url,
      user: opts.user,
      secret: opts.secret,
      connections,
      timeoutMs: opts.timeoutMs ?? 120_000,
      ...(opts.minimumRate !== undefined ? { minimumRate: opts.minimumRate } : {}),
    });
    this.url = this.#http.url;
    this.connections = connections;
    this.user = opts.user;
    this.format = opts.format ?? 'text';
    this.#policy = resolveRetryPolicy(opts.retry);
    this.#onRetry = opts.onRetry;
    this.#random = opts.random ?? Math.random;
    this.#signal = opts.signal;
  }

  stats(): ClientStats {
    return { ...this.#stats, byWord: { ...this.#stats.byWord } };
  }

  async close(): Promise<void> {
    await this.#http.close();
  }

  // ---- drives -------------------------------------------------------------------------------------------

  async listDrives(): Promise<string[]> {
    return this.#list('/drives/list', 'drive');
  }

  async driveInfo(uuid: string, opts: { full?: boolean } = {}): Promise<DriveInfo> {
    const path = `/drives/${seg(uuid)}/info${opts.full ? '/full' : ''}`;
    return this.#drive(await this.#one(path, uuid));
  }

  async listDriveInfo(): Promise<DriveInfo[]> {
    return (await this.#objects({ method: 'GET', path: '/drives/info', repeatable: 'always' })).map((o) => this.#drive(o));
  }

  /** The provider's library drives (public images). */
  async listStandardDrives(): Promise<string[]> {
    return this.#list('/drives/list/standard', 'drive');
  }

  async listStandardDriveInfo(): Promise<DriveInfo[]> {
    return (await this.#objects({ method: 'GET', path: '/drives/info/standard', repeatable: 'always' })).map((o) => this.#drive(o));
  }

  async createDrive(p: { name: string; size: number } & ApiParams): Promise<DriveInfo> {
    if (!Number.isSafeInteger(p.size) || p.size <= 0) {
      throw new DrivesnapError('USAGE', `a new drive needs a size in whole bytes > 0, not ${p.size}`);
    }
    const [obj] = await this.#objects({ method: 'POST', path: '/drives/create', repeatable: 'if-not-done', ...this.#params(p) });
    return this.#drive(required(obj, 'POST /drives/create'));
  }

  async setDrive(uuid: string, p: ApiParams): Promise<DriveInfo> {
    const call = `/drives/${seg(uuid)}/set`;
    const [obj] = await this.#objects({ method: 'POST', path: call, object: uuid, changesDrive: uuid, repeatable: 'always', ...this.#params(p) });
    return this.#drive(required(obj, `POST ${call}`));
  }

  async destroyDrive(uuid: string): Promise<void> {
    await this.#exchange({
      method: 'POST',
      path: `/drives/${seg(uuid)}/destroy`,
      object: uuid,
      changesDrive: uuid,
      repeatable: 'always',
      missingOnRetryIsSuccess: true,
    });
    this.#sizes.delete(uuid);
  }

  /** Starts server-side imaging of `src` into `dst` (optionally gzip/gunzip on the way); see waitForImaging. */
  async imageDrive(dst: string, src: string, conversion?: 'gzip' | 'gunzip'): Promise<void> {
    const path = `/drives/${seg(dst)}/image/${seg(src)}${conversion ? `/${conversion}` : ''}`;
    await this.#exchange({ method: 'POST', path, object: dst, changesDrive: dst, repeatable: 'if-not-done' });
  }

  /**
   * Polls `info/full` until the `imaging` key is gone. `onProgress` gets the percentage, or undefined while
   * queued (or when the server only says `imaging true`).
   */
  async waitForImaging(uuid: string, onProgress?: (percent: number | undefined) => void, opts: WaitOptions = {}): Promise<void> {
    const deadline = Date.now() + (opts.timeoutMs ?? 3_600_000);
    for (;;) {
      const info = await this.driveInfo(uuid, { full: true });
      if (!info.imaging) return;
      onProgress?.(info.imaging.percent);
      if (Date.now() >= deadline) {
        throw new DrivesnapError('EH_IMAGING_TIMEOUT', `drive ${uuid} is still imaging (${info.raw.imaging}) after the time allowed; check it later with \`drivesnap drives info\``);
      }
      await abortableSleep(opts.intervalMs ?? 1000, opts.signal);
    }
  }

  // ---- drive data ---------------------------------------------------------------------------------------

  /**
   * Bytes [offset, offset+length) of a drive. The range must lie within the drive (EH_RANGE otherwise);
   * ranges over 4 MiB are read in 4 MiB calls.
   */
  /** Reads a range; `into` (at least `length` bytes) is filled and a view of it returned, saving an allocation. */
  async readDrive(uuid: string, offset: number, length: number, into?: Buffer): Promise<Buffer> {
    checkWhole('offset', offset);
    checkWhole('length', length);
    const size = await this.#knownSize(uuid);
    if (offset + length > size) {
      throw new DrivesnapError(
        'EH_RANGE',
        `read of drive ${uuid} at ${offset}+${length} runs past its end (${size} bytes): read within the size its info gives`,
      );
    }
    if (length === 0) return Buffer.alloc(0);
    if (length <= MAX_READ_BYTES) return this.#readOnce(uuid, offset, length, into);
    const parts: Buffer[] = [];
    for (let at = offset; at < offset + length; at += MAX_READ_BYTES) {
      parts.push(await this.#readOnce(uuid, at, Math.min(MAX_READ_BYTES, offset + length - at)));
    }
    return Buffer.concat(parts, length);
  }

  /**
   * Writes `body` at `offset` (in drive bytes). With `encoding: 'gzip'` the body is a gzip stream the server
   * inflates (the caller compressed it). Always sent with Content-Length, never chunked.
   */
  async writeDrive(uuid: string, offset: number, body: Uint8Array, opts: { encoding?: 'gzip' | 'raw' } = {}): Promise<void> {
    checkWhole('offset', offset);
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    if (opts.encoding === 'gzip') headers['content-encoding'] = 'gzip';
    await this.#exchange({
      method: 'POST',
      path: `/drives/${seg(uuid)}/write/${offset}`,
      object: uuid,
      changesDrive: uuid,
      body: Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength),
      headers,
      repeatable: 'always',
    });
  }

  /** Gzips `raw` (node:zlib, level 1: fast, and most of the transfer saving) and writes it. */
  async writeDriveCompressing(uuid: string, offset: number, raw: Uint8Array): Promise<void> {
    const compressed = await gzipAsync(raw, { level: 1 });
    await this.writeDrive(uuid, offset, compressed, { encoding: 'gzip' });
  }

  // ---- servers ------------------------------------------------------------------------------------------

  async listServers(): Promise<string[]> {
    return this.#list('/servers/list', 'server');
  }

  async serverInfo(uuid: string): Promise<ServerInfo> {
    return parseServerInfo(await this.#one(`/servers/${seg(uuid)}/info`, uuid));
  }

  async listServerInfo(): Promise<ServerInfo[]> {
    return (await this.#objects({ method: 'GET', path: '/servers/info', repeatable: 'always' })).map(parseServerInfo);
  }

  /** Creates a server; it starts at once unless `stopped` is set. */
  async createServer(p: ApiParams, opts: { stopped?: boolean } = {}): Promise<ServerInfo> {
    const path = opts.stopped ? '/servers/create/stopped' : '/servers/create';
    const [obj] = await this.#objects({ method: 'POST', path, repeatable: 'if-not-done', ...this.#params(p) });
    return parseServerInfo(required(obj, `POST ${path}`));
  }

  async setServer(uuid: string, p: ApiParams): Promise<ServerInfo> {
    const path = `/servers/${seg(uuid)}/set`;
    const [obj] = await this.#objects({ method: 'POST', path, object: uuid, repeatable: 'always', ...this.#params(p) });
    return parseServerInfo(required(obj, `POST ${path}`));
  }

  async startServer(uuid: string): Promise<void> {
    await this.#serverAction(uuid, 'start');
  }

  /** Power off. A non-persistent server is destroyed by this. */
  async stopServer(uuid: string): Promise<void> {
    await this.#serverAction(uuid, 'stop');
  }

  /** ACPI shutdown request. */
  async shutdownServer(uuid: string): Promise<void> {
    await this.#serverAction(uuid, 'shutdown');
  }

  async resetServer(uuid: string): Promise<void> {
    await this.#serverAction(uuid, 'reset');
  }

  async destroyServer(uuid: string): Promise<void> {
    await this.#exchange({
      method: 'POST',
      path: `/servers/${seg(uuid)}/destroy`,
      object: uuid,
      repeatable: 'always',
      missingOnRetryIsSuccess: true,
    });
  }

  /** Polls until the server's status is `state` (`destroyed`: until its info is a 404). */
  async waitForServerState(uuid: string, state: ServerState, opts: WaitOptions = {}): Promise<void> {
    const deadline = Date.now() + (opts.timeoutMs ?? 600_000);
    for (;;) {
      let status: string;
      try {
        status = (await this.serverInfo(uuid)).status;
      } catch (err) {
        if (err instanceof ApiError && err.word === 'missing') status = 'destroyed';
        else throw err;
      }
      if (status === state) return;
      if (status === 'destroyed') {
        throw new DrivesnapError('EH_SERVER_GONE', `server ${uuid} no longer exists, so it cannot become ${state}`);
      }
      if (Date.now() >= deadline) {
        throw new DrivesnapError('EH_SERVER_TIMEOUT', `server ${uuid} is still ${status}, not ${state}, after the time allowed`);
      }
      await abortableSleep(opts.intervalMs ?? 1000, opts.signal);
    }
  }

  // ---- resources ----------------------------------------------------------------------------------------

  async listResources(type?: string): Promise<ResourceRef[]> {
    const path = type ? `/resources/${seg(type)}/list` : '/resources/list';
    const res = await this.#exchange({ method: 'GET', path, repeatable: 'always', headers: this.#accept() });
    return parseResourceList(res.body.toString('utf8'), formatFromContentType(res.contentType));
  }

  async resourceInfo(type: string, resource: string): Promise<ResourceInfo> {
    return parseResourceInfo(await this.#one(`/resources/${seg(type)}/${seg(resource)}/info`, resource));
  }

  async listResourceInfo(): Promise<ResourceInfo[]> {
    return (await this.#objects({ method: 'GET', path: '/resources/info', repeatable: 'always' })).map(parseResourceInfo);
  }

  async createResource(type: string, p: ApiParams = {}): Promise<ResourceInfo> {
    const path = `/resources/${seg(type)}/create`;
    const [obj] = await this.#objects({ method: 'POST', path, repeatable: 'if-not-done', ...this.#params(p) });
    return parseResourceInfo(required(obj, `POST ${path}`));
  }

  async setResource(type: string, resource: string, p: ApiParams): Promise<ResourceInfo> {
    const path = `/resources/${seg(type)}/${seg(resource)}/set`;
    const [obj] = await this.#objects({ method: 'POST', path, object: resource, repeatable: 'always', ...this.#params(p) });
    return parseResourceInfo(required(obj, `POST ${path}`));
  }

  async destroyResource(type: string, resource: string): Promise<void> {
    await this.#exchange({
      method: 'POST',
      path: `/resources/${seg(type)}/${seg(resource)}/destroy`,
      object: resource,
      repeatable: 'always',
      missingOnRetryIsSuccess: true,
    });
  }

  // ---- plumbing -----------------------------------------------------------------------------------------

  /** One exchange, retried per the shared policy: the single retry layer of the client. */
  async #exchange(call: Exchange): Promise<HttpResponse> {
    const classify = (err: unknown) => {
      const mayRepeat = call.repeatable === 'always' || err instanceof ApiError || failedBeforeSending(err);
      return { retryable: isRetryableApiFailure(err) && mayRepeat, kind: failureKind(err) };
    };
    const onRetry: RetryListener = (event) => {
      this.#stats.retries++;
      this.#onRetry?.(event);
    };
    let causeChecked = false;
    const loop = { policy: this.#policy, layer: 'api', operation: `${call.method} ${call.path}`, classify, onRetry, random: this.#random, signal: this.#signal } as const;
    return withRetries(loop, async (attempt) => {
      this.#stats.requests++;
      try {
        return await this.#http.send(call);
      } catch (err) {
        const kind = failureKind(err);
        this.#stats.byWord[kind] = (this.#stats.byWord[kind] ?? 0) + 1;
        if (attempt > 1 && call.missingOnRetryIsSuccess && err instanceof ApiError && err.word === 'missing') {
          return { status: 204, contentType: undefined, body: Buffer.alloc(0) };
        }
        if (call.changesDrive !== undefined && !causeChecked && err instanceof ApiError && err.word === 'busy') {
          causeChecked = true;
          throw (await this.#busyCause(`${call.method} ${call.path}`, call.changesDrive)) ?? err;
        }
        throw err;
      }
    });
  }

  /** Why a change of `drive` got `busy`: a final error (claimed, imaging) or undefined (transient). */
  async #busyCause(call: string, drive: string): Promise<Error | undefined> {
    this.#stats.busyChecks++;
    let info: DriveInfo;
    try {
      info = await this.driveInfo(drive);
    } catch {
      return undefined; // the info itself failed: treat the busy as transient, the retries decide
    }
    const names = new Map<string, string>();
    for (const { server } of parseClaims(info.claimed)) {
      if (names.has(server)) continue;
      // Best effort: a server of another account (a shared drive) is not ours to read.
      const name = await this.serverInfo(server).then((s) => s.name, () => '');
      if (name) names.set(server, name);
    }
    return busyCause(call, info, names);
  }

  async #readOnce(uuid: string, offset: number, length: number, into?: Buffer): Promise<Buffer> {
    const res = await this.#exchange({
      method: 'GET',
      path: `/drives/${seg(uuid)}/read/${offset}/${length}`,
      object: uuid,
      expectBytes: length,
      into,
      repeatable: 'always',
    });
    return res.body;
  }

  async #knownSize(uuid: string): Promise<number> {
    return this.#sizes.get(uuid) ?? (await this.driveInfo(uuid)).size;
  }

  #drive(obj: ApiObject): DriveInfo {
    const info = parseDriveInfo(obj);
    this.#sizes.set(info.uuid, info.size);
    return info;
  }

  #accept(): Record<string, string> {
    return { accept: this.format === 'json' ? 'application/json' : 'text/plain' };
  }

  /** Request body and headers for key/value parameters in the client's format. */
  #params(p: ApiParams): { body: string; headers: Record<string, string> } {
    const obj = toApiObject(p);
    const json = this.format === 'json';
    return {
      body: json ? formatJsonObject(obj) : formatTextObject(obj),
      headers: { ...this.#accept(), 'content-type': json ? 'application/json' : 'text/plain' },
    };
  }

  async #objects(call: Exchange): Promise<ApiObject[]> {
    const res = await this.#exchange({ ...call, headers: { ...this.#accept(), ...call.headers } });
    return parseBody(res, `${call.method} ${call.path}`);
  }

  async #one(path: string, object: string): Promise<ApiObject> {
    const [obj] = await this.#objects({ method: 'GET', path, object, repeatable: 'always' });
    return required(obj, `GET ${path}`);
  }

  async #list(path: string, key: string): Promise<string[]> {
    const res = await this.#exchange({ method: 'GET', path, repeatable: 'always', headers: this.#accept() });
    return parseList(res.body.toString('utf8'), formatFromContentType(res.contentType), key);
  }

  async #serverAction(uuid: string, action: 'start' | 'stop' | 'shutdown' | 'reset'): Promise<void> {
    await this.#exchange({ method: 'POST', path: `/servers/${seg(uuid)}/${action}`, object: uuid, repeatable: 'if-not-done' });
  }
}

/** Parses by the Content-Type the server sent, whatever was asked for. */
function parseBody(res: HttpResponse, call: string): ApiObject[] {
  try {
    return parseObjects(res.body.toString('utf8'), formatFromContentType(res.contentType));
  } catch (err) {
    throw new DrivesnapError('EH_BAD_RESPONSE', `${call}: the server's answer is not valid ${formatFromContentType(res.contentType)}`, {
      cause: err,
    });
  }
}

function required(obj: ApiObject | undefined, call: string): ApiObject {
  if (!obj) throw new DrivesnapError('EH_BAD_RESPONSE', `${call}: the server answered with no object`);
  return obj;
}

/** A path segment: ids are UUIDs, IPs or names, never `/`-containing paths. */
function seg(id: string): string {
  if (id === '') throw new DrivesnapError('USAGE', 'an empty id was given where a drive, server or resource id belongs');
  return encodeURIComponent(id);
}

function checkWhole(what: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new DrivesnapError('USAGE', `${what} must be a whole number of bytes >= 0, not ${n}`);
}
