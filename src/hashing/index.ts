export { chunkIdPool, nativeChunkIds } from './for-context.js';
export { HashPool, type HashPoolOptions, HashWorkerError } from './pool.js';
