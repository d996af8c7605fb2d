/**
 * Imported first by every entry point. gzip, WebCrypto hashing and AES-GCM, and file I/O all share libuv's
 * thread pool (4 threads by default); with eight 4 MiB ranges in flight, fsyncs and reads would queue
 * behind compression. Eight threads keep both cores busy with CPU work while I/O waits. It must be set
 * before the pool's first use, which is why this module has no imports and runs first.
 */
process.env.UV_THREADPOOL_SIZE ??= '8';
export {};
