/** drivesnap as a library. */
export * from './errors.js';
export * from './api/wire.js';
export * from './api/errors.js';
export * from './util/size.js';
export type { ObjectStore, ObjectInfo } from './store/types.js';
