/**
 * Exact-length reads from a socket for a message-framed protocol: `read(n)` resolves with n bytes, or
 * undefined once the peer has gone. Input is paused while enough is buffered and nobody is reading, so a
 * fast client cannot make the server hold more than about a read's worth of its bytes.
 */
import type { Socket } from 'node:net';

const HIGH_WATER = 1024 * 1024;

export class SocketReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private waiter?: { n: number; resolve: (b: Buffer | undefined) => void };

  constructor(private readonly socket: Socket) {
    socket.on('data', (b: Buffer) => {
      this.chunks.push(b);
      this.buffered += b.length;
      if (this.buffered >= HIGH_WATER) socket.pause();
      this.serve();
    });
    const end = () => {
      this.ended = true;
      this.serve();
    };
    socket.on('end', end);
    socket.on('close', end);
  }

  read(n: number): Promise<Buffer | undefined> {
    if (this.waiter) throw new Error('one read at a time');
    return new Promise((resolve) => {
      this.waiter = { n, resolve };
      this.serve();
    });
  }

  /** Reads and drops n bytes (a write's payload on a read-only export) without holding them. */
  async skip(n: number): Promise<boolean> {
    for (let left = n; left > 0; ) {
      const take = Math.min(left, HIGH_WATER / 2);
      if (!(await this.read(take))) return false;
      left -= take;
    }
    return true;
  }

  private serve(): void {
    const w = this.waiter;
    if (!w) return;
    if (this.buffered >= w.n) {
      this.waiter = undefined;
      w.resolve(this.take(w.n));
    } else if (this.ended) {
      this.waiter = undefined;
      w.resolve(undefined);
    } else if (this.socket.isPaused()) this.socket.resume();
  }

  /** The first n buffered bytes; copies only when they span several socket chunks. */
  private take(n: number): Buffer {
    let have = 0;
    let count = 0;
    while (have < n) have += this.chunks[count++]!.length;
    const joined = count === 1 ? this.chunks[0]! : Buffer.concat(this.chunks.slice(0, count), have);
    const out = joined.subarray(0, n);
    const rest = joined.subarray(n);
    this.chunks.splice(0, count, ...(rest.length > 0 ? [rest] : []));
    this.buffered -= n;
    if (this.buffered < HIGH_WATER && this.socket.isPaused() && !this.ended) this.socket.resume();
    return out;
  }
}
