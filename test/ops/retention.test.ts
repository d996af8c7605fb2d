import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import {
  applyRetention,
  assertPolicyNotEmpty,
  EMPTY_POLICY_REASON,
  type RetentionGroup,
  type RetentionPolicy,
  type SnapshotForPolicy,
} from '../../src/ops/retention.js';

function snap(id: string, iso: string, extra: Partial<SnapshotForPolicy> = {}): SnapshotForPolicy {
  return { id, time: new Date(iso), tags: [], host: 'h1', driveUuid: 'd1', ...extra };
}

/** id -> reasons for the kept snapshots of a single-group result; removed ones map to []. */
function reasonsById(groups: RetentionGroup[]): Record<string, string[]> {
  expect(groups).toHaveLength(1);
  return Object.fromEntries(groups[0]!.decisions.map((d) => [d.snapshot.id, d.reasons]));
}

function run(snaps: SnapshotForPolicy[], policy: RetentionPolicy, timeZone?: string) {
  return reasonsById(applyRetention(snaps, policy, { groupBy: ['drive'], timeZone }));
}

const week = [
  snap('a', '2025-01-07T10:00:00Z'),
  snap('b', '2025-01-06T10:00:00Z'),
  snap('c', '2025-01-05T22:00:00Z'),
  snap('d', '2025-01-05T10:00:00Z'),
  snap('e', '2025-01-04T10:00:00Z'),
];

describe('applyRetention: each rule alone', () => {
  it('last N keeps the N newest and removes the rest with no reasons', () => {
    const groups = applyRetention([...week].reverse(), { last: 2 }, { groupBy: ['drive'] });
    expect(groups[0]!.decisions.map((d) => [d.snapshot.id, d.keep, d.reasons])).toEqual([
      ['a', true, ['last']],
      ['b', true, ['last']],
      ['c', false, []],
      ['d', false, []],
      ['e', false, []],
    ]);
  });

  it('last -1 keeps every snapshot', () => {
    expect(Object.values(run(week, { last: -1 })).every((r) => r.join() === 'last')).toBe(true);
  });

  it('daily N keeps the newest snapshot of each of the N newest days', () => {
    expect(run(week, { daily: 2 })).toEqual({
      a: ['daily 2025-01-07'],
      b: ['daily 2025-01-06'],
      c: [],
      d: [],
      e: [],
    });
  });

  it('daily -1 keeps one per day for every day', () => {
    expect(run(week, { daily: -1 })).toEqual({
      a: ['daily 2025-01-07'],
      b: ['daily 2025-01-06'],
      c: ['daily 2025-01-05'],
      d: [],
      e: ['daily 2025-01-04'],
    });
  });

  it('keeps the oldest snapshot when a rule still has buckets to fill, as restic does', () => {
    const snaps = [snap('new', '2025-01-02T10:00:00Z'), snap('mid', '2025-01-01T12:00:00Z'), snap('old', '2025-01-01T08:00:00Z')];
    expect(run(snaps, { daily: 5 })).toEqual({
      new: ['daily 2025-01-02'],
      mid: ['daily 2025-01-01'],
      old: ['daily 2025-01-01 (oldest)'],
    });
    // Once the buckets are filled the oldest gets nothing extra.
    expect(run(snaps, { daily: 2 }).old).toEqual([]);
  });

  it('hourly, weekly, monthly and yearly bucket by hour, ISO week, month and year', () => {
    const snaps = [
      snap('h2', '2025-03-10T14:50:00Z'),
      snap('h1', '2025-03-10T14:10:00Z'),
      snap('h0', '2025-03-10T13:59:00Z'),
      snap('w', '2025-03-09T12:00:00Z'), // Sunday: ISO week 10, same month
      snap('m', '2025-02-15T12:00:00Z'),
      snap('y', '2024-06-01T12:00:00Z'),
      snap('z', '2024-05-01T12:00:00Z'),
    ];
    expect(run(snaps, { hourly: 2 })).toMatchObject({ h2: ['hourly 2025-03-10T14'], h1: [], h0: ['hourly 2025-03-10T13'] });
    expect(run(snaps, { weekly: 2 })).toMatchObject({ h2: ['weekly 2025-W11'], w: ['weekly 2025-W10'], m: [] });
    expect(run(snaps, { monthly: 2 })).toMatchObject({ h2: ['monthly 2025-03'], w: [], m: ['monthly 2025-02'], y: [] });
    expect(run(snaps, { yearly: 2 })).toMatchObject({ h2: ['yearly 2025'], m: [], y: ['yearly 2024'], z: [] });
  });

  it('within keeps snapshots strictly newer than the newest minus the duration', () => {
    const snaps = [
      snap('now', '2025-01-10T12:00:00Z'),
      snap('in', '2025-01-08T12:00:01Z'),
      snap('edge', '2025-01-08T12:00:00Z'),
      snap('out', '2025-01-01T00:00:00Z'),
    ];
    expect(run(snaps, { within: '2d' })).toEqual({ now: ['within 2d'], in: ['within 2d'], edge: [], out: [] });
  });

  it('keepTags keeps snapshots carrying any listed tag, with a reason per tag', () => {
    const snaps = [
      snap('a', '2025-01-03T00:00:00Z', { tags: ['nightly'] }),
      snap('b', '2025-01-02T00:00:00Z', { tags: ['pinned', 'release'] }),
      snap('c', '2025-01-01T00:00:00Z', { tags: ['release'] }),
    ];
    expect(run(snaps, { keepTags: ['pinned', 'release'] })).toEqual({
      a: [],
      b: ['tag pinned', 'tag release'],
      c: ['tag release'],
    });
  });
});

