/**
 * Drive reads over keep-alive connections of their own, with the socket reading the body straight into the
 * caller's buffer (net's `onread` with a buffer chosen per read): the kernel's copy is the only one. Through
 * undici every 64 KiB the socket reads allocates a buffer (garbage for major collections: 52 of them in one
 * 2 GiB incremental), wakes a Readable, is copied into the HTTP parser's WebAssembly memory and then into the
 * range. Measured reading a 2 GiB drive from the emulator in 4 MiB calls, 8 at once, transport only:
 * 1.6-1.9 s of client CPU through undici, 0.5-0.6 s here.
 *
 * Only for answers framed by Content-Length over HTTP/1.1 (plain or TLS), which is how the API answers reads (other
 * calls keep using undici): an answer framed otherwise (chunked, until close) is reported as
 * UnsupportedFraming and the caller sends the call through undici instead. Same contract as exchange():
 * the head picks the body's target (a buffer, or gathered up to a limit), a longer body than the buffer is the
 * target's error, a shorter one is returned as such for the caller to call truncated.
 */
import { type Socket, connect } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { type BodyTarget, type ExchangeHead, type ExchangeRequest, type ExchangeResult, abortError } from './exchange.js';
import { ResponseHeadError, headEnd, parseResponseHead } from './response-head.js';

/** Longest wait for a connection (and its TLS handshake). */
const CONNECT_TIMEOUT_MS = 30_000;

/** Longest response head accepted (the API's are a few hundred bytes). */
const HEAD_BYTES = 16 * 1024;

export interface DirectReadOptions {
  host: string;
  port: number;
  /** The Host header: host, and the port when it is not the scheme's default. */
  hostHeader: string;
  /** Idle connections kept for reuse. */
  connections: number;
  /** Longest silence: while connecting, waiting for the head, and inside a body. */
  timeoutMs: number;
  /** An idle connection older than this is closed rather than reused (servers close theirs after ~5 s). */
  keepAliveMs?: number;
  /** HTTPS: the name the certificate must carry (undefined for an IP address), and extra trusted CAs (tests). */
  tls?: { servername: string | undefined; ca?: string | Buffer } | undefined;
}

/** The answer is not framed by Content-Length: nothing of it was used; send the call another way. */
export class UnsupportedFraming extends Error {
  override name = 'UnsupportedFraming';
}

/** At most `connections` connections, open or being opened; a read beyond that waits for one to come free. */
export class DirectReads {
  readonly #o: ConnectionOptions;
  readonly #idle: Connection[] = [];
  /** Connections that exist (idle or in use). */
  #open = 0;
  readonly #waiting: (() => void)[] = [];
  #closed = false;

  constructor(o: DirectReadOptions) {
    this.#o = { keepAliveMs: 4000, ...o, tls: o.tls };
  }

  /**
   * One GET exchange. A reused connection the server closed while it was idle (nothing of the answer came)
   * is replaced by a fresh one and the request sent again: a GET may be repeated.
   */
  async exchange(req: ExchangeRequest, target: (head: ExchangeHead) => BodyTarget): Promise<ExchangeResult> {
    const head = requestHead(req, this.#o.hostHeader);
    for (;;) {
      const { conn, reused } = await this.#acquire(req.signal);
      try {
        const result = await conn.exchange(head, req.signal, target);
        this.#release(conn);
        return result;
      } catch (err) {
        this.#drop(conn);
        if (reused && conn.answered === 0 && !req.signal.aborted && !(err instanceof UnsupportedFraming)) continue;
        throw err;
      }
    }
  }

  close(): void {
    this.#closed = true;
    for (const c of this.#idle.splice(0)) this.#drop(c);
  }

  async #acquire(signal: AbortSignal): Promise<{ conn: Connection; reused: boolean }> {
    for (;;) {
      if (signal.aborted) throw abortError();
      const idle = this.#takeIdle();
      if (idle !== undefined) return { conn: idle, reused: true };
      if (this.#open < this.#o.connections) {
        this.#open++;
        return { conn: new Connection(this.#o), reused: false };
      }
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          signal.removeEventListener('abort', wake);
          const at = this.#waiting.indexOf(wake);
          if (at >= 0) this.#waiting.splice(at, 1);
          resolve();
        };
        this.#waiting.push(wake);
        signal.addEventListener('abort', wake, { once: true });
      });
    }
  }

