/**
 * Errors of the repository format. Each names the object at fault and what to do; none carries a key,
 * password or plaintext.
 */
import { DrivesnapError, type ErrorCode } from '../../errors.js';

export type CorruptKind = 'chunk' | 'snapshot' | 'config' | 'key file';

const CODE_OF_KIND: Record<CorruptKind, ErrorCode> = {
  chunk: 'CHUNK_CORRUPT',
  snapshot: 'SNAPSHOT_CORRUPT',
  config: 'CONFIG_CORRUPT',
  'key file': 'KEY_FILE_CORRUPT',
};

/** A stored object failed a check (magic, version, tag, digest, gzip, id). Its data is never returned. */
export class CorruptObjectError extends DrivesnapError {
  override name = 'CorruptObjectError';
  constructor(
    readonly kind: CorruptKind,
    /** Object name in the repository, e.g. `chunks/ab/ab12...`. */
    readonly object: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      CODE_OF_KIND[kind],
      `${kind} object ${object} is damaged (${reason}); run \`drivesnap check --read-data\` to find every damaged object`,
      options,
    );
  }
}

/** The repository (or one object in it) was written by a newer drivesnap than this one. */
export class RepoVersionError extends DrivesnapError {
  override name = 'RepoVersionError';
  constructor(
    readonly object: string,
    readonly found: number,
    readonly supported: number,
  ) {
    super(
      'REPO_VERSION',
      `${object} uses repository format version ${found}, this drivesnap reads up to version ${supported}; upgrade drivesnap`,
    );
  }
}

/** No key file opens with the password given. */
export class WrongPasswordError extends DrivesnapError {
  override name = 'WrongPasswordError';
  constructor(message = 'wrong password: no key of this repository opens with it; check the password and try again') {
    super('WRONG_PASSWORD', message);
  }
}

/** A caller passed something the format cannot represent (a bug in the caller, not damaged data). */
export class FormatUsageError extends DrivesnapError {
  override name = 'FormatUsageError';
  constructor(message: string) {
    super('FORMAT_USAGE', message);
  }
}