describe('applyRetention: rules combined', () => {
  it('lists every reason a snapshot is kept, tags and within first', () => {
    const snaps = [
      snap('a', '2025-01-03T18:00:00Z', { tags: ['pinned'] }),
      snap('b', '2025-01-03T06:00:00Z'),
      snap('c', '2025-01-02T18:00:00Z'),
      snap('d', '2024-12-20T18:00:00Z'),
      snap('e', '2024-12-19T18:00:00Z'),
    ];
    const policy: RetentionPolicy = { last: 1, daily: 2, monthly: 2, within: '1d', keepTags: ['pinned'] };
    expect(run(snaps, policy)).toEqual({
      a: ['tag pinned', 'within 1d', 'last', 'daily 2025-01-03', 'monthly 2025-01'],
      b: ['within 1d'],
      c: ['daily 2025-01-02'],
      d: ['monthly 2024-12'],
      e: [],
    });
  });
});

describe('applyRetention: the worked example in docs/retention.md', () => {
  const snaps = [
    snap('a', '2025-01-03T18:00:00Z', { tags: ['pinned'] }),
    snap('b', '2025-01-03T06:00:00Z'),
    snap('c', '2025-01-02T18:00:00Z'),
    snap('d', '2024-12-20T18:00:00Z'),
    snap('e', '2024-12-19T18:00:00Z'),
  ];

  it('with only daily 5 removes just the second snapshot of 3 January', () => {
    expect(run(snaps, { daily: 5 })).toEqual({
      a: ['daily 2025-01-03'],
      b: [],
      c: ['daily 2025-01-02'],
      d: ['daily 2024-12-20'],
      e: ['daily 2024-12-19'],
    });
  });
});

