/**
 * An error the emulator answers with: a status, the `X-Elastic-Error` word and a one-line text body
 * (the API reference's table of HTTP status codes and X-Elastic-Error words; docs/emulator.md, "Choices made
 * where the contract leaves one"). Handlers throw it; the server turns it into the response.
 */
import { type ErrorWord, STATUS_OF_WORD } from '../api/errors.js';

export class EmulatorHttpError extends Error {
  override name = 'EmulatorHttpError';
  readonly status: number;
  constructor(
    readonly word: ErrorWord,
    message: string,
  ) {
    super(message);
    this.status = STATUS_OF_WORD[word];
  }
}

export const usage = (message: string) => new EmulatorHttpError('usage', message);
export const missing = (message: string) => new EmulatorHttpError('missing', message);
export const busy = (message: string) => new EmulatorHttpError('busy', message);
export const full = (message: string) => new EmulatorHttpError('full', message);
export const billing = (message: string) => new EmulatorHttpError('billing', message);
