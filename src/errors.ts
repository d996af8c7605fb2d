/**
 * Errors every layer of drivesnap throws: a stable string code for programs, an exit code for the CLI
 * (docs/cli.md), and a one-line message for people that names the problem and what to do. Messages never
 * carry secrets: callers pass object names and offsets, never credentials.
 *
 * ERROR_REGISTRY below lists every code with its exit code, what it means and what to do; docs/errors.md
 * is generated from it (`npm run docs:errors`, kept equal by test/cli/errors-doc.test.ts). To throw:
 *
 *   throw new DrivesnapError('REPO_LOCKED', `repository ${where} is locked by ...: wait or ...`);
 *   throw new DrivesnapError('CHUNK_CORRUPT', message, { cause: err });
 *
 * The exit code comes from the registry, never from the throw site; add a new code to the registry first.
 * (Deprecated, for throw sites not converted yet: a third argument that is a number overrides the exit
 * code, and an unregistered code string exits 1. Both go once every site uses registered codes.)
 *
 * Exit codes: 1 failure, 2 usage (bad input: fix the command line or a file), 3 partial (some drives
 * failed), 10 repository not found, 11 repository locked, 12 wrong password, 130 interrupted.
 */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  partial: 3,
  repoNotFound: 10,
  repoLocked: 11,
  wrongPassword: 12,
  interrupted: 130,
} as const;
export type ExitName = keyof typeof ExitCode;
export type ExitCodeValue = (typeof ExitCode)[ExitName];

export interface ErrorEntry {
  exit: ExitName;
  /** When it happens, in a phrase. */
  meaning: string;
  /** What the user does about it, in a phrase. */
  todo: string;
}

const RETRY = 'drivesnap already retried; check the endpoint or the network and run the command again';
const FIX_INPUT = 'correct the command line or the file named in the message';
const CHECK = 'run `drivesnap check --read-data` to find every damaged object; restore from another repository copy';
const REPORT = 'a bug in drivesnap: report it with the message';

