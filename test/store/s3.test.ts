import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { StoreError, TransientStoreError } from '../../src/store/errors.js';
import { classifyS3Error, S3Store, type S3StoreOptions } from '../../src/store/s3.js';
import { type S3TestServer, startS3Server } from '../helpers/s3-server.js';
import { collect, describeObjectStoreConformance } from './conformance.js';

let server: S3TestServer;
beforeAll(async () => {
  server = await startS3Server();
});
afterAll(async () => {
  await server?.close();
});

function s3Options(overrides: Partial<S3StoreOptions> = {}): S3StoreOptions {
  return {
    bucket: server.bucket,
    prefix: `repo-${randomBytes(4).toString('hex')}`,
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    ...overrides,
  };
}

// Each test gets its own key prefix in the shared bucket: an empty repository without a new server.
describeObjectStoreConformance('S3Store on s3rver', async () => ({
  store: new S3Store(s3Options()),
  cleanup: async () => undefined,
}));

describe('S3Store specifics', () => {
  it('keeps repositories under different key prefixes apart', async () => {
    const one = new S3Store(s3Options({ prefix: 'shared/one' }));
    const two = new S3Store(s3Options({ prefix: 'shared/one-two/' }));
    await one.put('config', Buffer.from('one'));
    await two.put('config', Buffer.from('two'));
    expect((await collect(one.list(''))).map((o) => o.name)).toEqual(['config']);
    expect((await one.get('config')).toString()).toBe('one');
    expect(one.location).toBe(`s3://${server.bucket}/shared/one`);
    expect(two.location).toBe(`s3://${server.bucket}/shared/one-two`);
    await one.close();
    await two.close();
  });

  it('lists keys in ascending order (RetryStore resumes listings on that promise)', async () => {
    const store = new S3Store(s3Options());
    for (const name of ['b', 'a/2', 'c/1', 'a/1']) await store.put(name, Buffer.alloc(1));
    const names: string[] = [];
    for await (const info of store.list('')) names.push(info.name);
    expect(names).toEqual(['a/1', 'a/2', 'b', 'c/1']);
    await store.close();
  });

  it('wrong credentials give STORE_ACCESS_DENIED without the secret in the message', async () => {
    const secret = 'sEcReT-never-shown-1234';
    const store = new S3Store(s3Options({ credentials: { accessKeyId: 'WRONGKEY', secretAccessKey: secret } }));
    const failure = await store.put('config', Buffer.from('x')).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(StoreError);
    expect((failure as StoreError).code).toBe('STORE_ACCESS_DENIED');
    expect((failure as StoreError).message).toContain('check the credentials');
    expect((failure as StoreError).message).not.toContain(secret);
    expect(JSON.stringify(failure)).not.toContain(secret);
    await store.close();
  });

  it('a missing bucket is STORE_NO_SUCH_BUCKET with the repository-not-found exit code', async () => {
    const store = new S3Store(s3Options({ bucket: 'no-such-bucket-here' }));
    const failure = await store.put('config', Buffer.from('x')).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(StoreError);
    expect((failure as StoreError).code).toBe('STORE_NO_SUCH_BUCKET');
    expect((failure as StoreError).exitCode).toBe(ExitCode.repoNotFound);
    await store.close();
  });

  it('a refused connection is a TransientStoreError (worth retrying)', async () => {
    const port = await closedPort();
    const store = new S3Store(s3Options({ endpoint: `http://127.0.0.1:${port}` }));
    const failure = await store.get('config').catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(TransientStoreError);
    expect((failure as TransientStoreError).message).toContain('ECONNREFUSED');
    await store.close();
  });
});

describe('classifyS3Error', () => {
  const sdkError = (name: string, status?: number, code?: string) =>
    Object.assign(new Error(name), { name, code, $metadata: { httpStatusCode: status } });

  it.each([
    ['SlowDown', 503, 'transient'],
    ['InternalError', 500, 'transient'],
    ['Whatever', 502, 'transient'],
    ['TooManyRequests', 429, 'transient'],
    ['TimeoutError', undefined, 'transient'],
    ['AccessDenied', 403, 'access'],
    ['SignatureDoesNotMatch', 403, 'access'],
    ['NoSuchBucket', 404, 'no-bucket'],
    ['CredentialsProviderError', undefined, 'no-credentials'],
    ['InvalidArgument', 400, 'other'],
  ] as const)('%s (HTTP %s) is %s', (name, status, kind) => {
    expect(classifyS3Error(sdkError(name, status))).toBe(kind);
  });

  it('socket errors are transient', () => {
    expect(classifyS3Error(sdkError('Error', undefined, 'ECONNRESET'))).toBe('transient');
    expect(classifyS3Error(sdkError('Error', undefined, 'EPIPE'))).toBe('transient');
  });
});

/** A port nothing listens on: bind one, note it, close it. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
