/**
 * The NBD server: a listener (a Unix socket, or TCP on an address the user chose) that serves each
 * connection with connection.ts over a fixed set of exports. `close()` stops listening and drops the
 * connections (their in-flight reads end without replies).
 */
import { chmod } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { HANDSHAKE_TIMEOUT_MS, serveConnection } from './connection.js';
import type { ExportCatalog, ExportInfo } from './negotiation.js';
import type { SnapshotSource } from './snapshot-source.js';

export interface NbdExport {
  name: string;
  description: string;
  source: SnapshotSource;
}

export type ListenAddress = { socket: string } | { host: string; port: number };

export class NbdServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly sessions = new Set<Promise<void>>();
  private readonly byName = new Map<string, NbdExport>();

  /** The first export is also the default one (the empty name). */
  constructor(
    exports: NbdExport[],
    private readonly log: (line: string) => void,
    handshakeTimeoutMs = HANDSHAKE_TIMEOUT_MS,
  ) {
    if (exports.length === 0) throw new Error('an NBD server needs at least one export');
    for (const e of exports) this.byName.set(e.name, e);
    const catalog: ExportCatalog = {
      find: (name) => {
        const e = name === '' ? exports[0] : this.byName.get(name);
        return e && info(e);
      },
      list: () => exports.map(info),
    };
    this.server = createServer((socket) => {
      this.sockets.add(socket);
      const session = serveConnection(socket, { catalog, source: (name) => this.byName.get(name)!.source }, this.log, handshakeTimeoutMs).finally(() => {
        this.sockets.delete(socket);
        this.sessions.delete(session);
      });
      this.sessions.add(session);
    });
  }

  get connections(): number {
    return this.sockets.size;
  }

  /** Listens; returns the TCP port actually bound (port 0 picks a free one), or undefined for a socket. */
  async listen(address: ListenAddress): Promise<number | undefined> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      const done = () => {
        this.server.off('error', reject);
        resolve();
      };
      if ('socket' in address) this.server.listen(address.socket, done);
      else this.server.listen(address.port, address.host, done);
    });
    // The exports are decrypted snapshot data: only this user may connect to the socket.
    if ('socket' in address) await chmod(address.socket, 0o600);
    const bound = this.server.address();
    return typeof bound === 'object' && bound ? bound.port : undefined;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await Promise.all([closed, ...this.sessions]);
  }
}

function info(e: NbdExport): ExportInfo {
  return { name: e.name, size: e.source.size, description: e.description };
}