  #takeIdle(): Connection | undefined {
    for (;;) {
      const c = this.#idle.pop();
      if (c === undefined) return undefined;
      if (c.usable && performance.now() - c.idleSince < this.#o.keepAliveMs) return c;
      this.#drop(c);
    }
  }

  #release(c: Connection): void {
    if (this.#closed || !c.usable) {
      this.#drop(c);
      return;
    }
    this.#idle.push(c);
    this.#waiting[0]?.();
  }

  #drop(c: Connection): void {
    if (c.dropped) return;
    c.dropped = true;
    c.destroy();
    this.#open--;
    this.#waiting[0]?.();
  }
}

function requestHead(req: ExchangeRequest, host: string): string {
  let head = `${req.method} ${req.path} HTTP/1.1\r\nhost: ${host}\r\n`;
  for (const [name, value] of Object.entries(req.headers)) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) throw new TypeError(`header ${JSON.stringify(name)} holds a line break`);
    head += `${name}: ${value}\r\n`;
  }
  return `${head}\r\n`;
}

type ConnectionOptions = Required<Omit<DirectReadOptions, 'tls'>> & Pick<DirectReadOptions, 'tls'>;

interface Pending {
  resolve: (r: ExchangeResult) => void;
  reject: (err: Error) => void;
  target: (head: ExchangeHead) => BodyTarget;
  signal: AbortSignal;
  onAbort: () => void;
}

/** One socket, one exchange at a time. */
class Connection {
  readonly #socket: Socket;
  readonly #scratch = Buffer.allocUnsafe(HEAD_BYTES);
  #connected = false;
  #pending: Pending | undefined;
  #headLength = 0;
  /** The body's bytes received so far, of `#want`; those past `#keep.length` are read and dropped. */
  #got = 0;
  #want = 0;
  #keep: Buffer | undefined;
  #result: ExchangeResult | undefined;
  #tooLong: (() => Error) | undefined;
  #keepAlive = false;
  #broken = false;
  /** Bytes of the current exchange's answer received, head included: 0 means the server has not answered. */
  answered = 0;
  idleSince = 0;
  /** No longer counted by its DirectReads. */
  dropped = false;

