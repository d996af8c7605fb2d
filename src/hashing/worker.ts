/** A hashing thread: hashes ranges of shared memory the pool names, and replies with the 32-byte id. */
import { parentPort, workerData } from 'node:worker_threads';
import { rangeId } from './digest.js';
import type { HashReply, HashRequest, HashWorkerData } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('src/hashing/worker is a worker thread: start it through HashPool');
const { key } = workerData as HashWorkerData;

port.on('message', (req: HashRequest) => {
  let reply: HashReply;
  try {
    // A fresh 32-byte array: a view on a larger (pooled) buffer would clone all of it.
    reply = { seq: req.seq, id: new Uint8Array(rangeId(new Uint8Array(req.buffer, req.offset, req.length), key)) };
  } catch (err) {
    reply = { seq: req.seq, error: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply);
});
