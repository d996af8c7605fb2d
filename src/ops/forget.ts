/**
 * Forget: apply a retention policy (src/ops/retention.ts) to the repository's snapshots and delete the
 * manifests of those no rule keeps. Chunks stay until prune removes them, so a forget is cheap and a
 * killed forget leaves only fewer manifests, never a manifest pointing at nothing.
 *
 * Runs under the exclusive lock: a backup finishing meanwhile could otherwise add a snapshot the policy
 * never saw, and two forgets with different policies could each delete what the other meant to keep.
 */
import type { RepoLock } from '../repo/locks.js';
import type { SnapshotRow } from '../repo/index-db.js';
import type { Repository } from '../repo/repository.js';
import {
  applyRetention,
  assertPolicyNotEmpty,
  type GroupBy,
  type RetentionPolicy,
  type SnapshotForPolicy,
} from './retention.js';

export interface ForgetOptions {
  groupBy?: GroupBy[];
  timeZone?: string;
  dryRun?: boolean;
  /** Only snapshots of these drives are considered (a job's drives); all when absent. */
  driveUuids?: Set<string>;
  /** Wait this long for other hosts' locks before failing with exit code 11. */
  waitMs?: number;
  /** A lock the caller holds already (exclusive), e.g. `forget --prune` or `run`. */
  lock?: RepoLock;
}

export interface ForgetEntry {
  id: string;
  time: string;
  driveUuid: string;
  driveName: string;
  host: string;
  tags: string[];
  /** The rules that keep it; empty when it goes. */
  reasons: string[];
}

export interface ForgetGroup {
  group: string;
  keep: ForgetEntry[];
  remove: ForgetEntry[];
}

export interface ForgetResult {
  groups: ForgetGroup[];
  kept: number;
  removed: number;
  dryRun: boolean;
}

export async function forget(repo: Repository, policy: RetentionPolicy, opts: ForgetOptions = {}): Promise<ForgetResult> {
  assertPolicyNotEmpty(policy);
  const lock = opts.lock ?? (await repo.lock(true, opts.waitMs));
  try {
    // Under the exclusive lock the store's snapshot list is the whole truth: bring the index to it.
    await repo.sync();
    const rows = repo.listSnapshots().filter((s) => !opts.driveUuids || opts.driveUuids.has(s.driveUuid));
    const byId = new Map(rows.map((r) => [r.id, r]));
    const groups = applyRetention(rows.map(forPolicy), policy, {
      groupBy: opts.groupBy ?? ['drive'],
      timeZone: opts.timeZone ?? 'UTC',
    });
    const result: ForgetResult = { groups: [], kept: 0, removed: 0, dryRun: Boolean(opts.dryRun) };
    for (const g of groups) {
      const group: ForgetGroup = { group: g.group, keep: [], remove: [] };
      for (const d of g.decisions) {
        const entry = toEntry(byId.get(d.snapshot.id)!, d.reasons);
        (d.keep ? group.keep : group.remove).push(entry);
      }
      result.groups.push(group);
      result.kept += group.keep.length;
      result.removed += group.remove.length;
    }
    if (!opts.dryRun) {
      for (const g of result.groups) {
        for (const e of g.remove) {
          // A prune's exclusive lock could only be lost to `unlock --remove-all`: stop rather than race it.
          lock.assertHeld();
          await repo.deleteSnapshot(e.id);
        }
      }
    }
    return result;
  } finally {
    if (!opts.lock) await lock.release();
  }
}

function forPolicy(s: SnapshotRow): SnapshotForPolicy {
  return { id: s.id, time: new Date(s.time), tags: s.tags, host: s.host, driveUuid: s.driveUuid };
}

function toEntry(s: SnapshotRow, reasons: string[]): ForgetEntry {
  return { id: s.id, time: s.time, driveUuid: s.driveUuid, driveName: s.driveName, host: s.host, tags: s.tags, reasons };
}
