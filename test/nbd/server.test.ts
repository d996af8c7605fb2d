/**
 * The server's behaviour where real clients never go: writes, reads past the end, unknown commands and
 * options, block status without a context, a client that vanishes mid-request, a chunk that fails to load.
 * A bare socket speaks the protocol here; the chunks come from memory.
 */
import { connect, type Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Cmd, Errno, IHAVEOPT, Opt, Rep, REQUEST_MAGIC, SIMPLE_REPLY_MAGIC } from '../../src/nbd/constants.js';
import { ChunkCache } from '../../src/nbd/chunk-cache.js';
import { NbdServer } from '../../src/nbd/server.js';
import { type ChunkLoader, SnapshotSource } from '../../src/nbd/snapshot-source.js';
import { SocketReader } from '../../src/nbd/socket-reader.js';

const CHUNK = 1024;
/** Three ranges: data (id 1), zero, data (id 3), the last one 100 bytes. */
const SIZE = 2 * CHUNK + 100;
const table = Buffer.alloc(3 * 32);
table[0] = 1;
table[64] = 3;
const content = (id: number, length: number) => Buffer.alloc(length, id);

let dir: string;
let server: NbdServer;
let logged: string[];
let load: ChunkLoader;
let source: SnapshotSource;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'drivesnap-nbd-server-'));
  logged = [];
  load = async (id, length) => content(id[0]!, length);
  source = new SnapshotSource({
    id: 'f'.repeat(64),
    layout: { size: SIZE, chunkSize: CHUNK, table },
    load: (id, length) => load(id, length),
    cache: new ChunkCache(0),
    loadLimit: pLimit(1),
    readAhead: 0,
    log: (l) => logged.push(l),
  });
  server = new NbdServer([{ name: 'snap', description: 'test', source }], (l) => logged.push(l));
  await server.listen({ socket: join(dir, 's.sock') });
});

afterEach(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

/** Connects, negotiates with NBD_OPT_GO (simple replies only), and returns the socket ready for requests. */
async function open(): Promise<{ socket: Socket; reader: SocketReader; option: (opt: number, data?: Buffer) => Promise<number> }> {
  const socket = connect(join(dir, 's.sock'));
  await new Promise((resolve) => socket.once('connect', resolve));
  const reader = new SocketReader(socket);
  await reader.read(18);
  socket.write(Buffer.from([0, 0, 0, 3]));
  const option = async (opt: number, data: Buffer = Buffer.alloc(0)): Promise<number> => {
    const h = Buffer.alloc(16);
    h.writeBigUInt64BE(IHAVEOPT, 0);
    h.writeUInt32BE(opt, 8);
    h.writeUInt32BE(data.length, 12);
    socket.write(Buffer.concat([h, data]));
    // Replies until an ACK or an error; returns the last reply type.
    for (;;) {
      const head = (await reader.read(20))!;
      await reader.read(head.readUInt32BE(16));
      const type = head.readUInt32BE(12);
      if (type === Rep.ACK || type >= 0x80000000) return type;
    }
  };
  return { socket, reader, option };
}

async function go(): Promise<{ socket: Socket; reader: SocketReader }> {
  const c = await open();
  const name = Buffer.from('snap');
  const payload = Buffer.alloc(4 + name.length + 2);
  payload.writeUInt32BE(name.length, 0);
  name.copy(payload, 4);
  expect(await c.option(Opt.GO, payload)).toBe(Rep.ACK);
  return c;
}

function request(socket: Socket, type: number, offset: number, length: number, payload?: Buffer): void {
  const b = Buffer.alloc(28);
  b.writeUInt32BE(REQUEST_MAGIC, 0);
  b.writeUInt16BE(type, 6);
  b.writeUInt32BE(type * 1000 + length, 12);
  b.writeBigUInt64BE(BigInt(offset), 16);
  b.writeUInt32BE(length, 24);
  socket.write(payload ? Buffer.concat([b, payload]) : b);
}

async function simpleReply(reader: SocketReader, dataLength = 0): Promise<{ error: number; data?: Buffer }> {
  const head = (await reader.read(16))!;
  expect(head.readUInt32BE(0)).toBe(SIMPLE_REPLY_MAGIC);
  const error = head.readUInt32BE(4);
  return { error, data: error === 0 && dataLength > 0 ? await reader.read(dataLength) : undefined };
}

describe('the NBD server over a socket', () => {
  it('refuses an unknown option with NBD_REP_ERR_UNSUP and still negotiates afterwards', async () => {
    const c = await open();
    expect(await c.option(42)).toBe(Rep.ERR_UNSUP);
    expect(await c.option(Opt.LIST)).toBe(Rep.ACK);
    c.socket.destroy();
  });

  it('reads across data and zero ranges, refuses writes with EPERM (dropping the payload) and bad ranges or commands with EINVAL', async () => {
    const { socket, reader } = await go();
    request(socket, Cmd.READ, CHUNK - 10, CHUNK + 20);
    const read = await simpleReply(reader, CHUNK + 20);
    expect(read.error).toBe(0);
    expect(read.data).toEqual(Buffer.concat([content(1, 10), Buffer.alloc(CHUNK), content(3, 10)]));
    request(socket, Cmd.WRITE, 0, 512, Buffer.alloc(512, 7));
    expect((await simpleReply(reader)).error).toBe(Errno.EPERM);
    request(socket, Cmd.TRIM, 0, 512);
    expect((await simpleReply(reader)).error).toBe(Errno.EPERM);
    request(socket, Cmd.READ, SIZE - 10, 11);
    expect((await simpleReply(reader)).error).toBe(Errno.EINVAL);
    request(socket, Cmd.READ, 0, 0);
    expect((await simpleReply(reader)).error).toBe(Errno.EINVAL);
    request(socket, 42, 0, 0);
    expect((await simpleReply(reader)).error).toBe(Errno.EINVAL);
    request(socket, Cmd.BLOCK_STATUS, 0, 512);
    expect((await simpleReply(reader)).error).toBe(Errno.EINVAL);
    request(socket, Cmd.FLUSH, 0, 0);
    expect((await simpleReply(reader)).error).toBe(0);
    // The write's payload was consumed, not taken for a request: the stream is still in step.
    request(socket, Cmd.READ, SIZE - 100, 100);
    expect((await simpleReply(reader, 100)).data).toEqual(content(3, 100));
    request(socket, Cmd.DISC, 0, 0);
    await new Promise((resolve) => socket.once('close', resolve));
  });

  it('answers EIO for a chunk that fails to load, logs it naming the chunk, and serves the other ranges', async () => {
    load = async (id, length) => {
      if (id[0] === 3) throw new Error('it is missing from the repository');
      return content(id[0]!, length);
    };
    const { socket, reader } = await go();
    request(socket, Cmd.READ, 2 * CHUNK, 100);
    expect((await simpleReply(reader)).error).toBe(Errno.EIO);
    request(socket, Cmd.READ, 0, CHUNK);
    expect((await simpleReply(reader, CHUNK)).data).toEqual(content(1, CHUNK));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain(`chunk 03${'0'.repeat(62)} (bytes 2048-2147`);
    expect(logged[0]).toContain('missing from the repository');
    socket.destroy();
  });

  it('a client that vanishes with a request in flight costs nothing: its connection ends, others are served', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let loading: (id: number) => void = () => undefined;
    const started = new Promise<number>((resolve) => {
      loading = resolve;
    });
    load = async (id, length) => {
      loading(id[0]!);
      await gate;
      return content(id[0]!, length);
    };
    const first = await go();
    request(first.socket, Cmd.READ, 0, 100);
    const firstClosed = new Promise((resolve) => first.socket.once('close', resolve));
    // Wait until the server is loading the chunk for it, then vanish.
    expect(await started).toBe(1);
    first.socket.destroy();
    await firstClosed;
    release();
    const second = await go();
    request(second.socket, Cmd.READ, 0, 100);
    expect((await simpleReply(second.reader, 100)).data).toEqual(content(1, 100));
    expect(server.connections).toBe(1);
    second.socket.destroy();
    expect(logged).toEqual([]);
  });
});

