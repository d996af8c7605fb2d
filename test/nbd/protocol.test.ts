/** The NBD wire format and option negotiation, byte for byte, without sockets. */
import { describe, expect, it } from 'vitest';
import { BASE_ALLOCATION, BASE_ALLOCATION_ID, Cmd, Errno, IHAVEOPT, Info, Opt, OPTION_REPLY_MAGIC, Rep, REQUEST_MAGIC, TxFlag } from '../../src/nbd/constants.js';
import { decodeClientFlags, decodeGoRequest, decodeOptionHeader, encodeGreeting } from '../../src/nbd/handshake.js';
import { allocationExtents, HOLE_FLAGS, inBounds, readPieces } from '../../src/nbd/layout.js';
import { answerOption, EXPORT_FLAGS, type ExportCatalog, newNegotiationState } from '../../src/nbd/negotiation.js';
import { decodeRequest, encodeBlockStatus, encodeOffsetHole, encodeSimpleReply, encodeStructuredError } from '../../src/nbd/transmission.js';

const ID = 'a'.repeat(64);
const catalog: ExportCatalog = {
  find: (name) => (name === '' || name === ID ? { name: ID, size: 5 * 1024 * 1024 + 3, description: 'drive web-01' } : undefined),
  list: () => [{ name: ID, size: 5 * 1024 * 1024 + 3, description: 'drive web-01' }],
};

/** Splits concatenated option replies into { option, type, data }. */
function parseReplies(replies: Buffer[]): { option: number; type: number; data: Buffer }[] {
  return replies.map((r) => {
    expect(r.readBigUInt64BE(0)).toBe(OPTION_REPLY_MAGIC);
    const length = r.readUInt32BE(16);
    expect(r.length).toBe(20 + length);
    return { option: r.readUInt32BE(8), type: r.readUInt32BE(12), data: r.subarray(20) };
  });
}

function goPayload(name: string, infos: number[]): Buffer {
  const n = Buffer.from(name);
  const b = Buffer.alloc(4 + n.length + 2 + 2 * infos.length);
  b.writeUInt32BE(n.length, 0);
  n.copy(b, 4);
  b.writeUInt16BE(infos.length, 4 + n.length);
  for (const [i, t] of infos.entries()) b.writeUInt16BE(t, 6 + n.length + 2 * i);
  return b;
}

function metaPayload(name: string, queries: string[]): Buffer {
  const parts = [Buffer.alloc(4), Buffer.from(name), Buffer.alloc(4)];
  parts[0]!.writeUInt32BE(Buffer.byteLength(name));
  parts[2]!.writeUInt32BE(queries.length);
  for (const q of queries) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(Buffer.byteLength(q));
    parts.push(len, Buffer.from(q));
  }
  return Buffer.concat(parts);
}

describe('handshake bytes', () => {
  it('greets with NBDMAGIC, IHAVEOPT and the fixed-newstyle and no-zeroes flags', () => {
    expect(encodeGreeting().toString('hex')).toBe('4e42444d41474943' + '49484156454f5054' + '0003');
  });

  it('accepts known client flags and refuses unknown ones', () => {
    expect(decodeClientFlags(Buffer.from([0, 0, 0, 3]))).toEqual({ fixedNewstyle: true, noZeroes: true });
    expect(decodeClientFlags(Buffer.from([0, 0, 0, 4]))).toBeUndefined();
  });

  it('reads option headers and refuses a wrong magic', () => {
    const h = Buffer.alloc(16);
    h.writeBigUInt64BE(IHAVEOPT, 0);
    h.writeUInt32BE(Opt.GO, 8);
    h.writeUInt32BE(77, 12);
    expect(decodeOptionHeader(h)).toEqual({ option: Opt.GO, length: 77 });
    h.writeUInt32BE(0, 0);
    expect(decodeOptionHeader(h)).toBeUndefined();
  });

  it('parses a GO payload and refuses one whose fields overrun it', () => {
    expect(decodeGoRequest(goPayload(ID, [Info.NAME, Info.BLOCK_SIZE]))).toEqual({ name: ID, infos: [Info.NAME, Info.BLOCK_SIZE] });
    expect(() => decodeGoRequest(goPayload(ID, [1]).subarray(0, 10))).toThrow(/shorter/);
  });
});

