/**
 * The handshake's bytes (fixed newstyle negotiation): the server's greeting, the client's flags, option
 * requests and their payloads, and the server's option replies. Pure encoding and decoding, no I/O.
 */
import {
  FLAG_C_FIXED_NEWSTYLE,
  FLAG_C_NO_ZEROES,
  FLAG_FIXED_NEWSTYLE,
  FLAG_NO_ZEROES,
  IHAVEOPT,
  Info,
  NBDMAGIC,
  OPTION_REPLY_MAGIC,
} from './constants.js';

export const GREETING_BYTES = 18;
export const CLIENT_FLAGS_BYTES = 4;
export const OPTION_HEADER_BYTES = 16;

/** A payload that does not parse: the option is answered with NBD_REP_ERR_INVALID. */
export class OptionPayloadError extends Error {}

export function encodeGreeting(): Buffer {
  const b = Buffer.alloc(GREETING_BYTES);
  b.writeBigUInt64BE(NBDMAGIC, 0);
  b.writeBigUInt64BE(IHAVEOPT, 8);
  b.writeUInt16BE(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES, 16);
  return b;
}

export interface ClientFlags {
  fixedNewstyle: boolean;
  noZeroes: boolean;
}

/** Undefined when the client sets a flag this server does not know (the protocol says: close). */
export function decodeClientFlags(b: Buffer): ClientFlags | undefined {
  const flags = b.readUInt32BE(0);
  if ((flags & ~(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES)) !== 0) return undefined;
  return { fixedNewstyle: (flags & FLAG_C_FIXED_NEWSTYLE) !== 0, noZeroes: (flags & FLAG_C_NO_ZEROES) !== 0 };
}

export interface OptionHeader {
  option: number;
  length: number;
}

/** Undefined when the magic is wrong (a client that does not speak newstyle: close). */
export function decodeOptionHeader(b: Buffer): OptionHeader | undefined {
  if (b.readBigUInt64BE(0) !== IHAVEOPT) return undefined;
  return { option: b.readUInt32BE(8), length: b.readUInt32BE(12) };
}

export function encodeOptionReply(option: number, type: number, data: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(20);
  head.writeBigUInt64BE(OPTION_REPLY_MAGIC, 0);
  head.writeUInt32BE(option, 8);
  head.writeUInt32BE(type >>> 0, 12);
  head.writeUInt32BE(data.length, 16);
  return Buffer.concat([head, data]);
}

/** Reads a payload front to back, refusing anything that runs past its end. */
class PayloadReader {
  private at = 0;
  constructor(private readonly b: Buffer) {}
  u16(): number {
    this.need(2);
    const v = this.b.readUInt16BE(this.at);
    this.at += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.b.readUInt32BE(this.at);
    this.at += 4;
    return v;
  }
  string(length: number): string {
    this.need(length);
    const s = this.b.toString('utf8', this.at, this.at + length);
    this.at += length;
    return s;
  }
  end(): void {
    if (this.at !== this.b.length) throw new OptionPayloadError(`${this.b.length - this.at} trailing byte(s)`);
  }
  private need(n: number): void {
    if (this.at + n > this.b.length) throw new OptionPayloadError('payload shorter than its fields');
  }
}

export interface GoRequest {
  name: string;
  infos: number[];
}

/** NBD_OPT_GO and NBD_OPT_INFO: an export name and the information items the client asks for. */
export function decodeGoRequest(data: Buffer): GoRequest {
  const r = new PayloadReader(data);
  const name = r.string(r.u32());
  const count = r.u16();
  const infos: number[] = [];
  for (let i = 0; i < count; i++) infos.push(r.u16());
  r.end();
  return { name, infos };
}

export interface MetaContextRequest {
  name: string;
  queries: string[];
}

/** NBD_OPT_LIST_META_CONTEXT and NBD_OPT_SET_META_CONTEXT: an export name and context queries. */
export function decodeMetaContextRequest(data: Buffer): MetaContextRequest {
  const r = new PayloadReader(data);
  const name = r.string(r.u32());
  const count = r.u32();
  const queries: string[] = [];
  for (let i = 0; i < count; i++) queries.push(r.string(r.u32()));
  r.end();
  return { name, queries };
}

/** NBD_INFO_EXPORT: size and transmission flags. */
export function encodeInfoExport(size: number, flags: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(Info.EXPORT, 0);
  b.writeBigUInt64BE(BigInt(size), 2);
  b.writeUInt16BE(flags, 10);
  return b;
}

export function encodeInfoName(name: string): Buffer {
  return Buffer.concat([u16(Info.NAME), Buffer.from(name, 'utf8')]);
}

export function encodeInfoDescription(text: string): Buffer {
  return Buffer.concat([u16(Info.DESCRIPTION), Buffer.from(text, 'utf8')]);
}

export function encodeInfoBlockSize(min: number, preferred: number, max: number): Buffer {
  const b = Buffer.alloc(14);
  b.writeUInt16BE(Info.BLOCK_SIZE, 0);
  b.writeUInt32BE(min, 2);
  b.writeUInt32BE(preferred, 6);
  b.writeUInt32BE(max, 10);
  return b;
}

/** NBD_REP_SERVER's payload: one export name (and an optional description) for NBD_OPT_LIST. */
export function encodeServerEntry(name: string, description = ''): Buffer {
  const n = Buffer.from(name, 'utf8');
  const head = Buffer.alloc(4);
  head.writeUInt32BE(n.length);
  return Buffer.concat([head, n, Buffer.from(description, 'utf8')]);
}

export function encodeMetaContext(id: number, name: string): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(id);
  return Buffer.concat([head, Buffer.from(name, 'utf8')]);
}

/** The answer to NBD_OPT_EXPORT_NAME: size, flags, and 124 zero bytes unless the client asked for none. */
export function encodeExportNameReply(size: number, flags: number, noZeroes: boolean): Buffer {
  const b = Buffer.alloc(noZeroes ? 10 : 134);
  b.writeBigUInt64BE(BigInt(size), 0);
  b.writeUInt16BE(flags, 8);
  return b;
}

function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v);
  return b;
}
