/** The messages between HashPool and its workers: a range is named by its shared memory, never copied. */
import type { KeyObject } from 'node:crypto';

export interface HashWorkerData {
  /** The repository's id key (HMAC-SHA-256); absent for a plain repository (SHA-256). */
  key?: KeyObject;
}

export interface HashRequest {
  seq: number;
  buffer: SharedArrayBuffer;
  offset: number;
  length: number;
}

export type HashReply = { seq: number; id: Uint8Array } | { seq: number; error: string };
