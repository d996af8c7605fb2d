/**
 * A repository in an S3 bucket (AWS or any S3-compatible service) under an optional key prefix.
 * The SDK's own retries are off (`maxAttempts: 1`): RetryStore is the one retry layer, and this backend's
 * job is to say which failures are worth retrying (TransientStoreError) and which are not (StoreError).
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { isNetworkError, ObjectNotFoundError, StoreError, TransientStoreError } from './errors.js';
import { checkListPrefix, checkObjectName } from './local.js';
import type { Leftovers, ObjectInfo, ObjectStore } from './types.js';

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface S3StoreOptions {
  bucket: string;
  /** Key prefix inside the bucket (`backups/host1`); with or without a trailing `/`. */
  prefix?: string;
  /** For S3-compatible services (`http://127.0.0.1:9000`); AWS when absent. */
  endpoint?: string;
  region?: string;
  /** `bucket` in the path instead of the host name; what most S3-compatible services need. */
  forcePathStyle?: boolean;
  /** When absent the SDK's default chain applies (environment, profile, instance role). */
  credentials?: S3Credentials;
  /** Sockets kept per host; at least the concurrency the LimitStore above allows. */
  maxSockets?: number;
}

const TRANSIENT_NAMES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'RequestThrottled',
  'TooManyRequestsException',
  'InternalError',
  'ServiceUnavailable',
]);
const ACCESS_NAMES = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
]);

export class S3Store implements ObjectStore {
  readonly location: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  /** '' or ends with '/'. */
  private readonly keyPrefix: string;
  private readonly secrets: string[];

  constructor(options: S3StoreOptions) {
    this.bucket = options.bucket;
    this.keyPrefix = normalisePrefix(options.prefix ?? '');
    this.location = `s3://${this.bucket}${this.keyPrefix ? `/${this.keyPrefix.slice(0, -1)}` : ''}`;
    const sockets = options.maxSockets ?? 50;
    const agent = { keepAlive: true, maxSockets: sockets };
    this.client = new S3Client({
      region: options.region ?? 'us-east-1',
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle,
      credentials: options.credentials,
      maxAttempts: 1,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: 10_000, socketTimeout: 120_000, httpAgent: agent, httpsAgent: agent },
    });
    const given = options.credentials;
    this.secrets = given ? [given.secretAccessKey, given.sessionToken ?? ''].filter((s) => s.length >= 4) : [];
  }

  /** A put is durable once S3 has answered it, batched or not. */
  async put(name: string, data: Uint8Array): Promise<void> {
    checkObjectName(name);
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.keyPrefix + name,
          Body: data,
          ContentLength: data.byteLength,
        }),
      );
    } catch (err) {
      throw this.fault(`put object ${name}`, err);
    }
  }

  async flush(): Promise<void> {}

  /** A put is one request: an interrupted one leaves nothing behind. */
  async removeLeftovers(): Promise<Leftovers> {
    return { count: 0, bytes: 0 };
  }

  async get(name: string): Promise<Buffer> {
    checkObjectName(name);
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keyPrefix + name }));
      if (!response.Body) return Buffer.alloc(0);
      const bytes = await response.Body.transformToByteArray();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (err) {
      if (isNotFound(err)) throw new ObjectNotFoundError(this.location, name);
      throw this.fault(`get object ${name}`, err);
    }
  }

  async stat(name: string): Promise<ObjectInfo | undefined> {
    checkObjectName(name);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyPrefix + name }));
      return { name, size: head.ContentLength ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw this.fault(`stat object ${name}`, err);
    }
  }

  /** Keys come back in ascending UTF-8 byte order, page by page (1000 per page). */
  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    checkListPrefix(prefix);
    let continuationToken: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.keyPrefix + prefix,
            ContinuationToken: continuationToken,
          }),
        );
      } catch (err) {
        throw this.fault(`list objects under ${JSON.stringify(prefix)}`, err);
      }
      for (const entry of page.Contents ?? []) {
        if (!entry.Key?.startsWith(this.keyPrefix)) continue;
        yield { name: entry.Key.slice(this.keyPrefix.length), size: entry.Size ?? 0 };
      }
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (continuationToken);
  }

  async delete(name: string): Promise<void> {
    checkObjectName(name);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keyPrefix + name }));
    } catch (err) {
      if (isNotFound(err)) return;
      throw this.fault(`delete object ${name}`, err);
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  /** `action` says what failed, e.g. `put object config`. */
  private fault(action: string, err: unknown): Error {
    const kind = classifyS3Error(err);
    const detail = this.redact(describe(err));
    const where = `${this.location}: cannot ${action}`;
    switch (kind) {
      case 'transient':
        return new TransientStoreError(`${where}: ${detail}`, { cause: err });
      case 'access':
        return new StoreError('STORE_ACCESS_DENIED', `${where}: ${detail}: check the credentials and the bucket policy`, {
          cause: err,
        });
      case 'no-bucket':
        return new StoreError(
          'STORE_NO_SUCH_BUCKET',
          `${this.location}: bucket ${this.bucket} does not exist: create it or correct the repository URL`,
          { cause: err },
        );
      case 'no-credentials':
        return new StoreError(
          'STORE_NO_CREDENTIALS',
          `${this.location}: no S3 credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or AWS_PROFILE`,
          { cause: err },
        );
      default:
        return new StoreError('STORE_ERROR', `${where}: ${detail}`, { cause: err });
    }
  }

  private redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) out = out.split(secret).join('***');
    return out;
  }
}

export type S3ErrorKind = 'transient' | 'access' | 'no-bucket' | 'no-credentials' | 'other';

interface SdkErrorShape {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

/** Decides from the SDK's error name, HTTP status and socket error code what kind of failure this is. */
export function classifyS3Error(err: unknown): S3ErrorKind {
  const e = (err ?? {}) as SdkErrorShape;
  const status = e.$metadata?.httpStatusCode;
  const name = e.name ?? '';
  if (name === 'NoSuchBucket') return 'no-bucket';
  if (name === 'CredentialsProviderError') return 'no-credentials';
  if (ACCESS_NAMES.has(name) || status === 403) return 'access';
  if (isNetworkError(err)) return 'transient';
  if (TRANSIENT_NAMES.has(name) || e.$retryable) return 'transient';
  if (status !== undefined && (status >= 500 || status === 429 || status === 408)) return 'transient';
  return 'other';
}

function isNotFound(err: unknown): boolean {
  const e = (err ?? {}) as SdkErrorShape;
  if (e.name === 'NoSuchBucket') return false;
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}

function describe(err: unknown): string {
  const e = (err ?? {}) as SdkErrorShape & { message?: string };
  const status = e.$metadata?.httpStatusCode;
  const label = e.code ?? e.name ?? 'Error';
  const message = (e.message ?? String(err)).split('\n')[0]!.replace(/\.+$/, '');
  return `${label}${status ? ` (HTTP ${status})` : ''}${message && message !== label ? `: ${message}` : ''}`;
}

function normalisePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  return trimmed ? `${trimmed}/` : '';
}