describe('applyRetention: calendar edges', () => {
  it('splits days and years at the year end', () => {
    const snaps = [
      snap('jan1', '2025-01-01T00:30:00Z'),
      snap('dec31', '2024-12-31T23:30:00Z'),
      snap('dec31early', '2024-12-31T01:00:00Z'),
      snap('older', '2024-12-01T00:00:00Z'),
    ];
    expect(run(snaps, { daily: 2, yearly: 2 })).toEqual({
      jan1: ['daily 2025-01-01', 'yearly 2025'],
      dec31: ['daily 2024-12-31', 'yearly 2024'],
      dec31early: [],
      older: [],
    });
  });

  it('puts the days around new year 2021 into ISO week 2020-W53', () => {
    const snaps = [
      snap('mon', '2021-01-04T12:00:00Z'),
      snap('sun', '2021-01-03T12:00:00Z'),
      snap('thu', '2020-12-31T12:00:00Z'),
      snap('mon53', '2020-12-28T12:00:00Z'),
      snap('earlier', '2020-12-20T12:00:00Z'),
    ];
    expect(run(snaps, { weekly: 3 })).toEqual({
      mon: ['weekly 2021-W01'],
      sun: ['weekly 2020-W53'],
      thu: [],
      mon53: [],
      earlier: ['weekly 2020-W51'],
    });
  });

  it('keeps a leap day as its own day and counts a year back from it to 1 March', () => {
    const snaps = [
      snap('leap', '2024-02-29T12:00:00Z'),
      snap('feb28', '2024-02-28T12:00:00Z'),
      snap('after', '2023-03-01T13:00:00Z'),
      snap('before', '2023-03-01T11:00:00Z'),
      snap('old', '2023-02-28T13:00:00Z'),
    ];
    expect(run(snaps, { within: '1y' })).toMatchObject({ leap: ['within 1y'], after: ['within 1y'], before: [], old: [] });
    expect(run(snaps, { daily: 2 })).toMatchObject({ leap: ['daily 2024-02-29'], feb28: ['daily 2024-02-28'] });
  });

  it('buckets days in the stated zone, not UTC (Europe/London in summer)', () => {
    const snaps = [
      snap('a', '2025-07-01T10:00:00Z'),
      snap('b', '2025-06-30T23:30:00Z'), // 00:30 BST on 1 July
      snap('c', '2025-06-29T12:00:00Z'),
    ];
    expect(run(snaps, { daily: 3 }, 'Europe/London')).toEqual({
      a: ['daily 2025-07-01'],
      b: [],
      c: ['daily 2025-06-29'],
    });
    expect(run(snaps, { daily: 3 })).toEqual({
      a: ['daily 2025-07-01'],
      b: ['daily 2025-06-30'],
      c: ['daily 2025-06-29'],
    });
  });

  it('treats the repeated hour when London clocks go back as one hourly bucket', () => {
    const snaps = [
      snap('gmt', '2025-10-26T01:30:00Z'), // 01:30 GMT
      snap('bst', '2025-10-26T00:30:00Z'), // 01:30 BST, same wall-clock hour
      snap('midnight', '2025-10-25T23:30:00Z'), // 00:30 BST
      snap('oldest', '2025-10-25T20:00:00Z'),
    ];
    expect(run(snaps, { hourly: 2 }, 'Europe/London')).toEqual({
      gmt: ['hourly 2025-10-26T01'],
      bst: [],
      midnight: ['hourly 2025-10-26T00'],
      oldest: [],
    });
  });

  it('skips the missing hour when London clocks go forward', () => {
    const snaps = [snap('after', '2025-03-30T01:30:00Z'), snap('before', '2025-03-30T00:30:00Z')];
    expect(run(snaps, { hourly: 2 }, 'Europe/London')).toEqual({
      after: ['hourly 2025-03-30T02'],
      before: ['hourly 2025-03-30T00'],
    });
  });

  it('counts the 25-hour day when New York clocks go back as one daily bucket', () => {
    const snaps = [
      snap('late', '2025-11-03T04:30:00Z'), // 23:30 EST, 2 November
      snap('early', '2025-11-02T04:30:00Z'), // 00:30 EDT, 2 November
      snap('nov1', '2025-11-01T12:00:00Z'),
      snap('oldest', '2025-10-30T12:00:00Z'),
    ];
    expect(run(snaps, { daily: 2 }, 'America/New_York')).toEqual({
      late: ['daily 2025-11-02'],
      early: [],
      nov1: ['daily 2025-11-01'],
      oldest: [],
    });
  });

  it('measures within in calendar days of the zone across New York spring forward', () => {
    const snaps = [snap('noon', '2025-03-09T16:00:00Z'), snap('edge', '2025-03-08T16:30:00Z')];
    // One day before 12:00 EDT is 12:00 EST (17:00Z): 16:30Z is older.
    expect(run(snaps, { within: '1d' }, 'America/New_York').edge).toEqual([]);
    expect(run(snaps, { within: '1d' }).edge).toEqual(['within 1d']);
  });
});

