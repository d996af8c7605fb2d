import { describe, expect, it } from 'vitest';
import type { IoCounters } from '../../src/api/drive-info.js';
import { parseDriveInfo } from '../../src/api/drive-info.js';
import {
  type CopyRecord,
  type DriveState,
  type IncrementalPolicy,
  type RecordedState,
  changeReason,
  decideIncremental,
  describeMadeBy,
  differingRanges,
  matchingBaseline,
  driveStateOf,
  recordedStateExtra,
  recordedStateFromExtra,
  resyncPlan,
  rollbackPlan,
  sampleMatches,
  sampleRanges,
  sampleSize,
  stateAfterOurWrites,
} from '../../src/ops/change-detection.js';
import { ZERO_ID } from '../../src/repo/format/manifest.js';

const MiB = 1024 * 1024;
const CHUNK = 4 * MiB;
const SIZE = 512 * CHUNK; // 2 GiB, 512 ranges
const counters: IoCounters = { readBytes: 1000, readRequests: 10, writeBytes: 5000, writeRequests: 50 };
const previous: RecordedState = { size: SIZE, counters, readAt: '2026-11-30T03:00:00.000Z', fullReadAt: '2026-11-28T03:00:00.000Z' };
const policy: IncrementalPolicy = { readAll: false, fullReadEvery: '7d', now: new Date('2026-12-01T03:00:00Z'), chunkSize: CHUNK, seed: 42 };
const now = (c: Partial<IoCounters> = {}, rest: Partial<DriveState> = {}): DriveState => ({ size: SIZE, counters: { ...counters, ...c }, ...rest });

function id(byte: number): Buffer {
  return Buffer.alloc(32, byte);
}
function table(...bytes: number[]): Buffer {
  return Buffer.concat(bytes.map((b) => (b === 0 ? ZERO_ID : id(b))));
}

describe('decideIncremental: every reason for a full read', () => {
  const cases: Array<[string, RecordedState | undefined, DriveState, Partial<IncrementalPolicy>]> = [
    ['no-previous', undefined, now(), {}],
    ['counters-missing', previous, { size: SIZE }, {}],
    ['counters-missing', { ...previous, counters: undefined }, now(), {}],
    ['counters-went-down', previous, now({ writeBytes: 4999 }), {}],
    ['counters-went-down', previous, now({ readRequests: 0 }), {}],
    ['counters-went-down', previous, now({ readBytes: 0, readRequests: 0, writeBytes: 0, writeRequests: 0 }), {}],
    ['size-changed', previous, { ...now(), size: SIZE + CHUNK }, {}],
    ['written', previous, now({ writeBytes: 5001 }), {}],
    ['written', previous, now({ writeRequests: 51 }), {}],
    ['imaging', previous, now({}, { imaging: true }), {}],
    ['imaged-since', previous, now({}, { imagingMarker: 'job-2' }), {}],
    ['imaged-since', { ...previous, imagingMarker: 'job-1' }, now({}, { imagingMarker: 'job-2' }), {}],
    ['read-all', previous, now(), { readAll: true }],
    ['full-read-due', previous, now(), { now: new Date('2026-12-05T03:00:00Z') }],
    ['full-read-due', { ...previous, fullReadAt: undefined }, now(), {}],
    ['full-read-due', previous, now(), { fullReadEvery: 24 * 3600_000 }],
    ['full-read-due', previous, now(), { lastFullReadAt: new Date('2026-11-01T00:00:00Z') }],
  ];
  it.each(cases)('%s', (reason, prev, current, p) => {
    expect(decideIncremental(prev, current, { ...policy, ...p })).toEqual({ kind: 'full-read', reason });
  });

  it('samples when only the read counters grew (our own reads move them)', () => {
    const d = decideIncremental(previous, now({ readBytes: 9_000_000, readRequests: 900 }), policy);
    expect(d.kind).toBe('sample-check');
  });

  it('is due exactly when fullReadEvery has passed, in calendar days or in milliseconds', () => {
    const at = (iso: string, every: string | number) => decideIncremental(previous, now(), { ...policy, fullReadEvery: every, now: new Date(iso) }).kind;
    expect(at('2026-12-05T02:59:59.999Z', '7d')).toBe('sample-check');
    expect(at('2026-12-05T03:00:00.000Z', '7d')).toBe('full-read');
    expect(at('2026-11-28T03:00:00.999Z', 1000)).toBe('sample-check');
    expect(at('2026-11-28T03:00:01.000Z', 1000)).toBe('full-read');
  });

  it('takes the last full read from the policy over the recorded one', () => {
    const d = decideIncremental({ ...previous, fullReadAt: '2020-01-01T00:00:00Z' }, now(), { ...policy, lastFullReadAt: new Date('2026-11-30T00:00:00Z') });
    expect(d.kind).toBe('sample-check');
  });

  it('a server whose counters a drive info lacks counts as changed, never as zero', () => {
    const info = parseDriveInfo({ drive: 'd1', size: String(SIZE), 'write:bytes': '5000', 'write:requests': '50', 'read:bytes': '1000' });
    expect(changeReason(previous, driveStateOf(info))).toBe('counters-missing');
    const full = parseDriveInfo({ drive: 'd1', size: String(SIZE), 'write:bytes': '5000', 'write:requests': '50', 'read:bytes': '1000', 'read:requests': '10' });
    expect(changeReason(previous, driveStateOf(full))).toBeUndefined();
    const imaging = parseDriveInfo({ ...full.raw, imaging: '42%' });
    expect(changeReason(previous, driveStateOf(imaging))).toBe('imaging');
  });
});

