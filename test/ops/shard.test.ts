/**
 * `run --shard K/N` (src/ops/shard.ts): every drive lands in exactly one shard, the same one whatever the
 * order of the list, and a bad K/N is a usage error naming the option. A shard whose share is empty
 * exits 0, while a run that selected nothing still fails.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runExitCode } from '../../src/ops/backup-plan.js';
import { inShard, parseShard, shardOf } from '../../src/ops/shard.js';

describe('shard', () => {
  const uuids = Array.from({ length: 200 }, () => randomUUID());

  it('puts every drive in exactly one of N shards, spread over all of them', () => {
    const shards = [1, 2, 3].map((index) => ({ index, count: 3 }));
    for (const u of uuids) expect(shards.filter((s) => inShard(u, s))).toHaveLength(1);
    const sizes = shards.map((s) => uuids.filter((u) => inShard(u, s)).length);
    for (const size of sizes) expect(size).toBeGreaterThan(30);
  });

  it('depends on the drive only: the same shard in any order, and one shard takes everything', () => {
    const before = new Map(uuids.map((u) => [u, shardOf(u, 4)]));
    for (const u of [...uuids].reverse()) expect(shardOf(u, 4)).toBe(before.get(u));
    expect(uuids.every((u) => inShard(u, { index: 1, count: 1 }))).toBe(true);
  });

  it('parses K/N and refuses anything else with a usage error', () => {
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
    for (const bad of ['0/2', '3/2', '1', 'a/b', '1/0', '-1/2']) {
      expect(() => parseShard(bad)).toThrow(/--shard takes K\/N/);
    }
    const refused = (() => {
      try {
        parseShard('3/2');
      } catch (err) {
        return err;
      }
    })();
    expect(refused).toMatchObject({ code: 'USAGE' });
  });

  it('a shard whose share is empty exits 0; a run that selected nothing, or whose check found problems, does not', () => {
    expect(runExitCode({ drives: 0, failed: 0, emptyShare: true })).toBe(0);
    expect(runExitCode({ drives: 0, failed: 0 })).toBe(1);
    expect(runExitCode({ drives: 0, failed: 0, emptyShare: true, checkProblems: 2 })).toBe(1);
  });
});
