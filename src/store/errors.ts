import { DrivesnapError } from '../errors.js';

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
    super('STORE_TRANSIENT', message, undefined, options);
  }
}