describe('sampleRanges', () => {
  it('picks first, last and k distinct random ranges, ascending, the same for the same seed', () => {
    const a = sampleRanges(512, 7);
    expect(a).toEqual(sampleRanges(512, 7));
    expect(a).toHaveLength(2 + sampleSize(512));
    expect(sampleSize(512)).toBe(3);
    expect(a[0]).toBe(0);
    expect(a.at(-1)).toBe(511);
    expect(new Set(a).size).toBe(a.length);
    expect([...a].sort((x, y) => x - y)).toEqual(a);
    for (const r of a) expect(r >= 0 && r < 512).toBe(true);
  });

  it('varies with the seed', () => {
    const samples = new Set([1, 2, 3, 4, 5, 6, 7, 8].map((s) => sampleRanges(100_000, s).join(',')));
    expect(samples.size).toBe(8);
  });

  it('sizes the sample: at least 2, 0.5% of the ranges, at most 16 random ones', () => {
    expect(sampleSize(10)).toBe(2);
    expect(sampleSize(401)).toBe(3);
    expect(sampleSize(1000)).toBe(5);
    expect(sampleSize(3200)).toBe(16);
    expect(sampleSize(10_000_000)).toBe(16);
    expect(sampleRanges(10_000_000, 1)).toHaveLength(18);
  });

  it('keeps an untouched 2 GiB drive of 1 MiB ranges under 5% read', () => {
    expect(sampleRanges(2048, 3).length / 2048).toBeLessThan(0.05);
  });

  it('takes every range of a small drive, and none of an empty one', () => {
    expect(sampleRanges(0, 1)).toEqual([]);
    expect(sampleRanges(1, 1)).toEqual([0]);
    expect(sampleRanges(4, 1)).toEqual([0, 1, 2, 3]);
    expect(sampleRanges(5, 1)).toHaveLength(4);
  });

  it('stays distinct and within bounds for every seed when the middle is barely larger than the sample', () => {
    for (let seed = 0; seed < 200; seed++) {
      const s = sampleRanges(5, seed);
      expect(new Set(s).size).toBe(4);
      for (const r of s) expect(r >= 0 && r < 5).toBe(true);
    }
  });

  it('decideIncremental samples the drive it was given, with the policy seed', () => {
    expect(decideIncremental(previous, now(), policy)).toEqual({ kind: 'sample-check', ranges: sampleRanges(512, 42) });
  });
});

describe('sampleMatches', () => {
  const t = table(1, 2, 0, 4);
  it('matches when every sampled id equals the table', () => {
    expect(sampleMatches(t, [{ range: 0, id: id(1) }, { range: 2, id: ZERO_ID }, { range: 3, id: id(4) }])).toEqual({ matches: true });
  });
  it('names the first differing range', () => {
    expect(sampleMatches(t, [{ range: 0, id: id(1) }, { range: 1, id: id(9) }, { range: 3, id: id(9) }])).toEqual({ matches: false, range: 1, reason: 'differs' });
  });
  it('refuses a range outside the table', () => {
    expect(sampleMatches(t, [{ range: 4, id: id(1) }])).toEqual({ matches: false, range: 4, reason: 'out-of-table' });
    expect(sampleMatches(t, [{ range: -1, id: id(1) }])).toEqual({ matches: false, range: -1, reason: 'out-of-table' });
  });
});

