import { DrivesnapError, type ErrorCode } from '../errors.js';

export class ObjectNotFoundError extends DrivesnapError {
  override name = 'ObjectNotFoundError';
  constructor(
    readonly location: string,
    readonly object: string,
  ) {
    super('OBJECT_NOT_FOUND', `${location}: object ${object} does not exist`);
  }
}

/** A fault that may pass if tried again (network, throttling, 5xx). Wrappers retry only these. */
export class TransientStoreError extends DrivesnapError {
  override name = 'TransientStoreError';
  readonly retryable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORE_TRANSIENT', message, options);
  }
}

/** A name the store refuses: empty, absolute, or with `.`/`..`/empty segments (it could escape the store). */
export class InvalidObjectNameError extends DrivesnapError {
  override name = 'InvalidObjectNameError';
  constructor(
    readonly object: string,
    reason: string,
  ) {
    super('STORE_INVALID_NAME', `invalid object name ${JSON.stringify(object)}: ${reason}`);
  }
}

/** A backend fault that trying again will not fix (permissions, full disk, bad bucket, bad credentials). */
export class StoreError extends DrivesnapError {
  override name = 'StoreError';
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** Socket-level failure codes: the request never got an answer, so trying again may work. */
const NETWORK_ERROR_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

export function isNetworkError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && NETWORK_ERROR_CODES.has(code);
}
