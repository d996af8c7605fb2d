/**
 * Chunk ids on worker threads. A range in shared memory (SlotBuffers, src/engine/pipeline.ts) is hashed by a worker that reads
 * it in place: only its offset and length cross threads, and 32 bytes come back. A range in ordinary memory
 * is hashed on the calling thread, as chunkId does, so a caller that hands in any Buffer still works.
 */
import type { KeyObject } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { rangeId } from './digest.js';
import type { HashReply, HashRequest, HashWorkerData } from './protocol.js';
import { hashWorkerEntry, type WorkerEntry } from './worker-entry.js';

export interface HashPoolOptions {
  /** HMAC-SHA-256 key (an encrypted repository's id key); absent: plain SHA-256. */
  key?: KeyObject;
  /** Worker threads; default: the available cores. */
  workers?: number;
  /** Where the workers' code is; default: worker.js beside this file, or worker.ts through tsx (worker-entry.ts). */
  workerEntry?: WorkerEntry;
}

/** A worker stopped (crashed, was terminated or the pool closed) before it answered. */
export class HashWorkerError extends Error {
  override name = 'HashWorkerError';
}

interface Pending {
  resolve: (id: Buffer) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

export class HashPool {
  readonly size: number;
  private readonly key: KeyObject | undefined;
  private readonly entry: WorkerEntry;
  /** Undefined: no worker there yet, or it stopped; one starts when a request needs it (leastBusy). */
  private readonly slots: (Slot | undefined)[] = [];
  private seq = 0;
  private closed = false;

  constructor(opts: HashPoolOptions = {}) {
    this.key = opts.key;
    this.entry = opts.workerEntry ?? hashWorkerEntry();
    this.size = Math.max(1, Math.floor(opts.workers ?? availableParallelism()));
    // Workers start with the first requests that need them: a pool made for a job that hashes nothing costs nothing.
    for (let i = 0; i < this.size; i++) this.slots.push(undefined);
  }

  /** The range's id: SHA-256, or HMAC-SHA-256 under the key. Workers for shared memory, this thread otherwise. */
  hash(data: Uint8Array): Promise<Buffer> {
    if (this.closed) return Promise.reject(new HashWorkerError('the hash pool is closed'));
    if (!(data.buffer instanceof SharedArrayBuffer)) return Promise.resolve(rangeId(data, this.key));
    const slot = this.leastBusy();
    const seq = this.seq++;
    const req: HashRequest = { seq, buffer: data.buffer, offset: data.byteOffset, length: data.byteLength };
    return new Promise<Buffer>((resolve, reject) => {
      // An idle worker does not hold the process open; one with work does, or an await on it could end the process.
      if (slot.pending.size === 0) slot.worker.ref();
      slot.pending.set(seq, { resolve, reject });
      slot.worker.postMessage(req);
    });
  }

  /** Stops every worker; requests still pending fail with HashWorkerError. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.slots.map((s) => s?.worker.terminate()));
  }

  /** Terminates one worker as a crash would: its pending requests fail, and the next request that needs it starts a new one. */
  async terminateWorker(index: number): Promise<void> {
    if (index < 0 || index >= this.size) throw new RangeError(`the hash pool has workers 0..${this.size - 1}, not ${index}`);
    await this.slots[index]?.worker.terminate();
  }

  /** The live worker with the fewest requests, or a new one in an empty place when every live one is busy. */
  private leastBusy(): Slot {
    let best: Slot | undefined;
    let empty = -1;
    this.slots.forEach((s, i) => {
      if (!s) empty = i;
      else if (!best || s.pending.size < best.pending.size) best = s;
    });
    if (best && (best.pending.size === 0 || empty < 0)) return best;
    const slot = this.spawn(empty);
    this.slots[empty] = slot;
    return slot;
  }

  private spawn(index: number): Slot {
    const workerData: HashWorkerData = { key: this.key };
    const { script, execArgv } = this.entry;
    const worker = new Worker(script, { workerData, eval: this.entry.eval, execArgv });
    const slot: Slot = { worker, pending: new Map() };
    worker.on('message', (reply: HashReply) => {
      const p = slot.pending.get(reply.seq);
      if (!p) return;
      slot.pending.delete(reply.seq);
      if (slot.pending.size === 0) worker.unref();
      if ('error' in reply) p.reject(new HashWorkerError(`hashing a range failed in a worker: ${reply.error}`));
      else p.resolve(Buffer.from(reply.id.buffer, reply.id.byteOffset, reply.id.byteLength));
    });
    let failure: Error | undefined;
    worker.on('error', (err) => {
      failure = err;
    });
    worker.on('exit', (code) => {
      const why = this.closed
        ? 'the hash pool was closed'
        : `hash worker ${index} stopped (exit code ${code}${failure ? `: ${failure.message}` : ''})`;
      const err = new HashWorkerError(`${why} before hashing the range: run the job again`);
      for (const p of slot.pending.values()) p.reject(err);
      slot.pending.clear();
      // Replaced when next needed, not now: a worker that cannot start would otherwise restart in a loop.
      if (this.slots[index] === slot) this.slots[index] = undefined;
    });
    // After the listeners: adding a 'message' listener refs the worker's port again.
    worker.unref();
    return slot;
  }
}
