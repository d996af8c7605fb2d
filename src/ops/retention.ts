/**
 * Which snapshots a `forget` policy keeps, with the same semantics as restic's `forget` so operators can
 * carry their policies over: snapshots are grouped, each group is walked newest first, and every rule that
 * wants a snapshot adds a reason. A snapshot without reasons is removed.
 */
import { UsageError } from '../errors.js';
import { assertTimeZone, wallTime } from './calendar.js';
import { isZeroDuration, parseDuration, subtractDuration } from './duration.js';
import { BUCKET_RULES, type BucketRule, bucketKey } from './retention-buckets.js';

export interface SnapshotForPolicy {
  id: string;
  time: Date;
  tags: string[];
  host: string;
  driveUuid: string;
}

/** Counts are how many snapshots (`last`) or buckets to keep; -1 means unlimited, 0 or absent turns a rule off. */
export interface RetentionPolicy {
  last?: number;
  hourly?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  yearly?: number;
  /** Keep everything newer than the group's newest snapshot minus this, e.g. `7d`, `2w`, `1y2m`, `36h`. */
  within?: string;
  /** Keep every snapshot carrying any of these tags. */
  keepTags?: string[];
}

export type GroupBy = 'drive' | 'tag' | 'host';

export interface Decision {
  snapshot: SnapshotForPolicy;
  keep: boolean;
  /** Every rule that keeps the snapshot, e.g. `['last', 'daily 2025-01-03']`; empty when it is removed. */
  reasons: string[];
}

export interface RetentionGroup {
  group: string;
  /** Newest first. */
  decisions: Decision[];
}

export interface RetentionOptions {
  groupBy: GroupBy[];
  /** IANA zone the calendar buckets and `within` are computed in; default UTC. */
  timeZone?: string;
}

type CountRule = 'last' | BucketRule;
const COUNT_RULES: readonly CountRule[] = ['last', ...BUCKET_RULES];

/** Reason given for every snapshot when the policy has no rule: like restic, an empty policy removes nothing. */
export const EMPTY_POLICY_REASON = 'policy is empty';

export function isPolicyEmpty(p: RetentionPolicy): boolean {
  const anyCount = COUNT_RULES.some((rule) => (p[rule] ?? 0) !== 0);
  const within = p.within !== undefined && !isZeroDuration(parseDuration(p.within));
  return !anyCount && !within && (p.keepTags ?? []).length === 0;
}

/** `forget` with no rule would be a request to remove every snapshot; refuse it as bad usage. */
export function assertPolicyNotEmpty(p: RetentionPolicy): void {
  if (isPolicyEmpty(p)) {
    throw new UsageError(
      'forget needs at least one --keep-* option (last, hourly, daily, weekly, monthly, yearly, within or tag)',
    );
  }
}

/** Throws a UsageError naming the first rule whose value cannot be a count or a duration. */
export function assertPolicyValid(p: RetentionPolicy): void {
  for (const rule of COUNT_RULES) {
    const count = p[rule];
    if (count !== undefined && (!Number.isInteger(count) || count < -1)) {
      throw new UsageError(`retention rule ${rule}: ${count} is not a count; use a whole number, or -1 for unlimited`);
    }
  }
  if (p.within !== undefined) parseDuration(p.within);
}

function compareNewestFirst(a: SnapshotForPolicy, b: SnapshotForPolicy): number {
  const byTime = b.time.getTime() - a.time.getTime();
  if (byTime !== 0) return byTime;
  // Equal times: order by id so the same repository always gives the same answer.
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function groupParts(snap: SnapshotForPolicy, groupBy: GroupBy[]): string[] {
  return groupBy.map((by) => {
    if (by === 'drive') return snap.driveUuid;
    if (by === 'host') return snap.host;
    return [...new Set(snap.tags)].sort().join(',');
  });
}

function decideGroup(snaps: SnapshotForPolicy[], policy: RetentionPolicy, timeZone: string): Decision[] {
  const ordered = [...snaps].sort(compareNewestFirst);
  if (isPolicyEmpty(policy)) {
    return ordered.map((snapshot) => ({ snapshot, keep: true, reasons: [EMPTY_POLICY_REASON] }));
  }
  const newest = ordered[0];
  const within = policy.within === undefined ? undefined : parseDuration(policy.within);
  const cutoff =
    newest && within && !isZeroDuration(within) ? subtractDuration(newest.time, within, timeZone) : undefined;
  const remaining = new Map<CountRule, number>(COUNT_RULES.map((rule) => [rule, policy[rule] ?? 0]));
  const lastBucket = new Map<BucketRule, string>();
  const keepTags = policy.keepTags ?? [];

  return ordered.map((snapshot, index) => {
    const reasons: string[] = [];
    for (const tag of keepTags) if (snapshot.tags.includes(tag)) reasons.push(`tag ${tag}`);
    if (cutoff && snapshot.time.getTime() > cutoff.getTime()) reasons.push(`within ${policy.within?.trim()}`);

    const lastCount = remaining.get('last')!;
    if (lastCount !== 0) {
      reasons.push('last');
      if (lastCount > 0) remaining.set('last', lastCount - 1);
    }

    const wall = wallTime(snapshot.time, timeZone);
    const isOldest = index === ordered.length - 1;
    for (const rule of BUCKET_RULES) {
      const count = remaining.get(rule)!;
      if (count === 0) continue;
      const key = bucketKey(rule, wall);
      const newBucket = key !== lastBucket.get(rule);
      // restic keeps the group's oldest snapshot for a rule that still has buckets to fill, so a short
      // history is kept as far back as it goes.
      if (!newBucket && !isOldest) continue;
      reasons.push(newBucket ? `${rule} ${key}` : `${rule} ${key} (oldest)`);
      lastBucket.set(rule, key);
      if (count > 0) remaining.set(rule, count - 1);
    }
    return { snapshot, keep: reasons.length > 0, reasons };
  });
}

/**
 * Applies the policy to each group of snapshots. Groups come back sorted by their key: for `drive` the drive
 * uuid, for `tag` the sorted tags joined with `,`, for `host` the host; several joined with `;` in the order
 * given. An empty `groupBy` makes one group, key `''`.
 */
export function applyRetention(
  snaps: SnapshotForPolicy[],
  policy: RetentionPolicy,
  opts: RetentionOptions,
): RetentionGroup[] {
  assertPolicyValid(policy);
  const timeZone = opts.timeZone ?? 'UTC';
  assertTimeZone(timeZone);

  const groups = new Map<string, { group: string; snaps: SnapshotForPolicy[] }>();
  for (const snap of snaps) {
    const parts = groupParts(snap, opts.groupBy);
    // Grouping by the JSON of the parts keeps groups apart even when a tag contains the separator.
    const identity = JSON.stringify(parts);
    let entry = groups.get(identity);
    if (!entry) {
      entry = { group: parts.join(';'), snaps: [] };
      groups.set(identity, entry);
    }
    entry.snaps.push(snap);
  }
  return [...groups.entries()]
    .sort(([idA, a], [idB, b]) => (a.group < b.group ? -1 : a.group > b.group ? 1 : idA < idB ? -1 : 1))
    .map(([, { group, snaps: members }]) => ({ group, decisions: decideGroup(members, policy, timeZone) }));
}