describe('rollbackPlan and differingRanges', () => {
  it('writes exactly the ranges where the manifests differ', () => {
    expect(rollbackPlan(table(1, 2, 3, 0, 5), table(1, 7, 3, 5, 5))).toEqual({ kind: 'write-ranges', ranges: [1, 3] });
  });
  it('writes nothing when the target already holds the snapshot', () => {
    expect(rollbackPlan(table(1, 2, 0), table(1, 2, 0))).toEqual({ kind: 'write-ranges', ranges: [] });
  });
  it('compares a single differing byte at the end of an id', () => {
    const a = table(1, 1);
    const b = Buffer.from(a);
    b[63] = 2;
    expect(differingRanges(a, b)).toEqual([1]);
  });
  it('falls back to a full compare when the sizes differ', () => {
    expect(rollbackPlan(table(1, 2), table(1, 2, 3))).toEqual({ kind: 'full-compare', reason: 'size-differs' });
  });
  it('differingRanges refuses tables of different lengths', () => {
    expect(() => differingRanges(table(1), table(1, 2))).toThrow(RangeError);
  });
});

describe('matchingBaseline', () => {
  it('picks the first candidate whose recorded state still holds, and none when none does', () => {
    const written = { recorded: { ...previous, counters: { ...counters, writeBytes: 1 } }, name: 'old' };
    const current = { recorded: previous, name: 'current' };
    expect(matchingBaseline([written, current], now())?.name).toBe('current');
    expect(matchingBaseline([written], now())).toBeUndefined();
    expect(matchingBaseline([], now())).toBeUndefined();
  });
});

describe('stateAfterOurWrites', () => {
  const before = now();
  it('keeps the counters when they moved by exactly our writes', () => {
    const after = now({ writeBytes: 5000 + 8 * MiB, writeRequests: 52, readBytes: 2000, readRequests: 12 });
    expect(stateAfterOurWrites(before, after, { bytes: 8 * MiB, requests: 2 })).toEqual(after);
  });
  it('drops them when someone else wrote too', () => {
    const after = now({ writeBytes: 5000 + 8 * MiB + 512, writeRequests: 53 });
    expect(stateAfterOurWrites(before, after, { bytes: 8 * MiB, requests: 2 })).toEqual({ size: SIZE });
  });
  it('drops them when the counters are missing either side, or went down', () => {
    expect(stateAfterOurWrites({ size: SIZE }, now(), { bytes: 0, requests: 0 }).counters).toBeUndefined();
    expect(stateAfterOurWrites(before, { size: SIZE }, { bytes: 0, requests: 0 }).counters).toBeUndefined();
    expect(stateAfterOurWrites(before, now({ readBytes: 0 }), { bytes: 0, requests: 0 }).counters).toBeUndefined();
  });
  it('drops them while an imaging job writes', () => {
    expect(stateAfterOurWrites(before, now({}, { imaging: true }), { bytes: 0, requests: 0 }).counters).toBeUndefined();
  });
});

