/**
 * Typed errors of the drive API (api-contract.md, "Errors"). Classified by the first word of the
 * `X-Elastic-Error` header, never by the body. Each word has a stable code; none carries a secret.
 */
import { DrivesnapError, type ErrorCode } from '../errors.js';

export const ERROR_WORDS = ['usage', 'auth', 'billing', 'missing', 'method', 'busy', 'failed', 'system', 'full'] as const;
export type ErrorWord = (typeof ERROR_WORDS)[number];

/** HTTP status the API answers for each word. */
export const STATUS_OF_WORD: Record<ErrorWord, number> = {
  usage: 400,
  auth: 401,
  billing: 402,
  missing: 404,
  method: 405,
  busy: 409,
  failed: 500,
  system: 500,
  full: 507,
};

/** Words worth retrying: the server may answer differently next time. */
const RETRYABLE_WORDS = new Set<ErrorWord>(['busy', 'system', 'failed']);

export function isErrorWord(word: string): word is ErrorWord {
  return (ERROR_WORDS as readonly string[]).includes(word);
}

/** Word for a status when a server sent no usable header. */
export function wordForStatus(status: number): ErrorWord {
  for (const w of ERROR_WORDS) if (STATUS_OF_WORD[w] === status) return w;
  return status >= 500 ? 'system' : 'usage';
}

export interface ApiErrorDetails {
  status: number;
  word: ErrorWord;
  /** The server's one-line body text. */
  body: string;
  /** The call, e.g. `POST /drives/UUID/write/0`. */
  call: string;
  /** The object the call was about (drive or server UUID), when known. */
  object?: string;
}

export class ApiError extends DrivesnapError {
  override name = 'ApiError';
  readonly status: number;
  readonly word: ErrorWord;
  readonly body: string;
  readonly call: string;
  readonly object?: string;
  constructor(d: ApiErrorDetails) {
    const text = d.body.trim().split('\n')[0] || `HTTP ${d.status}`;
    super(`EH_${d.word.toUpperCase()}` as ErrorCode, `${d.call}: ${d.word} (${d.status}): ${text}`);
    this.status = d.status;
    this.word = d.word;
    this.body = d.body;
    this.call = d.call;
    if (d.object !== undefined) this.object = d.object;
  }
  get retryable(): boolean {
    return RETRYABLE_WORDS.has(this.word) || (this.status >= 500 && this.word !== 'full');
  }
}

/** A connection-level fault: reset, refused, timeout, truncated body. Always retryable. */
export class ApiConnectionError extends DrivesnapError {
  override name = 'ApiConnectionError';
  readonly retryable = true;
  constructor(
    readonly call: string,
    reason: string,
    options?: { cause?: unknown; code?: ErrorCode; message?: string },
  ) {
    super(options?.code ?? 'EH_CONNECTION', options?.message ?? `${call}: connection failed: ${reason}`, options);
  }
}

/**
 * An exchange that did not finish within its deadline (./deadline.ts): the link moved data more slowly than
 * the minimum rate. A connection fault like the others, so it is retried; the job fails if it persists.
 */
export class ApiStalledError extends ApiConnectionError {
  override name = 'ApiStalledError';
  constructor(call: string, what: string, minRate: string, deadlineMs: number) {
    const reason = `stalled below ${minRate}`;
    super(call, reason, {
      code: 'EH_STALLED',
      message:
        `${what} ${reason} (not done within ${Math.round(deadlineMs / 100) / 10} s): the link or the server is too slow; ` +
        'drivesnap retries, and fails the job if it stays below that rate (DRIVESNAP_API_MIN_RATE sets the minimum)',
    });
  }
}

/**
 * A change refused because running servers hold the drive (a `busy` whose drive info shows `claimed`).
 * Final: asking again gets the same answer until someone stops the server, so it is never retried.
 */
export class DriveClaimedError extends DrivesnapError {
  override name = 'DriveClaimedError';
  readonly retryable = false;
  constructor(
    readonly call: string,
    readonly drive: string,
    readonly claims: readonly { server: string; device: string }[],
    serverNames: ReadonlyMap<string, string>,
    rawTokens: readonly string[] = [],
  ) {
    const holders =
      claims.length > 0
        ? claims
            .map((c) => {
              const name = serverNames.get(c.server);
              return `server ${name ? `"${name}" (${c.server})` : c.server} as ${c.device}`;
            })
            .join(', ')
        : `a server (claimed ${rawTokens.join(' ')})`;
    super(
      'EH_CLAIMED',
      `${call}: drive ${drive} is in use by running ${holders}: stop or shut down the server first ` +
        '(a backup can do it for you with --shutdown-server, which starts the server again afterwards)',
    );
  }
  get servers(): string[] {
    return [...new Set(this.claims.map((c) => c.server))];
  }
}

/** A change refused because an imaging job is writing into the drive. Final; wait for the job to end. */
export class DriveImagingError extends DrivesnapError {
  override name = 'DriveImagingError';
  readonly retryable = false;
  constructor(
    readonly call: string,
    readonly drive: string,
    percent: number | undefined,
  ) {
    const progress = percent === undefined ? '' : ` (${percent}% done)`;
    super(
      'EH_IMAGING',
      `${call}: drive ${drive} is being imaged${progress}: wait until imaging ends (\`drivesnap drives info ACCOUNT:DRIVE\` shows its progress), then try again`,
    );
  }
}
