/** The repository format: objects, their encodings, keys and ids. Specified in docs/repository-format.md. */
export * from './chunk.js';
export * from './compress.js';
export * from './config.js';
export * from './context.js';
export * from './envelope.js';
export * from './errors.js';
export * from './ids.js';
export * from './keyfile.js';
export * from './keys.js';
export * from './manifest.js';
export * from './zero.js';
