/**
 * Imported first by every entry point. Chunk ids are hashed on worker threads (src/hashing); gzip, AES-GCM
 * and file I/O all share libuv's thread pool (4 threads by default); with eight 4 MiB ranges in flight, fsyncs and reads would queue behind compression. Eight
 * threads keep both cores busy with CPU work while I/O waits. It must be set before the pool's first use,
 * which is why entry points import this module first (its only import, ../config/env.ts, touches no pool).
 */
import { defaultThreadpoolSize } from '../config/env.js';

defaultThreadpoolSize(8);