describe('option negotiation', () => {
  it('GO on the default export answers the size and read-only, multi-conn, flush flags, then enters transmission', () => {
    const state = newNegotiationState(true);
    const out = answerOption(Opt.GO, goPayload('', [Info.BLOCK_SIZE]), catalog, state);
    expect(out.next).toBe('transmission');
    const replies = parseReplies(out.replies);
    expect(replies.map((r) => r.type)).toEqual([Rep.INFO, Rep.INFO, Rep.ACK]);
    const info = replies[0]!.data;
    expect(info.readUInt16BE(0)).toBe(Info.EXPORT);
    expect(Number(info.readBigUInt64BE(2))).toBe(5 * 1024 * 1024 + 3);
    const flags = info.readUInt16BE(10);
    expect(flags).toBe(EXPORT_FLAGS);
    for (const f of [TxFlag.HAS_FLAGS, TxFlag.READ_ONLY, TxFlag.CAN_MULTI_CONN, TxFlag.SEND_FLUSH]) expect(flags & f).toBe(f);
    expect(replies[1]!.data.readUInt16BE(0)).toBe(Info.BLOCK_SIZE);
  });

  it('INFO answers like GO but stays in negotiation; an unknown export is NBD_REP_ERR_UNKNOWN', () => {
    const state = newNegotiationState(false);
    expect(answerOption(Opt.INFO, goPayload(ID, []), catalog, state).next).toBe('options');
    const unknown = answerOption(Opt.GO, goPayload('nope', []), catalog, state);
    expect(unknown.next).toBe('options');
    expect(parseReplies(unknown.replies)[0]!.type).toBe(Rep.ERR_UNKNOWN);
  });

  it('LIST names every export then ACKs; ABORT ACKs and closes', () => {
    const list = parseReplies(answerOption(Opt.LIST, Buffer.alloc(0), catalog, newNegotiationState(false)).replies);
    expect(list.map((r) => r.type)).toEqual([Rep.SERVER, Rep.ACK]);
    const entry = list[0]!.data;
    expect(entry.toString('utf8', 4, 4 + entry.readUInt32BE(0))).toBe(ID);
    const abort = answerOption(Opt.ABORT, Buffer.alloc(0), catalog, newNegotiationState(false));
    expect(abort.next).toBe('close');
    expect(parseReplies(abort.replies)[0]!.type).toBe(Rep.ACK);
  });

  it('answers unknown options (and STARTTLS) with NBD_REP_ERR_UNSUP and malformed ones with NBD_REP_ERR_INVALID', () => {
    const state = newNegotiationState(false);
    expect(parseReplies(answerOption(99, Buffer.alloc(0), catalog, state).replies)[0]!.type).toBe(Rep.ERR_UNSUP);
    expect(parseReplies(answerOption(Opt.STARTTLS, Buffer.alloc(0), catalog, state).replies)[0]!.type).toBe(Rep.ERR_UNSUP);
    expect(parseReplies(answerOption(Opt.GO, Buffer.from([0, 0, 0, 9]), catalog, state).replies)[0]!.type).toBe(Rep.ERR_INVALID);
    expect(parseReplies(answerOption(Opt.STRUCTURED_REPLY, Buffer.from([1]), catalog, state).replies)[0]!.type).toBe(Rep.ERR_INVALID);
  });

  it('SET_META_CONTEXT needs structured replies first, then selects base:allocation', () => {
    const state = newNegotiationState(false);
    const early = parseReplies(answerOption(Opt.SET_META_CONTEXT, metaPayload(ID, [BASE_ALLOCATION]), catalog, state).replies);
    expect(early[0]!.type).toBe(Rep.ERR_INVALID);
    answerOption(Opt.STRUCTURED_REPLY, Buffer.alloc(0), catalog, state);
    const set = parseReplies(answerOption(Opt.SET_META_CONTEXT, metaPayload(ID, [BASE_ALLOCATION, 'qemu:dirty-bitmap:x']), catalog, state).replies);
    expect(set.map((r) => r.type)).toEqual([Rep.META_CONTEXT, Rep.ACK]);
    expect(set[0]!.data.readUInt32BE(0)).toBe(BASE_ALLOCATION_ID);
    expect(set[0]!.data.toString('utf8', 4)).toBe(BASE_ALLOCATION);
    expect(state).toMatchObject({ structuredReplies: true, baseAllocation: true });
    // Setting again without it deselects it.
    answerOption(Opt.SET_META_CONTEXT, metaPayload(ID, ['other:thing']), catalog, state);
    expect(state.baseAllocation).toBe(false);
  });

  it('LIST_META_CONTEXT offers base:allocation for no query and for base:, nothing for other namespaces', () => {
    const state = newNegotiationState(false);
    const types = (queries: string[]) => parseReplies(answerOption(Opt.LIST_META_CONTEXT, metaPayload('', queries), catalog, state).replies).map((r) => r.type);
    expect(types([])).toEqual([Rep.META_CONTEXT, Rep.ACK]);
    expect(types(['base:'])).toEqual([Rep.META_CONTEXT, Rep.ACK]);
    expect(types(['qemu:'])).toEqual([Rep.ACK]);
    expect(state.baseAllocation).toBe(false);
  });

  it('EXPORT_NAME answers size and flags (124 zeros unless NO_ZEROES) and hangs up on an unknown name', () => {
    const out = answerOption(Opt.EXPORT_NAME, Buffer.from(ID), catalog, newNegotiationState(false));
    expect(out.next).toBe('transmission');
    expect(out.replies[0]!.length).toBe(134);
    expect(answerOption(Opt.EXPORT_NAME, Buffer.from(ID), catalog, newNegotiationState(true)).replies[0]!.length).toBe(10);
    expect(answerOption(Opt.EXPORT_NAME, Buffer.from('x'), catalog, newNegotiationState(true)).next).toBe('close');
  });
});

