export { chunkIdPool } from './for-context.js';
export { HashPool, type HashPoolOptions, HashWorkerError } from './pool.js';
export { SharedSlotBuffers } from './shared-slot-buffers.js';