  constructor(o: ConnectionOptions) {
    const onread = {
      buffer: () => this.#nextBuffer(),
      callback: (n: number) => {
        this.#received(n);
        return true;
      },
    };
    // Over TLS the socket reads the decrypted body into the same buffers; certificates are checked as undici does.
    this.#socket =
      o.tls === undefined
        ? connect({ host: o.host, port: o.port, noDelay: true, onread })
        : connectTls({
            host: o.host,
            port: o.port,
            // Node's tls.connect takes onread (passed to its TLSSocket) though @types/node does not list it.
            ...({ onread } as object),
            ALPNProtocols: ['http/1.1'],
            ...(o.tls.servername !== undefined ? { servername: o.tls.servername } : {}),
            ...(o.tls.ca !== undefined ? { ca: o.tls.ca } : {}),
          }).setNoDelay(true);
    // As undici's connectTimeout in http.ts: connecting gets at most 30 s of the idle timeout.
    this.#socket.setTimeout(Math.min(o.timeoutMs, CONNECT_TIMEOUT_MS));
    this.#socket.on(o.tls === undefined ? 'connect' : 'secureConnect', () => {
      this.#connected = true;
      this.#socket.setTimeout(o.timeoutMs);
    });
    this.#socket.on('timeout', () => {
      const code = !this.#connected ? 'UND_ERR_CONNECT_TIMEOUT' : this.#keep === undefined ? 'UND_ERR_HEADERS_TIMEOUT' : 'UND_ERR_BODY_TIMEOUT';
      this.#fail(codeError(code, `no answer from the server for ${this.#socket.timeout} ms`));
    });
    this.#socket.on('error', (err) => this.#fail(err));
    this.#socket.on('close', () => this.#fail(this.#closedEarly()));
    // EOF is delivered as the end of the (otherwise unused) readable side.
    this.#socket.on('end', () => this.#fail(this.#closedEarly()));
    this.#socket.resume();
  }

  get usable(): boolean {
    return !this.#broken && this.#keepAlive && !this.#socket.destroyed;
  }

  exchange(head: string, signal: AbortSignal, target: (head: ExchangeHead) => BodyTarget): Promise<ExchangeResult> {
    return new Promise<ExchangeResult>((resolve, reject) => {
      if (signal.aborted) return reject(abortError());
      const onAbort = (): void => this.#fail(abortError());
      signal.addEventListener('abort', onAbort, { once: true });
      this.#pending = { resolve, reject, target, signal, onAbort };
      this.answered = 0;
      this.#headLength = 0;
      this.#keep = undefined;
      this.#result = undefined;
      this.#socket.ref();
      this.#socket.write(head, 'latin1');
    });
  }

  destroy(): void {
    this.#broken = true;
    this.#socket.destroy();
  }

  /** Where the next socket read goes: the head's scratch, the body's target, or scratch for dropped bytes. */
  #nextBuffer(): Buffer {
    if (this.#keep === undefined) return this.#scratch.subarray(this.#headLength);
    if (this.#got < this.#keep.length) return this.#keep.subarray(this.#got);
    return this.#scratch.subarray(0, Math.min(HEAD_BYTES, this.#want - this.#got));
  }

  #received(n: number): void {
    this.answered += n;
    if (this.#pending === undefined) {
      this.#fail(new ResponseHeadError('the server sent bytes nobody asked for'));
      return;
    }
    if (this.#keep !== undefined) {
      this.#got += n;
      if (this.#got === this.#want) this.#complete();
      return;
    }
    const from = this.#headLength;
    this.#headLength += n;
    const end = headEnd(this.#scratch, this.#headLength, from);
    if (end < 0) {
      if (this.#headLength === HEAD_BYTES) this.#fail(new ResponseHeadError(`the answer's head is longer than ${HEAD_BYTES} bytes`));
      return;
    }
    this.#startBody(end);
  }

  #startBody(end: number): void {
    const pending = this.#pending!;
    let head: ReturnType<typeof parseResponseHead>;
    try {
      head = parseResponseHead(this.#scratch, end);
    } catch (err) {
      this.#fail(err as Error);
      return;
    }
    if (head.bodyLength === undefined) {
      this.#fail(new UnsupportedFraming('the answer is not framed by Content-Length'));
      return;
    }
    this.#keepAlive = head.keepAlive;
    const result: ExchangeResult = { status: head.status, headers: head.headers, body: Buffer.alloc(0) };
    const sink = pending.target(result);
    const length = head.bodyLength;
    if ('into' in sink) {
      if (length > sink.into.length) {
        this.#fail(sink.tooLong());
        return;
      }
      this.#keep = sink.into.subarray(0, length);
    } else this.#keep = Buffer.allocUnsafe(Math.min(length, sink.limit));
    this.#result = result;
    this.#want = length;
    const early = this.#headLength - end;
    if (early > length) {
      this.#fail(new ResponseHeadError('the server sent more than the answer it announced'));
      return;
    }
    this.#scratch.copy(this.#keep, 0, end, end + Math.min(early, this.#keep.length));
    this.#got = early;
    if (this.#got === this.#want) this.#complete();
  }

  #complete(): void {
    const pending = this.#pending!;
    const result = this.#result!;
    result.body = this.#keep!;
    this.#settle();
    this.idleSince = performance.now();
    this.#socket.unref();
    pending.resolve(result);
  }

  #fail(err: Error): void {
    const pending = this.#pending;
    this.destroy();
    if (pending === undefined) return;
    this.#settle();
    pending.reject(err);
  }

  #settle(): void {
    const pending = this.#pending!;
    pending.signal.removeEventListener('abort', pending.onAbort);
    this.#pending = undefined;
    this.#keep = undefined;
    this.#headLength = 0;
    this.#got = 0;
    this.#want = 0;
  }

  #closedEarly(): Error {
    if (this.#keep !== undefined) return codeError('UND_ERR_SOCKET', `the connection closed after ${this.#got} of ${this.#want} bytes of the body`);
    return codeError('UND_ERR_SOCKET', 'the server closed the connection before answering');
  }
}

function codeError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