export const ERROR_REGISTRY = {
  // ---- command line, configuration, environment
  USAGE: { exit: 'usage', meaning: 'a bad argument, option or value', todo: 'see `drivesnap COMMAND --help`' },
  CONFIG_INVALID: { exit: 'usage', meaning: 'the accounts file is unreadable, not YAML/JSON, or a field is invalid', todo: FIX_INPUT },
  ENV_INVALID: { exit: 'usage', meaning: 'an environment variable has a value drivesnap cannot use', todo: 'correct or unset the variable the message names' },
  UNKNOWN_ACCOUNT: { exit: 'usage', meaning: 'no account of that name in the accounts file', todo: 'use one of the accounts the message lists, or add it' },
  SECRET_MISSING: { exit: 'usage', meaning: "the account's secret file or variable is missing or empty", todo: 'write the API secret where the accounts file says' },
  ACCOUNT_ENV_MISSING: { exit: 'usage', meaning: 'the `eh` account needs EHURI and EHAUTH', todo: 'set EHURI=URL and EHAUTH=USER_UUID:SECRET' },
  ACCOUNT_ENV_INVALID: { exit: 'usage', meaning: 'EHAUTH is not USER_UUID:SECRET', todo: 'set EHAUTH=USER_UUID:SECRET' },
  PASSWORD_FILE: { exit: 'usage', meaning: 'the password file cannot be read or is empty', todo: 'write the password into the file, or pass another --password-file' },
  PASSWORD_ENV: { exit: 'usage', meaning: 'the job file takes the password from a variable that is not set', todo: 'set the variable the message names' },
  PASSWORD_REQUIRED: { exit: 'usage', meaning: 'an encrypted repository was opened without a password', todo: 'pass --password-file or set DRIVESNAP_PASSWORD' },
  JOBFILE_INVALID: { exit: 'usage', meaning: 'the job file has an invalid field', todo: FIX_INPUT },
  JOBFILE_UNREADABLE: { exit: 'usage', meaning: 'the job file cannot be read', todo: 'check its path and permissions' },
  SCHEDULE_NEVER: { exit: 'failure', meaning: 'a schedule that never fires', todo: FIX_INPUT },
  FORMAT_USAGE: { exit: 'failure', meaning: 'a repository format routine was called wrongly', todo: REPORT },
  INTERNAL: { exit: 'failure', meaning: 'an unexpected failure inside drivesnap', todo: REPORT },
  INTERRUPTED: { exit: 'interrupted', meaning: 'stopped by Ctrl-C or SIGTERM', todo: 'run the command again: it resumes from its last checkpoint' },
  NO_DRIVES: { exit: 'failure', meaning: 'the selection matched no drive', todo: 'check the drive names or tags' },

  // ---- the drive API
  EH_USAGE: { exit: 'failure', meaning: 'the API answered 400 `usage`: a malformed request', todo: 'check the values given; if they are right, report it' },
  EH_AUTH: { exit: 'failure', meaning: 'the API answered 401 `auth`: wrong user UUID or secret', todo: "check the account's user UUID and secret" },
  EH_BILLING: { exit: 'failure', meaning: 'the API answered 402 `billing`: the account is over its quota', todo: 'free space or raise the quota' },
  EH_MISSING: { exit: 'failure', meaning: 'the API answered 404 `missing`: no such drive or server, or not yours to read', todo: 'check the drive or server id' },
  EH_METHOD: { exit: 'failure', meaning: 'the API answered 405 `method`', todo: REPORT },
  EH_BUSY: { exit: 'failure', meaning: 'the API answered 409 `busy` through every retry', todo: RETRY },
  EH_CLAIMED: { exit: 'failure', meaning: 'a drive change refused because a running server claims the drive', todo: 'stop or shut down the server named (or back up with --shutdown-server)' },
  EH_IMAGING: { exit: 'failure', meaning: 'a drive change refused because an imaging job writes into the drive', todo: 'wait until the imaging ends, then run again' },
  EH_FAILED: { exit: 'failure', meaning: 'the API answered 500 `failed` through every retry', todo: RETRY },
  EH_SYSTEM: { exit: 'failure', meaning: 'the API answered 500 `system` through every retry', todo: RETRY },
  EH_FULL: { exit: 'failure', meaning: 'the API answered 507 `full`: past the end of a drive, or out of storage', todo: 'use a larger drive or free storage' },
  EH_CONNECTION: { exit: 'failure', meaning: 'the connection to the API failed through every retry', todo: RETRY },
  EH_STALLED: { exit: 'failure', meaning: 'exchanges stayed below the minimum rate through every retry', todo: 'check the link; DRIVESNAP_API_MIN_RATE sets the minimum' },
  EH_HOST_NOT_FOUND: { exit: 'failure', meaning: "the API URL's host name does not resolve", todo: "correct the account's URL" },
  EH_BAD_URL: { exit: 'usage', meaning: 'the account URL is not an http(s) URL', todo: "correct the account's URL" },
  EH_REDIRECT: { exit: 'failure', meaning: 'the API answered a redirect, which drivesnap does not follow', todo: "use the address the message names as the account's URL" },
  EH_BAD_RESPONSE: { exit: 'failure', meaning: 'an API answer drivesnap cannot read', todo: 'check that the URL is a drive API endpoint' },
  EH_RANGE: { exit: 'failure', meaning: "a read past the drive's end, refused locally", todo: REPORT },
  EH_INTERNAL: { exit: 'failure', meaning: 'the API client failed unexpectedly', todo: REPORT },
  EH_CLIENT_CLOSED: { exit: 'failure', meaning: 'a call on an API client already closed', todo: REPORT },
  EH_IMAGING_TIMEOUT: { exit: 'failure', meaning: 'imaging did not finish in the time allowed', todo: 'check the drive later with `drivesnap drives info`' },
  EH_SERVER_TIMEOUT: { exit: 'failure', meaning: 'a server did not reach the state waited for in time', todo: 'check the server, then run again' },
  EH_SERVER_GONE: { exit: 'failure', meaning: 'a server disappeared while drivesnap waited for it', todo: 'check who destroyed it' },
  DRIVE_NOT_FOUND: { exit: 'failure', meaning: 'no drive of that name', todo: '`drivesnap drives ACCOUNT:` lists them' },
  DRIVE_AMBIGUOUS: { exit: 'usage', meaning: 'several drives have that name', todo: 'name the drive by its UUID' },
  DRIVE_EXISTS: { exit: 'usage', meaning: 'a new drive would take a name already used', todo: 'write onto the existing drive or choose another name' },
  DRIVE_CLAIMED: { exit: 'failure', meaning: 'a target drive is in use by a running server', todo: 'stop the server first' },
  DRIVE_STILL_CLAIMED: { exit: 'failure', meaning: 'a drive is still claimed after its server was shut down', todo: 'check which server holds it' },
  SERVER_NOT_FOUND: { exit: 'failure', meaning: 'no server of that name', todo: 'check the server name' },
  SERVER_AMBIGUOUS: { exit: 'usage', meaning: 'several servers have that name', todo: 'name the server by its UUID' },
  SERVER_STATE: { exit: 'failure', meaning: 'a server is in a state drivesnap cannot work with', todo: 'check the server' },
  SERVER_NOT_PERSISTENT: { exit: 'failure', meaning: 'shutting the server down would destroy it (not persistent)', todo: 'make the server persistent, or stop it yourself' },
  SERVER_SHUTDOWN_TIMEOUT: { exit: 'failure', meaning: 'a server did not shut down in time', todo: 'pass --stop-server or a longer --shutdown-timeout' },
  SERVER_START_TIMEOUT: { exit: 'failure', meaning: 'a server did not start again in time', todo: 'start it by hand and check it' },
  SERVER_RESTART_FAILED: { exit: 'failure', meaning: 'a server drivesnap shut down could not be started again', todo: 'start it by hand at once' },

  // ---- the repository and its stores
  REPO_NOT_FOUND: { exit: 'repoNotFound', meaning: 'no repository at that location', todo: 'create one with `drivesnap init`, or correct --repo' },
  REPO_EXISTS: { exit: 'usage', meaning: 'a repository exists already at that location', todo: 'use it, or choose another location' },
  REPO_LOCKED: { exit: 'repoLocked', meaning: 'another process holds a conflicting lock on the repository', todo: 'wait for it, or remove a stale lock as the message says' },
  LOCK_LOST: { exit: 'failure', meaning: "this process's lock was removed or expired while it worked", todo: 'run again; check who removed the lock' },
  REPO_VERSION: { exit: 'failure', meaning: 'the repository has a format this drivesnap does not read', todo: 'use a newer drivesnap' },
  WRONG_PASSWORD: { exit: 'wrongPassword', meaning: 'no key file opens with that password', todo: 'give the right password' },
  NO_KEYS: { exit: 'wrongPassword', meaning: 'an encrypted repository without key files', todo: 'restore the key files of the repository from a copy' },
  NOT_ENCRYPTED: { exit: 'usage', meaning: 'a key command on a repository that is not encrypted', todo: 'nothing to do: it has no keys' },
  KEY_NOT_FOUND: { exit: 'usage', meaning: 'no key with that id, or the prefix matches several', todo: '`drivesnap key list` shows the ids' },
  LAST_KEY: { exit: 'usage', meaning: 'refused to remove the only key', todo: 'add another key first' },
  CHUNK_CORRUPT: { exit: 'failure', meaning: 'a chunk object is damaged', todo: CHECK },
  SNAPSHOT_CORRUPT: { exit: 'failure', meaning: 'a snapshot object is damaged', todo: CHECK },
  CONFIG_CORRUPT: { exit: 'failure', meaning: "the repository's config object is damaged", todo: CHECK },
  KEY_FILE_CORRUPT: { exit: 'failure', meaning: 'a key file is damaged', todo: CHECK },
  MANIFEST_INVALID: { exit: 'failure', meaning: "a snapshot's chunk table is not valid", todo: CHECK },
  CHUNK_TABLE_INVALID: { exit: 'failure', meaning: 'a chunk table of the wrong length', todo: REPORT },
  SNAPSHOT_NOT_FOUND: { exit: 'failure', meaning: 'no snapshot with that id', todo: '`drivesnap snapshots` lists them' },
  SNAPSHOT_AMBIGUOUS: { exit: 'usage', meaning: 'a snapshot prefix or `latest` matches several', todo: 'give more characters of the id, or --drive' },
  SNAPSHOT_EMPTY: { exit: 'failure', meaning: 'the repository holds no snapshot to serve', todo: 'back something up first' },
  SNAPSHOT_INCOMPLETE: { exit: 'failure', meaning: 'a snapshot lacks chunks it names', todo: CHECK },
  INDEX_OPEN: { exit: 'failure', meaning: 'the local index cache cannot be opened', todo: 'check that its directory is writable and the disk not full, or set DRIVESNAP_INDEX' },
  INDEX_READ_ONLY: { exit: 'failure', meaning: 'the local index cache is read-only', todo: 'make it writable, or set DRIVESNAP_INDEX to a file in a writable directory' },
  OBJECT_NOT_FOUND: { exit: 'failure', meaning: 'a repository object is missing', todo: CHECK },
  STORE_INVALID_NAME: { exit: 'failure', meaning: 'an object name the store refuses', todo: REPORT },
  STORE_TRANSIENT: { exit: 'failure', meaning: 'the store failed through every retry', todo: 'check the store (disk, S3 endpoint) and run again' },
  STORE_IO: { exit: 'failure', meaning: 'a file system error in a local repository', todo: 'check the disk, its space and permissions' },
  STORE_ACCESS_DENIED: { exit: 'failure', meaning: 'S3 refused access', todo: 'check the credentials and the bucket policy' },
  STORE_NO_SUCH_BUCKET: { exit: 'repoNotFound', meaning: 'the S3 bucket does not exist', todo: 'create it or correct the repository URL' },
  STORE_NO_CREDENTIALS: { exit: 'failure', meaning: 'no S3 credentials were found', todo: 'set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or an AWS profile' },
  STORE_ERROR: { exit: 'failure', meaning: 'S3 answered an error drivesnap does not classify', todo: 'read the message; check the endpoint' },
  DIRECTORY_CREATE: { exit: 'failure', meaning: 'a directory cannot be created', todo: 'check the path and permissions' },

  // ---- jobs and their ends
  RANGES_FAILED: { exit: 'failure', meaning: 'some ranges of a job failed', todo: 'run again: it resumes and retries those ranges' },
  RANGES_UNACCOUNTED: { exit: 'failure', meaning: 'a job ended with ranges neither done nor failed', todo: REPORT },
  VERIFY_MISMATCH: { exit: 'failure', meaning: 'a written target reads back differently from the snapshot', todo: 'run the restore again; check the target' },
  TARGET_TOO_SMALL: { exit: 'failure', meaning: 'the target is smaller than the source', todo: 'use a larger target' },
  CHECK_FAILED: { exit: 'failure', meaning: '`check` found problems', todo: 'read its report' },
  DIFF_CHUNK_SIZE_MISMATCH: { exit: 'failure', meaning: 'two snapshots of different chunk sizes cannot be compared', todo: 'compare snapshots made with one chunk size' },
  FILE_NOT_FOUND: { exit: 'failure', meaning: 'no such file', todo: 'check the path' },
  FILE_EXISTS: { exit: 'failure', meaning: 'the target file exists', todo: 'choose another path or remove it' },
  FILE_ACCESS: { exit: 'failure', meaning: 'the file cannot be opened', todo: 'check its permissions' },
  NOT_A_FILE: { exit: 'failure', meaning: 'the path is not a regular file or block device', todo: 'give a file or a block device' },
  SHORT_READ: { exit: 'failure', meaning: 'a file ended before its size', todo: 'check that nothing truncates it during the job' },
  STREAM_CLOSED: { exit: 'failure', meaning: 'the reader of stdout (-) closed it before the whole drive was written: a broken pipe', todo: 'keep the reader open to the end, or write to a file' },
  STREAM_SIZE: { exit: 'usage', meaning: 'stdin (-) held fewer or more bytes than its size (--size, or the target\'s)', todo: "give the stream's exact size with --size" },
  STREAM_ORDER: { exit: 'usage', meaning: 'a stream (-) asked for a second time or out of order (a verify, a resume)', todo: 'save the stream to a file first' },
  BODY_CORRUPT: { exit: 'failure', meaning: 'compressed data does not decode', todo: CHECK },
  BODY_LENGTH: { exit: 'failure', meaning: 'decoded data has the wrong length', todo: CHECK },
  NBD_LISTEN: { exit: 'failure', meaning: 'the NBD server cannot listen on that address', todo: 'choose a free address or port' },
  EMULATOR_STATE_UNREADABLE: { exit: 'failure', meaning: "the emulator's saved state cannot be read", todo: 'start it on another --data directory, or remove that one' },
} as const satisfies Record<string, ErrorEntry>;

