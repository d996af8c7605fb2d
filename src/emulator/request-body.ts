/**
 * Request bodies. Call bodies are small `key value` text or JSON. Write bodies are drive bytes: they must
 * carry Content-Length (chunked uploads are refused, as the real API did), are read into one Buffer, and
 * gzip ones are inflated on the zlib threadpool so they never block other requests.
 */
import type { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { type ApiObject, formatFromContentType, parseObjects } from '../api/wire.js';
import { EmulatorHttpError, usage } from './http-error.js';
import { jsonListKeys } from './list-keys.js';

const gunzipAsync = promisify(gunzip);
const MAX_CALL_BODY = 64 * 1024;

/** Called with the size of each piece of a body before the next is read: the WAN's upload bandwidth. */
export type Pace = ((bytes: number) => Promise<void>) | undefined;

/** Reads a body of unknown length up to `limit` bytes (a longer one throws BodyTooLarge). */
async function readBody(req: IncomingMessage, limit: number, pace: Pace): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    if (pace) await pace(chunk.length);
    length += chunk.length;
    if (length > limit) throw new BodyTooLarge(limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, length);
}

/** Reads a body of known length straight into one Buffer: the only copy the data makes. */
async function readExactBody(req: IncomingMessage, length: number, pace: Pace): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let done = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    if (pace) await pace(chunk.length);
    if (done + chunk.length > length) throw usage('body longer than its Content-Length');
    chunk.copy(buffer, done);
    done += chunk.length;
  }
  if (done !== length) throw usage('body shorter than its Content-Length');
  return buffer;
}

export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`request body larger than ${limit} bytes`);
  }
}

/** Reads and parses the keys of a call body (text or JSON per Content-Type), and which JSON gave as lists. */
export async function readCallBody(req: IncomingMessage, pace: Pace): Promise<{ body: ApiObject; lists: Set<string> }> {
  let body: Buffer;
  try {
    body = await readBody(req, MAX_CALL_BODY, pace);
  } catch (err) {
    if (err instanceof BodyTooLarge) throw usage(`request body larger than ${MAX_CALL_BODY} bytes`);
    throw err;
  }
  const text = body.toString('utf8');
  const format = formatFromContentType(req.headers['content-type']);
  try {
    const objects = parseObjects(text, format);
    const lists = format === 'json' ? jsonListKeys(text) : new Set<string>();
    return { body: Object.assign({}, ...objects) as ApiObject, lists };
  } catch (err) {
    if (err instanceof EmulatorHttpError) throw err;
    throw usage('request body is not valid JSON');
  }
}

/** Headers a write must have; checked before any byte of the body is read. */
export function checkWriteHeaders(req: IncomingMessage, maxWriteBytes: number): { length: number; gzip: boolean } {
  if (/chunked/i.test(req.headers['transfer-encoding'] ?? '')) {
    throw usage('Transfer-Encoding: chunked is not supported; send the write with a Content-Length');
  }
  const lengthHeader = req.headers['content-length'];
  if (lengthHeader === undefined || !/^\d+$/.test(lengthHeader)) throw usage('write needs a Content-Length');
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && encoding !== 'gzip') {
    throw usage(`Content-Encoding ${encoding} is not supported; send raw bytes or gzip`);
  }
  const gzip = encoding === 'gzip';
  const length = Number(lengthHeader);
  // A gzip stream of incompressible data is a little longer than the data: allow for that.
  const maxBody = gzip ? maxWriteBytes + Math.ceil(maxWriteBytes / 1000) + 1024 : maxWriteBytes;
  if (length > maxBody) throw usage(`write larger than ${maxWriteBytes} bytes; split it into smaller writes`);
  return { length, gzip };
}

/** Reads a write body and returns the drive bytes it carries. */
export async function readWriteBody(
  req: IncomingMessage,
  head: { length: number; gzip: boolean },
  maxWriteBytes: number,
  pace: Pace,
): Promise<Buffer> {
  const body = await readExactBody(req, head.length, pace);
  if (!head.gzip) return body;
  try {
    return await gunzipAsync(body, { maxOutputLength: maxWriteBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw usage(`write inflates to more than ${maxWriteBytes} bytes; split it into smaller writes`);
    }
    throw usage('write body is not a valid gzip stream');
  }
}

/** Reads and discards a body so the connection can carry the next request. */
export async function drainBody(req: IncomingMessage): Promise<void> {
  for await (const _ of req) {
    // Discarding.
  }
}
