import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { isLocalLocation, localRepositoryDir, openStore, parseRepositoryLocation } from '../../src/store/open.js';
import { MiB } from '../../src/util/size.js';
import { type S3TestServer, startS3Server } from '../helpers/s3-server.js';
import { describeObjectStoreConformance } from './conformance.js';

let server: S3TestServer;
beforeAll(async () => {
  server = await startS3Server();
});
afterAll(async () => {
  await server?.close();
});

const fastRetry = { maxAttempts: 3, baseDelayMs: 1 };

describeObjectStoreConformance('openStore(directory): retry -> limit -> bandwidth -> LocalStore', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'drivesnap-open-'));
  return { store: openStore(dir, { retry: fastRetry }), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

describeObjectStoreConformance('openStore(s3://): retry -> limit -> bandwidth -> S3Store', async () => ({
  // The endpoint comes from DRIVESNAP_S3_ENDPOINT here, as a user would give it.
  store: openStore(`s3://${server.bucket}/open-${randomBytes(4).toString('hex')}`, {
    env: { DRIVESNAP_S3_ENDPOINT: server.endpoint },
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    retry: fastRetry,
  }),
  cleanup: async () => undefined,
}));

describe('parseRepositoryLocation', () => {
  it.each([
    ['/srv/repo', { kind: 'local', dir: '/srv/repo' }],
    ['repo', { kind: 'local', dir: '/home/u/repo' }],
    ['./a/../repo', { kind: 'local', dir: '/home/u/repo' }],
    ['file:///srv/repo', { kind: 'local', dir: '/srv/repo' }],
    ['file:rel/repo', { kind: 'local', dir: '/home/u/rel/repo' }],
    ['s3://bucket', { kind: 's3', bucket: 'bucket', prefix: '' }],
    ['s3://bucket/', { kind: 's3', bucket: 'bucket', prefix: '' }],
    ['s3://my.bucket/backups/host1/', { kind: 's3', bucket: 'my.bucket', prefix: 'backups/host1' }],
  ])('%s', (url, expected) => {
    expect(parseRepositoryLocation(url, '/home/u')).toEqual(expected);
  });

  it.each(['', 's3://', 's3:bucket/x', 'sftp://host/repo', 's3://bucket/../x'])('refuses %j as a usage error', (url) => {
    expect(() => parseRepositoryLocation(url, '/home/u')).toThrow(UsageError);
  });

  it('refuses credentials in the URL without repeating them', () => {
    let message = '';
    try {
      parseRepositoryLocation('s3://AKIAXXXX:topsecret@bucket/repo');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('credentials do not belong in the repository URL');
    expect(message).not.toContain('topsecret');
  });

  it('tells local from remote and gives the local directory', () => {
    expect(isLocalLocation('/srv/repo')).toBe(true);
    expect(isLocalLocation('file:///srv/repo')).toBe(true);
    expect(isLocalLocation('s3://bucket/repo')).toBe(false);
    expect(localRepositoryDir('file:///srv/repo')).toBe('/srv/repo');
    expect(localRepositoryDir('s3://bucket/repo')).toBeUndefined();
  });
});

describe('openStore', () => {
  it('puts into the directory the URL names and reports bytes moved', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'drivesnap-open-'));
    try {
      const store = openStore(`file://${dir}`);
      expect(store.location).toBe(dir);
      await store.put('chunks/ab/c', Buffer.alloc(MiB, 1));
      await store.get('chunks/ab/c');
      expect((await stat(join(dir, 'chunks', 'ab', 'c'))).size).toBe(MiB);
      expect(store.stats()).toEqual({ retries: 0, bytesPut: MiB, bytesGot: MiB });
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names an S3 repository by bucket and prefix only, and counts retries on a dead endpoint', async () => {
    const store = openStore('s3://bucket/some/prefix', {
      endpoint: 'http://127.0.0.1:1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'never-printed' },
      retry: { maxAttempts: 3, baseDelayMs: 1 },
    });
    expect(store.location).toBe('s3://bucket/some/prefix');
    const failure = await store.get('config').catch((err: unknown) => err);
    expect((failure as { code?: string }).code).toBe('STORE_TRANSIENT');
    expect((failure as Error).message).not.toContain('never-printed');
    expect(store.stats().retries).toBe(2);
    await store.close();
  });

  it('refuses a connection count below 1', () => {
    expect(() => openStore('/tmp/x', { connections: 0 })).toThrow(UsageError);
  });
});
