/**
 * One HTTP exchange with the drive API over an undici keep-alive pool: pre-emptive Basic auth, the whole
 * response body read, and every failure turned into ApiError (the server answered with an error) or
 * ApiConnectionError (no complete answer). Drive reads go over connections of their own (plain or TLS) that
 * read the body straight into the range buffer (./direct-read.ts), once the server has shown it frames read
 * answers by Content-Length. No retries here: the client retries in exactly one layer, and
 * undici's own retry stays off (plain Pool, no RetryAgent).
 *
 * The secret lives only in a private field holding the ready-made Authorization header. Errors are built
 * fresh from the status, the error word, the body and the call (method and path); undici's errors are
 * copied to a plain cause holding only their code and message, so no request options (and no header)
 * can ride along in a cause chain.
 */
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import type { Pool as UndiciPool } from 'undici';
import { DrivesnapError } from '../errors.js';
import { formatBytes, formatRate } from '../util/size.js';
import { type MinimumRate, exchangeDeadlineMs, resolveMinimumRate } from './deadline.js';
import { ApiConnectionError, ApiError, ApiStalledError, isErrorWord, wordForStatus } from './errors.js';
import { DirectReads, UnsupportedFraming } from './direct-read.js';
import { type BodyTarget, type ExchangeHead, type ExchangeRequest, type ExchangeResult, abortError, exchange } from './exchange.js';

// The pool alone: undici's index loads fetch, WebSocket, caches and more (~9 MB of RSS, ~50 ms of CPU at start).
const Pool = createRequire(import.meta.url)('undici/lib/dispatcher/pool.js') as typeof UndiciPool;

export interface HttpTransportOptions {
  url: string;
  user: string;
  secret: string;
  /** Keep-alive connections to the endpoint (undici Pool `connections`). */
  connections: number;
  /** Longest wait for response headers, and longest silence while a body arrives. */
  timeoutMs: number;
  /** The slowest link accepted: each exchange must finish within the deadline it implies (./deadline.ts). */
  minimumRate?: Partial<MinimumRate>;
}

export interface HttpCall {
  method: 'GET' | 'POST';
  /** Path below the endpoint's base URL, starting with `/`. */
  path: string;
  body?: Uint8Array | string;
  headers?: Record<string, string>;
  /** The drive/server/resource the call is about, for error messages. */
  object?: string;
  /** When set, a 2xx body of any other length is a truncated answer (a connection fault). */
  expectBytes?: number;
  /** With expectBytes: the buffer to read the body into (reused by the caller: no allocation per read). */
  into?: Buffer;
}

export interface HttpResponse {
  status: number;
  contentType: string | undefined;
  body: Buffer;
}

/** Error bodies are one line; read at most this much of them. */
const MAX_ERROR_BODY = 64 * 1024;

/** Faults below HTTP that may clear on their own. */
const CONNECTION_FAULT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'HPE_INVALID_CONSTANT',
  'HPE_INVALID_CHUNK_SIZE',
]);

