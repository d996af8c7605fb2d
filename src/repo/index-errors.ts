import { DrivesnapError } from '../errors.js';

/** A snapshot prefix the user typed matches more than one snapshot: a usage error, not a failure. */
export class SnapshotAmbiguousError extends DrivesnapError {
  override name = 'SnapshotAmbiguousError';
  constructor(
    readonly prefix: string,
    readonly matches: string[],
  ) {
    const shown = matches.slice(0, 3).join(', ') + (matches.length > 3 ? ', …' : '');
    super(
      'SNAPSHOT_AMBIGUOUS',
      `snapshot prefix "${prefix}" matches ${matches.length} snapshots (${shown}); give more characters of the id`,
    );
  }
}

/** A chunk table whose length is not a whole number of 32-byte ids: the caller built it wrongly. */
export class ChunkTableInvalidError extends DrivesnapError {
  override name = 'ChunkTableInvalidError';
  constructor(snapshotId: string, length: number) {
    super(
      'CHUNK_TABLE_INVALID',
      `snapshot ${snapshotId}: chunk table of ${length} bytes is not a whole number of 32-byte ids; ` +
        'rebuild it from the manifest',
    );
  }
}
