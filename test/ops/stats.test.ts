import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { defaultLevelCodec } from '../helpers/codec-labels.js';
import { computeStats, compressionLine, madeColumn, madeOf, type StatsInput } from '../../src/ops/stats.js';
import { Cleanup } from '../helpers/engine-fixtures.js';
import { runOps } from '../helpers/ops-cli.js';
import { initRepo, repoEnv } from '../helpers/ops-fixtures.js';
import { idHex, table } from './tables.js';

const cs = 4;

function input(): StatsInput {
  const stored = new Map([
    [idHex(1), 3],
    [idHex(2), 2],
    [idHex(3), 2],
  ]); // chunk 4 is missing from the repository
  return {
    chunkSize: cs,
    storedSize: (id) => stored.get(id),
    snapshots: [
      { id: 's1', driveUuid: 'D1', driveName: 'web-old', size: 10, table: table(1, 2, 0) }, // ranges 4, 4, 2
      { id: 's2', driveUuid: 'D1', driveName: 'web', size: 10, table: table(1, 3, 0) },
      { id: 's3', driveUuid: 'D2', driveName: 'db', size: 6, table: table(1, 4) }, // ranges 4, 2
    ],
  };
}

describe('computeStats', () => {
  it('computes repository totals, counting each distinct chunk once with its exact length', () => {
    expect(computeStats(input()).repository).toEqual({
      snapshots: 3,
      logicalBytes: 26,
      uniqueChunks: 4,
      uniqueLogicalBytes: 14, // 4 + 4 + 4 + 2 (chunk 4 is a partial last range)
      storedBytes: 7,
      zeroBytes: 4,
      dedupRatio: 22 / 14, // (26 - 4 zero bytes) / 14
      compressionRatio: 12 / 7, // logical bytes of the stored chunks 1, 2, 3 / their stored bytes
      missingChunks: 1,
    });
  });

  it('computes per-drive figures sorted by name, with the last listed name', () => {
    expect(computeStats(input()).perDrive).toEqual([
      { driveUuid: 'D2', driveName: 'db', snapshots: 1, logicalBytes: 6, uniqueChunks: 2, storedBytes: 3, dedupRatio: 1, fullReads: 0, fromCounters: 0 },
      {
        driveUuid: 'D1',
        driveName: 'web',
        snapshots: 2,
        logicalBytes: 20,
        uniqueChunks: 3,
        storedBytes: 7,
        dedupRatio: 16 / 12,
        fullReads: 0,
        fromCounters: 0,
      },
    ]);
  });

  it('counts per drive how its snapshots were made, and when it was last read in full', () => {
    const base = input();
    Object.assign(base.snapshots[0]!, { made: 'full-read', fullReadAt: '2026-11-01T03:00:00.000Z' });
    Object.assign(base.snapshots[1]!, { made: { counters: true, sampled: 4 }, fullReadAt: '2026-11-01T03:00:00.000Z' });
    Object.assign(base.snapshots[2]!, { made: 'full-read', fullReadAt: '2026-11-02T03:00:00.000Z' });
    const [db, web] = computeStats(base).perDrive;
    expect(web).toMatchObject({ fullReads: 1, fromCounters: 1, lastFullReadAt: '2026-11-01T03:00:00.000Z' });
    expect(db).toMatchObject({ fullReads: 1, fromCounters: 0, lastFullReadAt: '2026-11-02T03:00:00.000Z' });
    expect(madeColumn(web!)).toBe('1 full, 1 counters');
    expect(madeColumn({ fullReads: 0, fromCounters: 0 })).toBe('');
  });

  it('reads how a snapshot was made from its metadata, and nothing from an image file snapshot', () => {
    const extra = { driveState: { size: 8, readAt: '2026-11-01T03:00:00.000Z' }, made: { counters: true, sampled: 3 }, fullReadAt: '2026-10-30T03:00:00.000Z' };
    expect(madeOf({ extra })).toEqual({ made: { counters: true, sampled: 3 }, fullReadAt: '2026-10-30T03:00:00.000Z' });
    expect(madeOf({ extra: {} })).toEqual({});
    expect(madeOf({})).toEqual({});
  });

  it('asks the store about each distinct chunk once', () => {
    const base = input();
    const storedSize = vi.fn(base.storedSize);
    computeStats({ ...base, storedSize });
    expect(storedSize).toHaveBeenCalledTimes(4);
    expect(new Set(storedSize.mock.calls.map(([id]) => id)).size).toBe(4);
  });

  it('gives ratios of 1 and zero totals for an empty repository or all-zero drives', () => {
    const empty = computeStats({ chunkSize: cs, storedSize: () => undefined, snapshots: [] });
    expect(empty).toEqual({
      repository: {
        snapshots: 0,
        logicalBytes: 0,
        uniqueChunks: 0,
        uniqueLogicalBytes: 0,
        storedBytes: 0,
        zeroBytes: 0,
        dedupRatio: 1,
        compressionRatio: 1,
        missingChunks: 0,
      },
      perDrive: [],
    });
    const zeros = computeStats({
      chunkSize: cs,
      storedSize: () => 1,
      snapshots: [{ id: 'z', driveUuid: 'D', driveName: 'z', size: 8, table: table(0, 0) }],
    });
    expect(zeros.repository).toMatchObject({ zeroBytes: 8, uniqueChunks: 0, dedupRatio: 1, compressionRatio: 1 });
  });

  it('refuses a damaged chunk table, naming the snapshot', () => {
    const base = input();
    base.snapshots[1]!.table = table(1, 3);
    expect(() => computeStats(base)).toThrow(/snapshot s2: chunk table has 64 bytes/);
  });
});

describe('the compression line of stats', () => {
  const cleanup = new Cleanup();
  afterAll(() => cleanup.run());

  it('passes the compression setting and codec through computeStats, and renders them', () => {
    const compression = { type: 'gzip' as const, level: 2, codec: 'isal-igzip L2' };
    expect(computeStats({ ...input(), compression }).compression).toEqual(compression);
    expect(computeStats(input()).compression).toBeUndefined();
    expect(compressionLine(compression)).toBe('compression: gzip level 2, written by this host with isal-igzip L2');
  });

  it('names the codec this host uses in --json and text, node:zlib when DRIVESNAP_CODEC=zlib forces it', async () => {
    const dir = await cleanup.tempDir('drivesnap-stats-codec-');
    await initRepo(cleanup, join(dir, 'repo'), join(dir, 'index.sqlite'));
    const env = repoEnv(join(dir, 'repo'), join(dir, 'index.sqlite'));
    const auto = await runOps(['stats', '--json'], env);
    expect(auto.code, auto.stderr).toBe(0);
    expect(auto.json.find((j) => 'compression' in j)?.compression).toEqual({ type: 'gzip', level: 3, codec: defaultLevelCodec() });
    const forced = await runOps(['stats'], { ...env, DRIVESNAP_CODEC: 'zlib' });
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toContain('compression: gzip level 3, written by this host with node:zlib L3');
  });
});