export type ErrorCode = keyof typeof ERROR_REGISTRY;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_REGISTRY, code);
}

/** The registered exit code of `code`; 1 (failure) for a code not (yet) registered. */
export function exitCodeOf(code: string): ExitCodeValue {
  return isErrorCode(code) ? ExitCode[ERROR_REGISTRY[code].exit] : ExitCode.failure;
}

export interface DrivesnapErrorOptions {
  cause?: unknown;
}

export class DrivesnapError extends Error {
  override name = 'DrivesnapError';
  /** Stable machine-readable code, e.g. `REPO_LOCKED`, `CHUNK_CORRUPT` (ERROR_REGISTRY). */
  readonly code: ErrorCode | (string & {});
  readonly exitCode: ExitCodeValue;
  constructor(code: ErrorCode, message: string, options?: DrivesnapErrorOptions);
  /** @deprecated Pass a registered code and no exit code; kept until every throw site is converted. */
  constructor(code: ErrorCode | (string & {}), message: string, exitCode?: ExitCodeValue, options?: DrivesnapErrorOptions);
  constructor(
    code: ErrorCode | (string & {}),
    message: string,
    exitCodeOrOptions?: ExitCodeValue | DrivesnapErrorOptions,
    options?: DrivesnapErrorOptions,
  ) {
    const explicitExit = typeof exitCodeOrOptions === 'number' ? exitCodeOrOptions : undefined;
    const opts = typeof exitCodeOrOptions === 'object' ? exitCodeOrOptions : options;
    super(message, opts);
    this.code = code;
    this.exitCode = explicitExit ?? exitCodeOf(code);
  }
}

export class UsageError extends DrivesnapError {
  override name = 'UsageError';
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** Turns anything thrown into a one-line message without stack noise. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0] ?? String(err);
  return String(err);
}
