/**
 * Where `copy` keeps its CopyRecord (what it last copied between two API drives, issue 11 §2) for the next
 * copy between the same two drives: in the host's jobs database, through the job-record interface it
 * already offers (one record per drive pair; its info holds the recorded states, its progress the table).
 * Written table first and info last, so a record cut short by a crash reads as no record.
 */
import { z } from 'zod';
import { ID_BYTES } from '../repo/format/index.js';
import type { JobRecords } from '../repo/interfaces.js';
import type { CopyRecord, RecordedState } from './change-detection.js';

/**
 * How a table's ids were computed, ZERO_ID for all-zero ranges either way: plain SHA-256 of each range, or
 * (hmacForm) HMAC-SHA-256 under an encrypted repository's id key, so that the repository's snapshots of
 * the source can serve as baselines. A record in another form than this copy's is no record.
 */
export const COPY_TABLE_FORM = 'sha256';

/** The form of a repository's chunk ids: COPY_TABLE_FORM for a plain one, keyed by the repository's id otherwise. */
export function repositoryIdForm(config: { idHash: 'sha256' | 'hmac-sha256'; id: string }): string {
  return config.idHash === 'sha256' ? COPY_TABLE_FORM : `hmac-sha256:${config.id}`;
}

/** One end of the copy: the drive's UUID on an endpoint (UUIDs are unique per endpoint only). */
export interface DriveKey {
  endpoint: string;
  uuid: string;
}

export function copyRecordKey(source: DriveKey, target: DriveKey): string {
  return `copy-record:${source.endpoint}#${source.uuid}>${target.endpoint}#${target.uuid}`;
}

const counter = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const counters = z.object({ readBytes: counter, readRequests: counter, writeBytes: counter, writeRequests: counter });
const recorded = z.object({ size: counter, counters: counters.optional(), imagingMarker: z.string().optional(), readAt: z.string() });
const infoSchema = z.object({
  copyRecord: z.literal(1),
  form: z.string(),
  chunkSize: counter,
  ranges: counter,
  sourceUuid: z.string(),
  targetUuid: z.string(),
  source: recorded,
  target: recorded,
});

function stateOf(s: z.infer<typeof recorded>): RecordedState {
  const out: RecordedState = { size: s.size, readAt: s.readAt };
  if (s.counters) out.counters = s.counters;
  if (s.imagingMarker !== undefined) out.imagingMarker = s.imagingMarker;
  return out;
}

/** What a table's ids are: ranges of chunkSize bytes, hashed in `form`. */
export interface TableForm {
  chunkSize: number;
  form: string;
}

/** The record kept for this drive pair in this table form, or undefined (none, cut short, or another form). */
export function loadCopyRecord(records: JobRecords, source: DriveKey, target: DriveKey, form: TableForm): CopyRecord | undefined {
  const key = copyRecordKey(source, target);
  const parsed = infoSchema.safeParse(records.jobInfo(key));
  if (!parsed.success || parsed.data.chunkSize !== form.chunkSize || parsed.data.form !== form.form) return undefined;
  const info = parsed.data;
  const progress = records.jobProgress(key);
  if (progress.size !== info.ranges) return undefined;
  const table = Buffer.alloc(info.ranges * ID_BYTES);
  for (let i = 0; i < info.ranges; i++) {
    const id = progress.get(i);
    if (!id || id.length !== ID_BYTES) return undefined;
    id.copy(table, i * ID_BYTES);
  }
  return { sourceUuid: info.sourceUuid, targetUuid: info.targetUuid, source: stateOf(info.source), target: stateOf(info.target), table };
}

export function saveCopyRecord(records: JobRecords, source: DriveKey, target: DriveKey, form: TableForm, record: CopyRecord): void {
  const key = copyRecordKey(source, target);
  records.endJob(key);
  const ranges = record.table.length / ID_BYTES;
  const entries = Array.from({ length: ranges }, (_, range) => ({ range, id: record.table.subarray(range * ID_BYTES, (range + 1) * ID_BYTES) }));
  records.checkpoint(key, entries);
  records.beginJob(key, {
    copyRecord: 1,
    form: form.form,
    chunkSize: form.chunkSize,
    ranges,
    sourceUuid: record.sourceUuid,
    targetUuid: record.targetUuid,
    source: record.source,
    target: record.target,
  });
}

/** Drops the record: the copy it described no longer holds (or cannot be proven to). */
export function forgetCopyRecord(records: JobRecords, source: DriveKey, target: DriveKey): void {
  records.endJob(copyRecordKey(source, target));
}
