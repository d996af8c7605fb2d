/**
 * The SQLite index's tables. The index is only a cache of the repository, so there are no migrations: an
 * index written under any other `user_version` is dropped and created afresh, and the caller resyncs it
 * from the repository. Bump SCHEMA_VERSION whenever a statement below changes.
 */
import type Database from 'better-sqlite3';

export const SCHEMA_VERSION = 1;

const CREATE_TABLES = `
CREATE TABLE chunks (
  id BLOB PRIMARY KEY,
  size INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE snapshots (
  id TEXT PRIMARY KEY,
  drive_uuid TEXT NOT NULL,
  drive_name TEXT NOT NULL,
  account TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  size INTEGER NOT NULL,
  time TEXT NOT NULL,
  host TEXT NOT NULL,
  tags TEXT NOT NULL,
  parent TEXT,
  chunk_count INTEGER NOT NULL,
  zero_count INTEGER NOT NULL,
  new_count INTEGER NOT NULL,
  claimed INTEGER NOT NULL,
  meta TEXT NOT NULL
);
CREATE INDEX snapshots_by_drive ON snapshots (drive_uuid, time);
CREATE INDEX snapshots_by_time ON snapshots (time);

-- Kept apart from the catalogue so listing snapshots never reads megabytes of chunk ids.
CREATE TABLE snapshot_tables (
  id TEXT PRIMARY KEY,
  ids BLOB NOT NULL
);

CREATE TABLE jobs (
  key TEXT PRIMARY KEY,
  info TEXT NOT NULL
);

CREATE TABLE job_progress (
  job TEXT NOT NULL,
  range INTEGER NOT NULL,
  id BLOB,
  PRIMARY KEY (job, range)
) WITHOUT ROWID;

CREATE TABLE kv (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`;

/**
 * Brings the file to SCHEMA_VERSION. Runs under BEGIN IMMEDIATE so that two processes opening a new file
 * at the same moment do not both create (or both drop) the tables: the second waits, then sees the version
 * the first one wrote.
 */
export function prepareSchema(db: Database.Database): void {
  const prepare = db.transaction(() => {
    if (db.pragma('user_version', { simple: true }) === SCHEMA_VERSION) return;
    dropEverything(db);
    db.exec(CREATE_TABLES);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  });
  prepare.immediate();
}

function dropEverything(db: Database.Database): void {
  const tables = db
    .prepare<[], string>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    )
    .pluck()
    .all();
  // Dropping a table drops its indexes too. Foreign keys are never enabled on the index's connections,
  // so an old schema's constraints cannot make the drop order matter.
  for (const name of tables) db.exec(`DROP TABLE IF EXISTS "${name.replaceAll('"', '""')}"`);
}
