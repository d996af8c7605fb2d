import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DrivesnapError } from '../../src/errors.js';
import { defaultIndexPath, RepoIndex, SnapshotAmbiguousError, type SnapshotRow } from '../../src/repo/index-db.js';
import { SCHEMA_VERSION } from '../../src/repo/index-schema.js';

const repoRoot = join(import.meta.dirname, '..', '..');

function chunkId(n: number, tag = 0xab): Buffer {
  const id = Buffer.alloc(32, tag);
  id.writeUInt32BE(n, 0);
  return id;
}

function snapshot(id: string, over: Partial<SnapshotRow> = {}): SnapshotRow {
  return {
    id,
    driveUuid: 'drive-a',
    driveName: 'web1',
    account: 'eh',
    endpoint: 'https://api.example.net',
    size: 8 * 1024 * 1024,
    time: '2024-05-01T10:00:00.000Z',
    host: 'host1',
    tags: [],
    chunkCount: 2,
    zeroCount: 0,
    newCount: 2,
    claimed: false,
    meta: {},
    ...over,
  };
}

function table(...ids: (Buffer | 'zero')[]): Buffer {
  return Buffer.concat(ids.map((id) => (id === 'zero' ? Buffer.alloc(32) : id)));
}

let dir: string;
let index: RepoIndex;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'drivesnap-index-'));
  index = RepoIndex.open(join(dir, 'nested', 'index.sqlite'));
});
afterEach(() => {
  index.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('RepoIndex chunks', () => {
  it('answers hasChunk for chunks added in one batch', () => {
    const present = Array.from({ length: 1300 }, (_, i) => ({ id: chunkId(i * 2), size: 100 }));
    index.addChunks(present);
    for (let i = 0; i < 2600; i++) expect(index.hasChunk(chunkId(i))).toBe(i % 2 === 0);
    expect(index.chunkCount()).toBe(1300);
  });

  it('ignores duplicate adds and keeps the first size', () => {
    index.addChunks([
      { id: chunkId(1), size: 10 },
      { id: chunkId(2), size: 20 },
    ]);
    index.addChunks([
      { id: chunkId(1), size: 999 },
      { id: chunkId(1), size: 999 },
      { id: chunkId(3), size: 30 },
    ]);
    expect(index.chunkCount()).toBe(3);
    expect(index.storedBytes()).toBe(60);
  });

  it('removes chunks and reports zero for an empty index', () => {
    expect(index.chunkCount()).toBe(0);
    expect(index.storedBytes()).toBe(0);
    index.addChunks([1, 2, 3].map((n) => ({ id: chunkId(n), size: n })));
    index.removeChunks([chunkId(2), chunkId(7)]);
    expect([...index.allChunkIds()].map((id) => id.readUInt32BE(0))).toEqual([1, 3]);
    expect(index.storedBytes()).toBe(4);
  });

  it('walks every chunk id once, in id order, across pages, while writes go on', () => {
    const n = 25_001;
    index.addChunks(Array.from({ length: n }, (_, i) => ({ id: chunkId(n - i), size: 1 })));
    const seen: number[] = [];
    for (const id of index.allChunkIds()) {
      seen.push(id.readUInt32BE(0));
      // Writing mid-walk must not fail with "connection is busy".
      if (seen.length === 15_000) index.set('walked', 'half');
    }
    expect(seen.length).toBe(n);
    expect(seen).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(index.get('walked')).toBe('half');
  });

  it('replaces the whole chunk set from a store listing', () => {
    index.addChunks([1, 2, 3].map((n) => ({ id: chunkId(n), size: 1 })));
    function* listing() {
      yield { id: chunkId(3), size: 5 };
      yield { id: chunkId(4), size: 6 };
    }
    index.replaceAllChunks(listing());
    expect([...index.allChunkIds()].map((id) => id.readUInt32BE(0))).toEqual([3, 4]);
    expect(index.storedBytes()).toBe(11);
  });
});

describe('RepoIndex snapshots', () => {
  it('round-trips every field, including an absent parent', () => {
    const full = snapshot('aa11', {
      tags: ['daily', 'web'],
      parent: 'ff00',
      claimed: true,
      meta: { format: 1, nested: { a: [1, 2] } },
      size: 2 ** 41,
    });
    index.addSnapshot(full, table(chunkId(1)));
    index.addSnapshot(snapshot('bb22'), table());
    // The metadata text comes back exactly as stored, so a row can be proven against its snapshot id.
    expect(index.findSnapshot('aa11')).toEqual({ ...full, metaJson: JSON.stringify(full.meta) });
    const bare = index.findSnapshot('bb22')!;
    expect(bare).toEqual({ ...snapshot('bb22'), metaJson: JSON.stringify(snapshot('bb22').meta) });
    expect('parent' in bare).toBe(false);
  });

  it('lists oldest first and filters by drive, tag and host', () => {
    index.addSnapshot(snapshot('s3', { time: '2024-05-03T00:00:00.000Z', tags: ['weekly'], host: 'h2' }), table());
    index.addSnapshot(snapshot('s1', { time: '2024-05-01T00:00:00.000Z', tags: ['daily', 'web'] }), table());
    index.addSnapshot(
      snapshot('s2', { time: '2024-05-02T00:00:00.000Z', driveUuid: 'drive-b', tags: ['daily'] }),
      table(),
    );
    const ids = (rows: SnapshotRow[]) => rows.map((r) => r.id);
    expect(ids(index.listSnapshots())).toEqual(['s1', 's2', 's3']);
    expect(ids(index.listSnapshots({ driveUuid: 'drive-a' }))).toEqual(['s1', 's3']);
    expect(ids(index.listSnapshots({ tag: 'daily' }))).toEqual(['s1', 's2']);
    // A tag must match a whole tag, not a substring of the JSON text.
    expect(ids(index.listSnapshots({ tag: 'dail' }))).toEqual([]);
    expect(ids(index.listSnapshots({ host: 'h2' }))).toEqual(['s3']);
    expect(ids(index.listSnapshots({ driveUuid: 'drive-a', tag: 'daily', host: 'host1' }))).toEqual(['s1']);
    expect(index.snapshotIds()).toEqual(new Set(['s1', 's2', 's3']));
  });

  it('finds by exact id or unique prefix, and refuses an ambiguous prefix with a usage error', () => {
    for (const id of ['abc123', 'abd456', 'abc']) index.addSnapshot(snapshot(id), table());
    expect(index.findSnapshot('abd')?.id).toBe('abd456');
    expect(index.findSnapshot('abc1')?.id).toBe('abc123');
    // An exact id wins even when it is also a prefix of another id.
    expect(index.findSnapshot('abc')?.id).toBe('abc');
    expect(index.findSnapshot('zz')).toBeUndefined();
    expect(index.findSnapshot('')).toBeUndefined();
    // LIKE wildcards in the prefix are literal characters.
    expect(index.findSnapshot('a%')).toBeUndefined();
    let thrown: unknown;
    try {
      index.findSnapshot('ab');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(SnapshotAmbiguousError);
    const err = thrown as DrivesnapError;
    expect(err.code).toBe('SNAPSHOT_AMBIGUOUS');
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain('"ab" matches 3 snapshots');
    expect(err.message.split('\n')).toHaveLength(1);
  });

  it('round-trips chunk tables, rejects ragged ones, and removes them with the snapshot', () => {
    const t = table(chunkId(1), 'zero', chunkId(2));
    index.addSnapshot(snapshot('s1'), t);
    expect(index.snapshotTable('s1')?.equals(t)).toBe(true);
    expect(index.snapshotTable('nope')).toBeUndefined();
    expect(() => index.addSnapshot(snapshot('s2'), Buffer.alloc(33))).toThrow(DrivesnapError);
    expect(index.findSnapshot('s2')).toBeUndefined();
    index.removeSnapshot('s1');
    expect(index.findSnapshot('s1')).toBeUndefined();
    expect(index.snapshotTable('s1')).toBeUndefined();
  });

  it('gives the union of all tables as referenced chunks, without the zero marker', () => {
    index.addSnapshot(snapshot('s1'), table(chunkId(1), 'zero', chunkId(2)));
    index.addSnapshot(snapshot('s2'), table(chunkId(2), chunkId(3), 'zero'));
    index.addSnapshot(snapshot('s3'), table());
    const hex = (n: number) => chunkId(n).toString('hex');
    expect(index.referencedChunkIds()).toEqual(new Set([hex(1), hex(2), hex(3)]));
    index.removeSnapshot('s2');
    expect(index.referencedChunkIds()).toEqual(new Set([hex(1), hex(2)]));
  });
});

describe('RepoIndex checkpoints and values', () => {
  it('keeps job progress across close and reopen of the file', () => {
    index.beginJob('copy:a->b', { source: 'a', target: 'b' });
    index.checkpoint('copy:a->b', [
      { range: 0, id: chunkId(1) },
      { range: 1, id: null },
    ]);
    index.checkpoint('copy:a->b', [{ range: 5, id: chunkId(5) }]);
    index.close();
    index = RepoIndex.open(index.path);
    const progress = index.jobProgress('copy:a->b');
    expect([...progress.keys()]).toEqual([0, 1, 5]);
    expect(progress.get(0)?.equals(chunkId(1))).toBe(true);
    expect(progress.get(1)).toBeNull();
    expect(index.jobInfo('copy:a->b')).toEqual({ source: 'a', target: 'b' });
    // Beginning the same job again resumes it rather than starting over.
    index.beginJob('copy:a->b', { source: 'a', target: 'b', attempt: 2 });
    expect(index.jobProgress('copy:a->b').size).toBe(3);
    expect(index.jobInfo('copy:a->b')).toEqual({ source: 'a', target: 'b', attempt: 2 });
  });

  it('lists jobs by prefix and forgets a job on endJob', () => {
    index.beginJob('backup:x', {});
    index.beginJob('backup:y', {});
    index.beginJob('copy:z', {});
    index.checkpoint('backup:x', [{ range: 0, id: null }]);
    expect(index.listJobs('backup:')).toEqual(['backup:x', 'backup:y']);
    expect(index.listJobs()).toEqual(['backup:x', 'backup:y', 'copy:z']);
    index.endJob('backup:x');
    expect(index.listJobs('backup:')).toEqual(['backup:y']);
    expect(index.jobProgress('backup:x').size).toBe(0);
    expect(index.jobInfo('backup:x')).toBeUndefined();
  });

  it('stores key/values and clears cached content but keeps checkpoints unless asked', () => {
    index.set('generation', '1');
    index.set('generation', '2');
    expect(index.get('generation')).toBe('2');
    expect(index.get('missing')).toBeUndefined();
    index.addChunks([{ id: chunkId(1), size: 1 }]);
    index.addSnapshot(snapshot('s1'), table(chunkId(1)));
    index.beginJob('job', { a: 1 });
    index.checkpoint('job', [{ range: 0, id: null }]);
    index.clear();
    expect(index.chunkCount()).toBe(0);
    expect(index.snapshotIds().size).toBe(0);
    expect(index.snapshotTable('s1')).toBeUndefined();
    expect(index.get('generation')).toBeUndefined();
    expect(index.jobProgress('job').size).toBe(1);
    index.clear({ checkpoints: true });
    expect(index.listJobs()).toEqual([]);
    expect(index.jobProgress('job').size).toBe(0);
  });
});

describe('RepoIndex file handling', () => {
  it('drops and recreates an index written under an unknown schema version', () => {
    index.addChunks([{ id: chunkId(1), size: 1 }]);
    index.set('generation', '7');
    index.close();
    const raw = new Database(index.path);
    raw.exec('CREATE TABLE leftover (x)');
    raw.pragma('user_version = 999');
    raw.close();
    index = RepoIndex.open(index.path);
    expect(index.chunkCount()).toBe(0);
    expect(index.get('generation')).toBeUndefined();
    index.addChunks([{ id: chunkId(2), size: 1 }]);
    index.close();
    const check = new Database(index.path);
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(check.pragma('journal_mode', { simple: true })).toBe('wal');
    const tables = check.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
    expect(tables).not.toContain('leftover');
    check.close();
    index = RepoIndex.open(index.path);
    expect(index.chunkCount()).toBe(1);
  });

  it('replaces a file that is not a database at all', () => {
    const path = join(dir, 'garbage.sqlite');
    writeFileSync(path, Buffer.alloc(8192, 0x5a));
    const replaced = RepoIndex.open(path);
    replaced.addChunks([{ id: chunkId(1), size: 1 }]);
    expect(replaced.chunkCount()).toBe(1);
    replaced.close();
  });

  it('loses nothing when two processes write into one new file at once', async () => {
    const path = join(dir, 'shared', 'index.sqlite');
    const batches = 100;
    const run = (tag: number, other: number) =>
      new Promise<void>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          [
            '--import',
            'tsx',
            join(repoRoot, 'test', 'helpers', 'index-writer.ts'),
            path,
            String(tag),
            String(other),
            String(batches),
          ],
          { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] },
        );
        let stderr = '';
        child.stderr.on('data', (d) => {
          stderr += d;
        });
        child.on('error', reject);
        child.on('exit', (code) =>
          code === 0 ? resolve() : reject(new Error(`writer ${tag} exited ${code}: ${stderr}`)),
        );
      });
    await Promise.all([run(1, 2), run(2, 1)]);
    const shared = RepoIndex.open(path);
    try {
      expect(shared.chunkCount()).toBe(2 * batches * 200);
      expect(shared.jobProgress('writer-1').size).toBe(batches);
      expect(shared.jobProgress('writer-2').size).toBe(batches);
      const firstBytes = new Set([...shared.allChunkIds()].map((id) => id[0]));
      expect(firstBytes).toEqual(new Set([1, 2]));
    } finally {
      shared.close();
    }
  });
});

describe('defaultIndexPath', () => {
  it('puts a local repository index inside the repository, under cache/', () => {
    expect(defaultIndexPath({ localRepoDir: '/srv/repo', repoId: 'abc' })).toBe('/srv/repo/cache/index.sqlite');
  });

  it('puts an S3 repository index in the XDG cache directory, per repository id', () => {
    const saved = process.env.XDG_CACHE_HOME;
    try {
      process.env.XDG_CACHE_HOME = '/var/cache/me';
      expect(defaultIndexPath({ repoId: 'r1' })).toBe('/var/cache/me/drivesnap/r1/index.sqlite');
      // XDG says a relative value is invalid: fall back to ~/.cache.
      process.env.XDG_CACHE_HOME = 'relative/dir';
      expect(defaultIndexPath({ repoId: 'r1' })).toMatch(/\/\.cache\/drivesnap\/r1\/index\.sqlite$/);
      expect(() => defaultIndexPath({ repoId: '../etc' })).toThrow(DrivesnapError);
      expect(() => defaultIndexPath({ repoId: '..' })).toThrow(DrivesnapError);
    } finally {
      if (saved === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved;
    }
  });
});
