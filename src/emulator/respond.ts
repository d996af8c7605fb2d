/**
 * Writing answers: info blocks and lists in text or JSON (sorted keys, `X-Elastic-Output` naming the
 * format used), raw drive bytes, 204s, and errors as status + `X-Elastic-Error` word + one text line.
 * Also the two faults that act on the body: slow bodies and connections reset mid-body.
 */
import type { ServerResponse } from 'node:http';
import { formatList, type WireFormat } from '../api/wire.js';
import type { Reply } from './call.js';
import type { EmulatorHttpError } from './http-error.js';
import { formatInfoBlocks } from './list-keys.js';
import type { Pace } from './request-body.js';
import { WAN_SLICE_BYTES } from './wan.js';

export interface BodyFaults {
  slowBytesPerSec: number;
  /** The WAN's download bandwidth for the caller's account, when limited. */
  pace?: Pace;
  /** Send the headers and part of the body, then destroy the connection. */
  resetMidBody: boolean;
}

const CONTENT_TYPE: Record<WireFormat, string> = { text: 'text/plain; charset=utf-8', json: 'application/json' };
const SLOW_TICK_MS = 50;

export function responseFormat(accept: string | undefined): WireFormat {
  return accept?.toLowerCase().includes('application/json') ? 'json' : 'text';
}

export function sendError(res: ServerResponse, err: EmulatorHttpError, closeConnection = false): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers: Record<string, string> = {
    'Content-Type': 'text/plain; charset=utf-8',
    'X-Elastic-Error': err.word,
  };
  if (err.word === 'auth') headers['WWW-Authenticate'] = 'Basic realm="drivesnap emulator"';
  if (closeConnection) headers.Connection = 'close';
  const body = `${err.message.split('\n')[0]}\n`;
  headers['Content-Length'] = String(Buffer.byteLength(body));
  res.writeHead(err.status, headers);
  res.end(body);
}

export async function sendReply(res: ServerResponse, reply: Reply, format: WireFormat, faults: BodyFaults): Promise<void> {
  if (reply.type === 'none') {
    if (faults.resetMidBody) {
      res.destroy();
      return;
    }
    res.writeHead(204);
    res.end();
    return;
  }
  let body: Buffer;
  const headers: Record<string, string> = {};
  if (reply.type === 'bytes') {
    body = reply.data;
    headers['Content-Type'] = 'application/octet-stream';
  } else {
    const text = reply.type === 'list' ? formatList(reply.items, format) : formatInfoBlocks(reply.blocks, format, reply.single);
    body = Buffer.from(text, 'utf8');
    headers['Content-Type'] = CONTENT_TYPE[format];
    headers['X-Elastic-Output'] = format;
  }
  headers['Content-Length'] = String(body.length);
  res.writeHead(200, headers);
  if (faults.resetMidBody) {
    // Some of the body reaches the client, then the connection dies: a truncated response.
    const part = body.subarray(0, Math.floor(body.length / 2));
    if (part.length > 0) res.write(part);
    res.flushHeaders();
    setTimeout(() => res.destroy(), 10);
    return;
  }
  const { slowBytesPerSec, pace } = faults;
  if (slowBytesPerSec === 0 && !pace) {
    res.end(body);
    return;
  }
  // Slowed (the `slow` fault trickles a slice per tick) or paced by the WAN's bandwidth, or both.
  const slowSlice = slowBytesPerSec > 0 ? Math.max(1, Math.floor((slowBytesPerSec * SLOW_TICK_MS) / 1000)) : Number.POSITIVE_INFINITY;
  const slice = Math.min(slowSlice, pace ? WAN_SLICE_BYTES : Number.POSITIVE_INFINITY);
  for (let offset = 0; offset < body.length; offset += slice) {
    if (res.destroyed) return;
    const part = body.subarray(offset, offset + slice);
    if (pace) await pace(part.length);
    if (!res.write(part)) await drained(res);
    if (slowBytesPerSec > 0) await new Promise((r) => setTimeout(r, SLOW_TICK_MS));
  }
  res.end();
}

/** Resolves when the response can take more, or is gone. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