/** Codes meaning the request never reached the server, so even a non-idempotent call may be resent. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'UND_ERR_CONNECT_TIMEOUT']);

export class HttpTransport {
  /** Endpoint without credentials or trailing slash, e.g. `https://api-lon-p.elastichosts.com`. */
  readonly url: string;
  readonly #pool: UndiciPool;
  readonly #basePath: string;
  readonly #authorization: string;
  readonly #minimumRate: MinimumRate;
  /** Drive reads go through here (./direct-read.ts); undefined once the server framed a read otherwise. */
  #direct: DirectReads | undefined;
  #directProven = false;
  /** Settles when the read proving the framing (through undici) has its answer's head, or fails. */
  #proving: Promise<void> | undefined;

  constructor(opts: HttpTransportOptions) {
    let parsed: URL;
    try {
      parsed = new URL(opts.url);
    } catch {
      throw new DrivesnapError('EH_BAD_URL', `API URL is not a URL (expected e.g. https://api-lon-p.elastichosts.com/)`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new DrivesnapError('EH_BAD_URL', `API URL must start with https:// or http://, not ${parsed.protocol}`);
    }
    this.#basePath = parsed.pathname.replace(/\/+$/, '');
    this.url = parsed.origin + this.#basePath;
    this.#minimumRate = resolveMinimumRate(opts.minimumRate);
    this.#authorization = 'Basic ' + Buffer.from(`${opts.user}:${opts.secret}`).toString('base64');
    this.#pool = new Pool(parsed.origin, {
      connections: opts.connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      connectTimeout: Math.min(opts.timeoutMs, 30_000),
    });
    const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
    const https = parsed.protocol === 'https:';
    this.#direct = new DirectReads({
      host,
      port: Number(parsed.port || (https ? 443 : 80)),
      hostHeader: parsed.host,
      connections: opts.connections,
      timeoutMs: opts.timeoutMs,
      // RFC 6066: no server name for an IP address.
      tls: https ? { servername: isIP(host) ? undefined : host } : undefined,
    });
  }

  /**
   * One exchange within its deadline: the bytes sent plus those expected back (known up front for reads,
   * from Content-Length otherwise) at the minimum rate, plus the base allowance. Past it the request is
   * aborted and fails as ApiStalledError, which the client retries like any connection fault.
   */
  async send(call: HttpCall): Promise<HttpResponse> {
    const label = `${call.method} ${call.path}`;
    const sent = call.body === undefined ? 0 : Buffer.byteLength(call.body);
    const started = performance.now();
    const controller = new AbortController();
    let allowedMs = exchangeDeadlineMs(this.#minimumRate, sent + (call.expectBytes ?? 0));
    let timer = setTimeout(() => controller.abort(), allowedMs);
    const expectReply = (bytes: number): void => {
      allowedMs = exchangeDeadlineMs(this.#minimumRate, sent + bytes);
      clearTimeout(timer);
      timer = setTimeout(() => controller.abort(), Math.max(0, started + allowedMs - performance.now()));
    };
    try {
      return await this.#sendWithin(call, label, controller.signal, expectReply);
    } catch (err) {
      if (!controller.signal.aborted) throw err;
      throw new ApiStalledError(label, describeTransfer(call, label, sent), formatRate(this.#minimumRate.bytesPerSecond), allowedMs);
    } finally {
      clearTimeout(timer);
    }
  }

  async #sendWithin(call: HttpCall, label: string, signal: AbortSignal, expectReply: (bytes: number) => void): Promise<HttpResponse> {
    let response: ExchangeResult;
    try {
      const req: ExchangeRequest = { method: call.method, path: this.#basePath + call.path, headers: { ...call.headers, authorization: this.#authorization }, body: call.body, signal };
      const target = (head: ExchangeHead): BodyTarget => {
        const announced = Number(head.headers.get('content-length'));
        if (call.expectBytes === undefined && Number.isSafeInteger(announced) && announced > 0) expectReply(announced);
        if (head.status < 200 || head.status >= 300) return { limit: MAX_ERROR_BODY };
        if (call.expectBytes === undefined) return { limit: Number.POSITIVE_INFINITY };
        return {
          into: call.into?.subarray(0, call.expectBytes) ?? Buffer.allocUnsafe(call.expectBytes),
          tooLong: () => new ApiConnectionError(label, `body longer than the ${call.expectBytes} bytes asked for`),
        };
      };
      response = await this.#exchange(req, call, target);
    } catch (err) {
      throw transportFault(label, err);
    }
    const { status, headers, body } = response;
    const contentType = headers.get('content-type');
    if (status >= 200 && status < 300) {
      if (call.expectBytes !== undefined && body.length !== call.expectBytes) {
        throw new ApiConnectionError(label, `truncated body: got ${body.length} of ${call.expectBytes} bytes`);
      }
      return { status, contentType, body };
    }
    const text = body.toString('utf8');
    if (status >= 300 && status < 400) {
      throw redirectRefused(label, status, headers.get('location'), this.url);
    }
    const header = headers.get('x-elastic-error')?.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
    const word = isErrorWord(header) ? header : wordForStatus(status);
    throw new ApiError({
      status,
      word,
      body: text,
      call: label,
      ...(call.object !== undefined ? { object: call.object } : {}),
    });
  }

  /**
   * Drive reads (GET of a known length) through the direct path once this server has framed one read answer
   * by Content-Length (undici reads the first); everything else, and every read of a server that frames them
   * otherwise, through undici.
   */
  async #exchange(req: ExchangeRequest, call: HttpCall, target: (head: ExchangeHead) => BodyTarget): Promise<ExchangeResult> {
    const direct = this.#direct;
    if (direct === undefined || call.method !== 'GET' || call.expectBytes === undefined) return exchange(this.#pool, req, target);
    if (!this.#directProven) {
      if (this.#proving === undefined) return this.#prove(req, target);
      await settledOrAborted(this.#proving, req.signal);
      return this.#exchange(req, call, target);
    }
    try {
      return await direct.exchange(req, target);
    } catch (err) {
      if (!(err instanceof UnsupportedFraming)) throw err;
      // The server stopped framing reads by Content-Length: undici reads them from now on (a GET may be resent).
      this.#dropDirect();
      return exchange(this.#pool, req, target);
    }
  }

  /**
   * One read through undici that shows how the server frames read answers; the reads started meanwhile wait
   * for its head rather than all going through undici too. A job starts `concurrency` reads at once: through
   * undici each 4 MiB answer arrives as 64 KiB socket buffers on the malloc heap (8 reads grew it by ~20 MiB,
   * which glibc kept to the end: most of what the API path's peak RSS had over a file's).
   */
  async #prove(req: ExchangeRequest, target: (head: ExchangeHead) => BodyTarget): Promise<ExchangeResult> {
    let settle!: () => void;
    const proving = new Promise<void>((resolve) => (settle = resolve));
    const done = (): void => {
      if (this.#proving === proving) this.#proving = undefined;
      settle();
    };
    this.#proving = proving;
    try {
      return await exchange(this.#pool, req, (head) => {
        if (head.status >= 200 && head.status < 300) {
          // Decided either way: a server framing reads otherwise is read through undici from now on.
          if (head.headers.has('content-length') && !head.headers.has('transfer-encoding')) this.#directProven = true;
          else this.#dropDirect();
          done();
        }
        return target(head);
      });
    } finally {
      done();
    }
  }

  #dropDirect(): void {
    this.#direct?.close();
    this.#direct = undefined;
  }

  async close(): Promise<void> {
    this.#direct?.close();
    if (!this.#pool.closed) await this.#pool.close();
  }
}

/** Resolves when `p` settles, rejects at once when `signal` aborts first (the caller's deadline). */
function settledOrAborted(p: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(abortError());
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(abortError());
    signal.addEventListener('abort', onAbort, { once: true });
    void p.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

/** `read of 4.00 MiB from drive UUID`, `write of 1.00 MiB to drive UUID`, or the call itself. */
function describeTransfer(call: HttpCall, label: string, sent: number): string {
  const drive = call.object !== undefined ? ` drive ${call.object}` : '';
  if (/\/read\/\d+\/\d+$/.test(call.path) && call.expectBytes !== undefined) return `read of ${formatBytes(call.expectBytes)} from${drive}`;
  if (/\/write\/\d+$/.test(call.path)) return `write of ${formatBytes(sent)} to${drive}`;
  return label;
}

/**
 * Following a redirect would resend the Authorization header to wherever it points, so drivesnap never
 * does: the user decides whether the new address is the provider's.
 */
function redirectRefused(label: string, status: number, location: string | undefined, base: string): DrivesnapError {
  return new DrivesnapError(
    'EH_REDIRECT',
    `${label}: the API answered HTTP ${status}, redirecting to ${describeLocation(location, base)}; drivesnap does not ` +
      "follow redirects, since that would send the account's credentials to another address: if that address is " +
      "the provider's API, set it as the account's url",
  );
}

/** Where a Location header points, without user info or query (either could carry a token). */
function describeLocation(location: string | undefined, base: string): string {
  if (location === undefined || location.trim() === '') return 'nowhere (no Location header)';
  try {
    const url = new URL(location, base);
    return url.origin + url.pathname;
  } catch {
    return 'an address that is not a URL';
  }
}

/** True when the request cannot have reached the server (refused, no route), so resending is always safe. */
export function failedBeforeSending(err: unknown): boolean {
  if (!(err instanceof ApiConnectionError)) return false;
  const code = (err.cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && NOT_SENT_CODES.has(code);
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  const causeCode = (err as { cause?: { code?: unknown } } | null)?.cause?.code;
  return typeof causeCode === 'string' ? causeCode : undefined;
}

/** A copy of an underlying error with only its name, code and first message line. */
function sanitizedCause(err: unknown, code: string | undefined): Error {
  const copy = new Error(err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err));
  copy.name = err instanceof Error ? err.name : 'Error';
  if (code !== undefined) Object.assign(copy, { code });
  return copy;
}

function transportFault(label: string, err: unknown): Error {
  if (err instanceof ApiConnectionError || err instanceof ApiError) return err;
  const code = errorCode(err);
  const cause = sanitizedCause(err, code);
  const message = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
  if (code === 'ENOTFOUND') {
    return new DrivesnapError('EH_HOST_NOT_FOUND', `${label}: the API host name does not resolve; check the account's url`, {
      cause,
    });
  }
  if (code === 'UND_ERR_DESTROYED' || code === 'UND_ERR_CLOSED' || code === 'UND_ERR_ABORTED') {
    return new DrivesnapError('EH_CLIENT_CLOSED', `${label}: the API client was closed`, { cause });
  }
  if ((code !== undefined && CONNECTION_FAULT_CODES.has(code)) || /^E[A-Z]+$/.test(code ?? '')) {
    return new ApiConnectionError(label, `${message}${code && !message.includes(code) ? ` (${code})` : ''}`, { cause });
  }
  return new DrivesnapError('EH_INTERNAL', `${label}: ${message}`, { cause });
}
