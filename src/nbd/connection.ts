/**
 * One client connection: the handshake (answered by negotiation.ts), then requests served concurrently
 * (several in flight, replies in completion order as the protocol allows), with input paused while too
 * many are in flight. A client that disappears at any point only ends its own connection: pending reads
 * finish into the cache and their replies are dropped.
 */
import type { Socket } from 'node:net';
import { BASE_ALLOCATION_ID, Cmd, CmdFlag, Errno, MAX_OPTION_DATA, MAX_PAYLOAD, Opt, Rep } from './constants.js';
import {
  CLIENT_FLAGS_BYTES,
  decodeClientFlags,
  decodeOptionHeader,
  encodeGreeting,
  encodeOptionReply,
  OPTION_HEADER_BYTES,
} from './handshake.js';
import { allocationExtents, inBounds } from './layout.js';
import { answerOption, type ExportCatalog, type NegotiationState, newNegotiationState } from './negotiation.js';
import { ChunkReadError, type SnapshotSource } from './snapshot-source.js';
import { SocketReader } from './socket-reader.js';
import {
  decodeRequest,
  encodeBlockStatus,
  encodeNone,
  encodeOffsetData,
  encodeOffsetHole,
  encodeSimpleReply,
  encodeStructuredError,
  REQUEST_HEADER_BYTES,
  type Request,
} from './transmission.js';

/** Requests served at once on one connection, and the bytes they may ask for in total. */
const MAX_IN_FLIGHT = 16;
const MAX_IN_FLIGHT_BYTES = 128 * 1024 * 1024;

export interface ServedExport {
  catalog: ExportCatalog;
  source(name: string): SnapshotSource;
}

/** How long a client may take from connecting to choosing an export before it is dropped. */
export const HANDSHAKE_TIMEOUT_MS = 30_000;