describe('resyncPlan', () => {
  const srcCounters = { readBytes: 0, readRequests: 0, writeBytes: 100, writeRequests: 1 };
  const src = (c: Partial<IoCounters> = {}): DriveState => ({ size: 4 * CHUNK, counters: { ...srcCounters, ...c } });
  const dst = (c: Partial<IoCounters> = {}): DriveState => ({ size: 4 * CHUNK, counters: { ...counters, ...c } });
  const record: CopyRecord = {
    sourceUuid: 's',
    targetUuid: 't',
    source: { size: 4 * CHUNK, counters: srcCounters, readAt: '2026-11-30T00:00:00Z' },
    target: { size: 4 * CHUNK, counters, readAt: '2026-11-30T00:05:00Z' },
    table: table(1, 2, 3, 4),
  };
  const base = { record, sourceUuid: 's', targetUuid: 't', source: src(), target: dst(), chunkSize: CHUNK, seed: 1 };

  it('copies nothing (after the samples) when neither drive was written', () => {
    const p = resyncPlan(base);
    expect(p).toMatchObject({ kind: 'copy-ranges', ranges: [], targetSample: [0, 1, 2, 3], sourceSample: [0, 1, 2, 3] });
  });

  it('copies only the changed ranges when a later snapshot proves the source content', () => {
    const later = { recorded: { size: 4 * CHUNK, counters: { ...srcCounters, writeBytes: 900 }, readAt: '2026-12-01T00:00:00Z' }, table: table(1, 9, 3, 8) };
    const p = resyncPlan({ ...base, source: src({ writeBytes: 900 }), baselines: [later] });
    expect(p).toMatchObject({ kind: 'copy-ranges', ranges: [1, 3], sourceTable: later.table });
  });

  it('reads the source in full, and the target only for its sample, when nothing proves the source content', () => {
    const p = resyncPlan({ ...base, source: src({ writeBytes: 900 }) });
    expect(p).toEqual({ kind: 'read-source', targetTable: record.table, targetSample: [0, 1, 2, 3] });
  });

  it('ignores a baseline whose state does not match the source now', () => {
    const stale = { recorded: { size: 4 * CHUNK, counters: { ...srcCounters, writeBytes: 500 }, readAt: 'x' }, table: table(7, 7, 7, 7) };
    expect(resyncPlan({ ...base, source: src({ writeBytes: 900 }), baselines: [stale] }).kind).toBe('read-source');
  });

  it('compares in full when the target was written, or its counters are unknown', () => {
    expect(resyncPlan({ ...base, target: dst({ writeRequests: 51 }) })).toEqual({ kind: 'full-compare', reason: 'target-written' });
    expect(resyncPlan({ ...base, record: { ...record, target: { ...record.target, counters: undefined } } })).toEqual({
      kind: 'full-compare',
      reason: 'target-counters-missing',
    });
    expect(resyncPlan({ ...base, target: dst({ writeBytes: 0 }) })).toEqual({ kind: 'full-compare', reason: 'target-counters-went-down' });
  });

  it('compares in full without a record, for other drives, or when the sizes differ', () => {
    expect(resyncPlan({ ...base, record: undefined })).toEqual({ kind: 'full-compare', reason: 'no-record' });
    expect(resyncPlan({ ...base, targetUuid: 'u' })).toEqual({ kind: 'full-compare', reason: 'other-drives' });
    expect(resyncPlan({ ...base, source: { ...src(), size: 5 * CHUNK } })).toEqual({ kind: 'full-compare', reason: 'size-differs' });
  });
});

describe('storage in meta.extra', () => {
  it('round-trips the state, how the snapshot was made and the last full read', () => {
    const extra = recordedStateExtra(now({}, { imagingMarker: 'm' }), {
      readAt: new Date('2026-12-01T03:00:00Z'),
      made: { counters: true, sampled: 5 },
      fullReadAt: new Date('2026-11-28T03:00:00Z'),
    });
    expect(JSON.parse(JSON.stringify(extra))).toEqual({
      driveState: { size: SIZE, ...counters, readAt: '2026-12-01T03:00:00.000Z', imagingMarker: 'm' },
      made: { counters: true, sampled: 5 },
      fullReadAt: '2026-11-28T03:00:00.000Z',
    });
    expect(recordedStateFromExtra(JSON.parse(JSON.stringify(extra)))).toEqual({
      size: SIZE,
      counters,
      imagingMarker: 'm',
      readAt: '2026-12-01T03:00:00.000Z',
      fullReadAt: '2026-11-28T03:00:00.000Z',
      made: { counters: true, sampled: 5 },
    });
  });

  it('records no counters for a drive without them, so the next backup reads it all', () => {
    const extra = recordedStateExtra({ size: SIZE }, { readAt: new Date(0), made: 'full-read', fullReadAt: new Date(0) });
    const state = recordedStateFromExtra(extra);
    expect(state?.counters).toBeUndefined();
    expect(changeReason(state, now())).toBe('counters-missing');
  });

  it('treats a partial counter set as no counters, and a malformed or absent state as none', () => {
    expect(recordedStateFromExtra({ driveState: { size: 1, readAt: 'x', writeBytes: 1, writeRequests: 1 } })?.counters).toBeUndefined();
    expect(recordedStateFromExtra({})).toBeUndefined();
    expect(recordedStateFromExtra({ driveState: { size: -1, readAt: 'x' } })).toBeUndefined();
    expect(recordedStateFromExtra({ driveState: 'yes' })).toBeUndefined();
  });

  it('describes how a snapshot was made', () => {
    expect(describeMadeBy('full-read')).toBe('full read');
    expect(describeMadeBy({ counters: true, sampled: 5 })).toBe('counters + 5 sampled');
    expect(describeMadeBy(undefined)).toBeUndefined();
  });
});
