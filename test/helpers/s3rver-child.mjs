// Runs s3rver in its own process so it can have `--openssl-legacy-provider` (ListObjectsV2 continuation
// tokens use a cipher OpenSSL 3 disables) without imposing that flag on the test runner.
// Usage: node --openssl-legacy-provider s3rver-child.mjs <directory> <bucket>   (started with an IPC channel)
// Reports { port } over IPC once listening; exits when the parent disconnects, so no orphan survives it.
// Known limit: s3rver's file system backend removes a folder once its last object is deleted, and a put into
// that folder racing the removal crashes it (real S3 has no folders). Tests with several writers under one
// prefix at once (locks/ with two hosts) keep a placeholder object there: see test/ops/shard-run.test.ts.
import S3rver from 's3rver';

const [directory, bucket] = process.argv.slice(2);
if (!directory || !bucket || !process.send) {
  console.error('usage: fork(s3rver-child.mjs, [directory, bucket]) with an IPC channel');
  process.exit(2);
}

const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  directory,
  silent: true,
  configureBuckets: [{ name: bucket }],
});

try {
  const address = await server.run();
  process.send({ port: address.port });
} catch (err) {
  process.send({ error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}

process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
