/**
 * The index's records as the rest of drivesnap sees them, and their mapping to and from SQLite columns
 * (SQLite has no booleans or arrays: flags are 0/1, tags and meta are JSON text).
 */

/** One snapshot in the catalogue: what `drivesnap snapshots` lists without reading any manifest. */
export interface SnapshotRow {
  id: string;
  driveUuid: string;
  driveName: string;
  account: string;
  endpoint: string;
  size: number;
  /** ISO 8601; the catalogue is ordered by it. */
  time: string;
  host: string;
  tags: string[];
  parent?: string;
  chunkCount: number;
  zeroCount: number;
  newCount: number;
  claimed: boolean;
  meta: Record<string, unknown>;
  /**
   * The manifest's metadata exactly as its id covers it. The index keeps this text (not a re-serialisation
   * of `meta`) so that a cached row and table can be proven against the snapshot id before they are trusted.
   */
  metaJson?: string;
}

/** One finished range of a resumable job; id null = all-zero or done without storing a chunk. */
export interface CheckpointEntry {
  range: number;
  id: Buffer | null;
}

export interface SnapshotColumns {
  id: string;
  drive_uuid: string;
  drive_name: string;
  account: string;
  endpoint: string;
  size: number;
  time: string;
  host: string;
  tags: string;
  parent: string | null;
  chunk_count: number;
  zero_count: number;
  new_count: number;
  claimed: number;
  meta: string;
}

export const SNAPSHOT_COLUMN_LIST =
  'id, drive_uuid, drive_name, account, endpoint, size, time, host, tags, parent, chunk_count, ' +
  'zero_count, new_count, claimed, meta';

export function snapshotToColumns(row: SnapshotRow): SnapshotColumns {
  return {
    id: row.id,
    drive_uuid: row.driveUuid,
    drive_name: row.driveName,
    account: row.account,
    endpoint: row.endpoint,
    size: row.size,
    time: row.time,
    host: row.host,
    tags: JSON.stringify(row.tags),
    parent: row.parent ?? null,
    chunk_count: row.chunkCount,
    zero_count: row.zeroCount,
    new_count: row.newCount,
    claimed: row.claimed ? 1 : 0,
    meta: row.metaJson ?? JSON.stringify(row.meta),
  };
}

export function snapshotFromColumns(cols: SnapshotColumns): SnapshotRow {
  const row: SnapshotRow = {
    id: cols.id,
    driveUuid: cols.drive_uuid,
    driveName: cols.drive_name,
    account: cols.account,
    endpoint: cols.endpoint,
    size: cols.size,
    time: cols.time,
    host: cols.host,
    tags: JSON.parse(cols.tags) as string[],
    chunkCount: cols.chunk_count,
    zeroCount: cols.zero_count,
    newCount: cols.new_count,
    claimed: cols.claimed !== 0,
    meta: JSON.parse(cols.meta) as Record<string, unknown>,
    metaJson: cols.meta,
  };
  if (cols.parent !== null) row.parent = cols.parent;
  return row;
}