describe('applyRetention: ordering and groups', () => {
  it('orders equal timestamps by id whatever the input order', () => {
    const t = '2025-01-01T00:00:00Z';
    const forward = [snap('x2', t), snap('x1', t), snap('x3', t)];
    for (const input of [forward, [...forward].reverse()]) {
      const groups = applyRetention(input, { last: 1 }, { groupBy: ['drive'] });
      expect(groups[0]!.decisions.map((d) => [d.snapshot.id, d.keep])).toEqual([
        ['x1', true],
        ['x2', false],
        ['x3', false],
      ]);
    }
  });

  it('applies the policy to each drive separately, groups sorted by key', () => {
    const snaps = [
      snap('d2-new', '2025-01-02T00:00:00Z', { driveUuid: 'd2' }),
      snap('d1-new', '2025-01-02T00:00:00Z', { driveUuid: 'd1' }),
      snap('d1-old', '2025-01-01T00:00:00Z', { driveUuid: 'd1' }),
      snap('d2-old', '2025-01-01T00:00:00Z', { driveUuid: 'd2' }),
    ];
    const groups = applyRetention(snaps, { last: 1 }, { groupBy: ['drive'] });
    expect(groups.map((g) => [g.group, g.decisions.map((d) => `${d.snapshot.id}:${d.keep}`)])).toEqual([
      ['d1', ['d1-new:true', 'd1-old:false']],
      ['d2', ['d2-new:true', 'd2-old:false']],
    ]);
  });

  it('groups by host and sorted tags joined, and by nothing at all', () => {
    const snaps = [
      snap('a', '2025-01-03T00:00:00Z', { host: 'web', tags: ['b', 'a'] }),
      snap('b', '2025-01-02T00:00:00Z', { host: 'web', tags: ['a', 'b'] }),
      snap('c', '2025-01-01T00:00:00Z', { host: 'db', tags: ['a', 'b'] }),
    ];
    const byHostTag = applyRetention(snaps, { last: 1 }, { groupBy: ['host', 'tag'] });
    expect(byHostTag.map((g) => [g.group, g.decisions.map((d) => `${d.snapshot.id}:${d.keep}`)])).toEqual([
      ['db;a,b', ['c:true']],
      ['web;a,b', ['a:true', 'b:false']],
    ]);
    const together = applyRetention(snaps, { last: 1 }, { groupBy: [] });
    expect(together.map((g) => [g.group, g.decisions.filter((d) => d.keep).length])).toEqual([['', 1]]);
  });

  it('returns no groups for no snapshots', () => {
    expect(applyRetention([], { last: 1 }, { groupBy: ['drive'] })).toEqual([]);
  });
});

describe('policy checks', () => {
  it('refuses an empty policy for forget', () => {
    for (const empty of [{}, { last: 0, keepTags: [] }, { within: '0d' }] as RetentionPolicy[]) {
      expect(() => assertPolicyNotEmpty(empty)).toThrow(/forget needs at least one --keep-\* option/);
      expect(() => assertPolicyNotEmpty(empty)).toThrow(UsageError);
    }
    expect(() => assertPolicyNotEmpty({ yearly: -1 })).not.toThrow();
  });

  it('keeps everything when applied with an empty policy, as restic does', () => {
    expect(run(week, {})).toEqual(Object.fromEntries(week.map((s) => [s.id, [EMPTY_POLICY_REASON]])));
  });

  it('rejects counts below -1 or fractional, bad durations and unknown zones', () => {
    expect(() => run(week, { daily: -2 })).toThrow(/retention rule daily: -2 is not a count/);
    expect(() => run(week, { last: 1.5 })).toThrow(UsageError);
    expect(() => run(week, { within: 'soon' })).toThrow(/invalid duration "soon"/);
    expect(() => run(week, { last: 1 }, 'Nowhere/City')).toThrow(/unknown time zone "Nowhere\/City"/);
  });
});