export async function serveConnection(
  socket: Socket,
  exports: ServedExport,
  log: (line: string) => void,
  handshakeTimeoutMs = HANDSHAKE_TIMEOUT_MS,
): Promise<void> {
  socket.setNoDelay(true);
  // A vanished client shows up as a reset or a broken pipe: that ends this connection, nothing else.
  socket.on('error', () => undefined);
  // A client that connects and never negotiates (a port scanner, a stuck tool) would hold its socket and a
  // reader for as long as the server runs. Once an export is chosen, idling is legitimate (a mounted
  // filesystem reads when it needs to), so the deadline covers the handshake only.
  socket.setTimeout(handshakeTimeoutMs, () => {
    log(`connection dropped: no export chosen within ${handshakeTimeoutMs / 1000} s`);
    socket.destroy();
  });
  const reader = new SocketReader(socket);
  try {
    const negotiated = await negotiate(socket, reader, exports.catalog);
    if (!negotiated) return;
    socket.setTimeout(0);
    await transmit(socket, reader, exports.source(negotiated.name), negotiated.state, log);
  } catch (err) {
    log(`connection ended by an internal error: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    socket.end();
    socket.destroySoon?.();
  }
}

async function negotiate(socket: Socket, reader: SocketReader, catalog: ExportCatalog): Promise<{ name: string; state: NegotiationState } | undefined> {
  socket.write(encodeGreeting());
  const flagBytes = await reader.read(CLIENT_FLAGS_BYTES);
  const flags = flagBytes && decodeClientFlags(flagBytes);
  if (!flags) return undefined;
  const state = newNegotiationState(flags.noZeroes);
  for (;;) {
    const headerBytes = await reader.read(OPTION_HEADER_BYTES);
    const header = headerBytes && decodeOptionHeader(headerBytes);
    if (!header) return undefined;
    if (header.length > MAX_OPTION_DATA) {
      if (header.option === Opt.EXPORT_NAME || !(await reader.skip(header.length))) return undefined;
      socket.write(encodeOptionReply(header.option, Rep.ERR_TOO_BIG, Buffer.from('option data too large')));
      continue;
    }
    const data = await reader.read(header.length);
    if (!data) return undefined;
    const outcome = answerOption(header.option, data, catalog, state);
    for (const r of outcome.replies) socket.write(r);
    if (outcome.next === 'close') return undefined;
    if (outcome.next === 'transmission') return { name: outcome.export.name, state };
  }
}

async function transmit(socket: Socket, reader: SocketReader, source: SnapshotSource, state: NegotiationState, log: (line: string) => void): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  let inFlightBytes = 0;
  const send = (parts: Buffer[]) => {
    if (socket.destroyed || !socket.writable) return;
    for (const p of parts) socket.write(p);
  };
  for (;;) {
    while (inFlight.size >= MAX_IN_FLIGHT || inFlightBytes >= MAX_IN_FLIGHT_BYTES) await Promise.race(inFlight);
    if (socket.writableNeedDrain) await drained(socket);
    const headerBytes = await reader.read(REQUEST_HEADER_BYTES);
    if (!headerBytes) break;
    const req = decodeRequest(headerBytes);
    if (!req) {
      log('a client sent a request with a wrong magic number: connection closed');
      break;
    }
    if (req.type === Cmd.DISC) break;
    if (req.type === Cmd.WRITE && !(await reader.skip(req.length))) break;
    const cost = req.type === Cmd.READ ? Math.min(req.length, MAX_PAYLOAD) : 0;
    inFlightBytes += cost;
    const task = answerRequest(req, source, state)
      .then(send, (err: unknown) => send(errorReply(req, state, Errno.EIO, err instanceof Error ? err.message : String(err))))
      .finally(() => {
        inFlight.delete(task);
        inFlightBytes -= cost;
      });
    inFlight.add(task);
  }
  // NBD_CMD_DISC (or the end of input): finish what was asked, then close.
  await Promise.all(inFlight);
}

async function answerRequest(req: Request, source: SnapshotSource, state: NegotiationState): Promise<Buffer[]> {
  switch (req.type) {
    case Cmd.READ:
      return answerRead(req, source, state);
    case Cmd.FLUSH:
      return reply(req, state);
    case Cmd.BLOCK_STATUS: {
      if (!state.structuredReplies || !state.baseAllocation) return errorReply(req, state, Errno.EINVAL, 'no meta context was negotiated');
      if (!inBounds(source.size, req.offset, req.length)) return errorReply(req, state, Errno.EINVAL, 'range beyond the end of the export');
      const extents = allocationExtents(source.layout, req.offset, req.length, (req.flags & CmdFlag.REQ_ONE) !== 0);
      return encodeBlockStatus(req.handle, BASE_ALLOCATION_ID, extents, true);
    }
    case Cmd.WRITE:
    case Cmd.TRIM:
    case Cmd.WRITE_ZEROES:
      return errorReply(req, state, Errno.EPERM, 'the export is a read-only snapshot');
    default:
      return errorReply(req, state, Errno.EINVAL, `command ${req.type} is not supported`);
  }
}

async function answerRead(req: Request, source: SnapshotSource, state: NegotiationState): Promise<Buffer[]> {
  if (!inBounds(source.size, req.offset, req.length)) return errorReply(req, state, Errno.EINVAL, 'read beyond the end of the export');
  if (req.length > MAX_PAYLOAD) return errorReply(req, state, Errno.EINVAL, `reads are limited to ${MAX_PAYLOAD} bytes`);
  let pieces: Awaited<ReturnType<SnapshotSource['read']>>;
  try {
    pieces = await source.read(req.offset, req.length);
  } catch (err) {
    if (err instanceof ChunkReadError) return errorReply(req, state, Errno.EIO, err.message);
    throw err;
  }
  if (!state.structuredReplies) {
    const data = Buffer.alloc(req.length);
    for (const p of pieces) p.data?.copy(data, p.offset - req.offset);
    return encodeSimpleReply(req.handle, 0, data);
  }
  // Zero ranges go out as holes: nothing to send, and nbdcopy and qemu skip them.
  return pieces.flatMap((p, i) => {
    const done = i === pieces.length - 1;
    return p.data ? encodeOffsetData(req.handle, p.offset, p.data, done) : encodeOffsetHole(req.handle, p.offset, p.length, done);
  });
}

function reply(req: Request, state: NegotiationState): Buffer[] {
  return state.structuredReplies ? encodeNone(req.handle) : encodeSimpleReply(req.handle, 0);
}

function errorReply(req: Request, state: NegotiationState, errno: number, message: string): Buffer[] {
  return state.structuredReplies ? encodeStructuredError(req.handle, errno, message) : encodeSimpleReply(req.handle, errno);
}

/** Resolves when the socket's output drains or the socket closes, leaving no listener behind. */
function drained(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off('drain', done).off('close', done);
      resolve();
    };
    socket.on('drain', done).on('close', done);
  });
}
