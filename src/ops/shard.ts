/**
 * `run --shard K/N`: host K of N backs up a deterministic share of a job's drives, so several hosts can
 * share one repository. A drive's shard is a hash of its UUID (not its place in the list): adding,
 * removing or reordering drives moves no other drive to another host, and every host agrees without
 * talking to the others. Pure, tested directly (test/ops/shard.test.ts).
 */
import { createHash } from 'node:crypto';
import { UsageError } from '../errors.js';

export interface Shard {
  /** 1-based: this host's number. */
  index: number;
  count: number;
}

/** `K/N` with 1 <= K <= N; a UsageError naming the option otherwise. */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : Number.NaN;
  const count = m ? Number(m[2]) : Number.NaN;
  if (!m || count < 1 || count > 1024 || index < 1 || index > count) {
    throw new UsageError(`--shard takes K/N with 1 <= K <= N <= 1024, e.g. 1/2 for the first of two hosts (got ${text})`);
  }
  return { index, count };
}

/** The shard (1..count) a drive belongs to. */
export function shardOf(driveUuid: string, count: number): number {
  const digest = createHash('sha256').update(driveUuid).digest();
  return (digest.readUInt32BE(0) % count) + 1;
}

export function inShard(driveUuid: string, shard: Shard): boolean {
  return shardOf(driveUuid, shard.count) === shard.index;
}