describe('the handshake deadline', () => {
  it('drops a client that connects and never chooses an export, and lets a negotiated one idle past it', async () => {
    const quick = new NbdServer([{ name: 'snap', description: 'test', source }], (l) => logged.push(l), 300);
    await quick.listen({ socket: join(dir, 'quick.sock') });
    try {
      const silent = connect(join(dir, 'quick.sock'));
      silent.resume(); // takes the greeting, answers nothing
      const closed = new Promise((resolve) => silent.once('close', resolve));
      await new Promise((resolve) => silent.once('connect', resolve));
      await closed; // the server ends it: the test would time out otherwise
      expect(logged).toContain('connection dropped: no export chosen within 0.3 s');

      const socket = connect(join(dir, 'quick.sock'));
      await new Promise((resolve) => socket.once('connect', resolve));
      const reader = new SocketReader(socket);
      await reader.read(18);
      socket.write(Buffer.from([0, 0, 0, 3]));
      const name = Buffer.from('snap');
      const payload = Buffer.alloc(4 + name.length + 2);
      payload.writeUInt32BE(name.length, 0);
      name.copy(payload, 4);
      const h = Buffer.alloc(16);
      h.writeBigUInt64BE(IHAVEOPT, 0);
      h.writeUInt32BE(Opt.GO, 8);
      h.writeUInt32BE(payload.length, 12);
      socket.write(Buffer.concat([h, payload]));
      for (;;) {
        const head = (await reader.read(20))!;
        await reader.read(head.readUInt32BE(16));
        if (head.readUInt32BE(12) === Rep.ACK) break;
      }
      await new Promise((resolve) => setTimeout(resolve, 600));
      request(socket, Cmd.READ, 0, 10);
      expect(await simpleReply(reader, 10)).toEqual({ error: 0, data: content(1, 10) });
      socket.destroy();
    } finally {
      await quick.close();
    }
  });
});