describe('transmission bytes', () => {
  it('decodes a request header, keeps the handle as bytes and refuses a wrong magic', () => {
    const b = Buffer.alloc(28);
    b.writeUInt32BE(REQUEST_MAGIC, 0);
    b.writeUInt16BE(1, 4);
    b.writeUInt16BE(Cmd.READ, 6);
    b.write('cookie!!', 8);
    b.writeBigUInt64BE(4096n, 16);
    b.writeUInt32BE(512, 24);
    expect(decodeRequest(b)).toEqual({ flags: 1, type: Cmd.READ, handle: Buffer.from('cookie!!'), offset: 4096, length: 512 });
    b.writeUInt32BE(1, 0);
    expect(decodeRequest(b)).toBeUndefined();
  });

  it('encodes simple replies, holes, block status and errors as the protocol lays them out', () => {
    const h = Buffer.from('12345678');
    expect(Buffer.concat(encodeSimpleReply(h, Errno.EPERM)).toString('hex')).toBe('67446698' + '00000001' + h.toString('hex'));
    const hole = Buffer.concat(encodeOffsetHole(h, 8192, 4096, true));
    expect(hole.toString('hex')).toBe('668e33ef' + '0001' + '0002' + h.toString('hex') + '0000000c' + '0000000000002000' + '00001000');
    const bs = Buffer.concat(encodeBlockStatus(h, 1, [{ length: 10, flags: 0 }, { length: 20, flags: 3 }], true));
    expect(bs.subarray(20).toString('hex')).toBe('00000001' + '0000000a00000000' + '0000001400000003');
    const err = Buffer.concat(encodeStructuredError(h, Errno.EIO, 'chunk abc'));
    expect(err.readUInt16BE(6)).toBe(0x8001);
    expect(err.readUInt32BE(20)).toBe(Errno.EIO);
    expect(err.toString('utf8', 26)).toBe('chunk abc');
  });
});

describe('snapshot layout', () => {
  // Ranges of 10 bytes: data, zero, zero, data (last one 5 bytes).
  const table = Buffer.alloc(4 * 32);
  table[0] = 1;
  table[3 * 32] = 2;
  const layout = { size: 35, chunkSize: 10, table };

  it('splits a read across ranges and marks zero ranges', () => {
    expect(readPieces(layout, 7, 20)).toEqual([
      { index: 0, offset: 7, start: 7, length: 3, zero: false },
      { index: 1, offset: 10, start: 0, length: 10, zero: true },
      { index: 2, offset: 20, start: 0, length: 7, zero: true },
    ]);
  });

  it('reports merged extents, holes for zero ranges, and only the first with REQ_ONE', () => {
    expect(allocationExtents(layout, 0, 35, false)).toEqual([
      { length: 10, flags: 0 },
      { length: 20, flags: HOLE_FLAGS },
      { length: 5, flags: 0 },
    ]);
    expect(allocationExtents(layout, 12, 20, true)).toEqual([{ length: 18, flags: HOLE_FLAGS }]);
  });

  it('bounds: empty reads and reads past the end are out of bounds', () => {
    expect(inBounds(35, 0, 35)).toBe(true);
    expect(inBounds(35, 30, 6)).toBe(false);
    expect(inBounds(35, 0, 0)).toBe(false);
  });
});
