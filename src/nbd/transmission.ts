/**
 * The transmission phase's bytes: request headers, simple replies, and structured reply chunks (data,
 * holes, block status, errors). Pure encoding and decoding, no I/O.
 */
import { REPLY_FLAG_DONE, ReplyType, REQUEST_MAGIC, SIMPLE_REPLY_MAGIC, STRUCTURED_REPLY_MAGIC } from './constants.js';

export const REQUEST_HEADER_BYTES = 28;

export interface Request {
  flags: number;
  type: number;
  /** The client's opaque cookie, echoed in every reply (kept as bytes: it is not a number to us). */
  handle: Buffer;
  offset: number;
  length: number;
}

/** Undefined when the magic is wrong: the stream is out of step and the connection must close. */
export function decodeRequest(b: Buffer): Request | undefined {
  if (b.readUInt32BE(0) !== REQUEST_MAGIC) return undefined;
  const offset = b.readBigUInt64BE(16);
  return {
    flags: b.readUInt16BE(4),
    type: b.readUInt16BE(6),
    handle: Buffer.from(b.subarray(8, 16)),
    // Offsets beyond 2^53 are past any export's end; clamp so the bounds check refuses them.
    offset: offset > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(offset),
    length: b.readUInt32BE(24),
  };
}

export function encodeSimpleReply(handle: Buffer, error: number, data?: Buffer): Buffer[] {
  const head = Buffer.alloc(16);
  head.writeUInt32BE(SIMPLE_REPLY_MAGIC, 0);
  head.writeUInt32BE(error, 4);
  handle.copy(head, 8);
  return data && data.length > 0 ? [head, data] : [head];
}

function chunkHeader(handle: Buffer, type: number, done: boolean, length: number): Buffer {
  const head = Buffer.alloc(20);
  head.writeUInt32BE(STRUCTURED_REPLY_MAGIC, 0);
  head.writeUInt16BE(done ? REPLY_FLAG_DONE : 0, 4);
  head.writeUInt16BE(type, 6);
  handle.copy(head, 8);
  head.writeUInt32BE(length, 16);
  return head;
}

function u64(v: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(v));
  return b;
}

export function encodeOffsetData(handle: Buffer, offset: number, data: Buffer, done: boolean): Buffer[] {
  return [chunkHeader(handle, ReplyType.OFFSET_DATA, done, 8 + data.length), u64(offset), data];
}

export function encodeOffsetHole(handle: Buffer, offset: number, length: number, done: boolean): Buffer[] {
  const body = Buffer.alloc(12);
  body.writeBigUInt64BE(BigInt(offset), 0);
  body.writeUInt32BE(length, 8);
  return [chunkHeader(handle, ReplyType.OFFSET_HOLE, done, 12), body];
}

export function encodeNone(handle: Buffer): Buffer[] {
  return [chunkHeader(handle, ReplyType.NONE, true, 0)];
}

export interface Extent {
  length: number;
  flags: number;
}

export function encodeBlockStatus(handle: Buffer, contextId: number, extents: Extent[], done: boolean): Buffer[] {
  const body = Buffer.alloc(4 + 8 * extents.length);
  body.writeUInt32BE(contextId, 0);
  extents.forEach((e, i) => {
    body.writeUInt32BE(e.length, 4 + 8 * i);
    body.writeUInt32BE(e.flags, 8 + 8 * i);
  });
  return [chunkHeader(handle, ReplyType.BLOCK_STATUS, done, body.length), body];
}

/** The final chunk of a failed request: an errno and a message for people (the client may log it). */
export function encodeStructuredError(handle: Buffer, error: number, message: string): Buffer[] {
  const text = Buffer.from(message, 'utf8').subarray(0, 4096);
  const body = Buffer.alloc(6);
  body.writeUInt32BE(error, 0);
  body.writeUInt16BE(text.length, 4);
  return [chunkHeader(handle, ReplyType.ERROR, true, 6 + text.length), body, text];
}
