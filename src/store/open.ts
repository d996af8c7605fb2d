/**
 * Turns a repository location into a ready store, and is the ONE place where the wrappers are stacked:
 *   retry( limit( bandwidth( backend ) ) )
 * Retry outermost, so a backoff sleep holds no connection slot and each attempt queues again; bandwidth
 * innermost, so every attempt's bytes are counted and paced (restic orders its backends the same way).
 */
import { awsRegion, processEnv, s3Endpoint } from '../config/env.js';
import { UsageError } from '../errors.js';
import { BandwidthStore } from './bandwidth.js';
import { LimitStore } from './limit.js';
import { LocalStore } from './local.js';
import { type RetryOptions, RetryStore } from './retry.js';
import { LazyStore } from './lazy.js';
import { parseRepositoryLocation } from './location.js';
import type { S3Credentials } from './s3.js';
import type { ObjectStore } from './types.js';

export { type RepositoryLocation, parseRepositoryLocation } from './location.js';


export interface OpenStoreOptions {
  /** S3 endpoint for S3-compatible services; falls back to DRIVESNAP_S3_ENDPOINT, then AWS. */
  endpoint?: string;
  region?: string;
  /** Defaults to path-style when an endpoint is given (what S3-compatible services expect). */
  forcePathStyle?: boolean;
  /** When absent, the AWS SDK's default chain (environment, profile, instance role). */
  credentials?: S3Credentials;
  /** Operations in flight at once; default 8 for a local directory, 16 for S3. */
  connections?: number;
  retry?: RetryOptions;
  uploadBytesPerSecond?: number;
  downloadBytesPerSecond?: number;
  /** Environment to read DRIVESNAP_S3_ENDPOINT and AWS_REGION from (../config/env.ts); the process's by default. */
  env?: Record<string, string | undefined>;
}

export interface StoreStats {
  retries: number;
  bytesPut: number;
  bytesGot: number;
}

/** The composed store, with the counters its layers keep. */
export interface OpenedStore extends ObjectStore {
  stats(): StoreStats;
}

const DEFAULT_CONNECTIONS = { local: 8, s3: 16 } as const;
export function isLocalLocation(url: string): boolean {
  return parseRepositoryLocation(url).kind === 'local';
}

/** The directory of a local repository (where the index lives too), or undefined for a remote one. */
export function localRepositoryDir(url: string): string | undefined {
  const location = parseRepositoryLocation(url);
  return location.kind === 'local' ? location.dir : undefined;
}

export function openStore(url: string, options: OpenStoreOptions = {}): OpenedStore {
  const location = parseRepositoryLocation(url);
  const env = options.env ?? processEnv();
  let backend: ObjectStore;
  let connections: number;
  if (location.kind === 'local') {
    backend = new LocalStore(location.dir);
    connections = options.connections ?? DEFAULT_CONNECTIONS.local;
  } else {
    const endpoint = options.endpoint ?? s3Endpoint(env);
    connections = options.connections ?? DEFAULT_CONNECTIONS.s3;
    const s3Options = {
      bucket: location.bucket,
      prefix: location.prefix,
      endpoint,
      region: options.region ?? awsRegion(env) ?? 'us-east-1',
      forcePathStyle: options.forcePathStyle ?? endpoint !== undefined,
      credentials: options.credentials,
      maxSockets: connections,
    };
    const prefix = location.prefix.replace(/\/+$/, '');
    const where = `s3://${location.bucket}${prefix ? `/${prefix}` : ''}`;
    backend = new LazyStore(where, async () => new (await import('./s3.js')).S3Store(s3Options));
  }
  if (!(Number.isInteger(connections) && connections >= 1))
    throw new UsageError(`connections must be a whole number of at least 1, got ${connections}`);

  const bandwidth = new BandwidthStore(backend, {
    uploadBytesPerSecond: options.uploadBytesPerSecond,
    downloadBytesPerSecond: options.downloadBytesPerSecond,
  });
  const limited = new LimitStore(bandwidth, connections);
  const retrying = new RetryStore(limited, options.retry);
  return Object.assign(retrying, {
    stats: (): StoreStats => ({
      retries: retrying.retryCount,
      bytesPut: bandwidth.bytesPut,
      bytesGot: bandwidth.bytesGot,
    }),
  });
}
