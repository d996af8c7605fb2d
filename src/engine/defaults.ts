/**
 * Defaults every job and command shares, defined once. The chunk size is the repository format's default
 * (a format property, defined in src/repo/format/config.ts); it is re-exported here so that callers need
 * not reach into the format for it.
 */
export { DEFAULT_CHUNK_SIZE } from '../repo/format/config.js';

/** Ranges in flight at once when a job or a command is not told otherwise. */
export const DEFAULT_CONCURRENCY = 8;
