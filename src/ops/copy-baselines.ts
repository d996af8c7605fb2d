/**
 * A copy's other way to know what the source holds without reading it (issue 11 §2): the newest snapshot
 * of the source drive in a repository whose recorded state the drive still matches (counters unchanged
 * since that snapshot). Its table must be in the form the copy hashes ranges in: the copy then hashes with
 * the repository's chunkId (repositoryIdForm).
 */
import { jobLock } from '../engine/job-runner.js';
import { ID_BYTES } from '../repo/format/index.js';
import type { Repository } from '../repo/repository.js';
import { type DriveState, type SourceBaseline, changeReason, recordedStateFromExtra } from './change-detection.js';
import { type DriveKey, type TableForm, repositoryIdForm } from './copy-record-store.js';

export async function snapshotBaselines(
  repo: Pick<Repository, 'config' | 'chunkSize' | 'lock' | 'sync' | 'listSnapshots' | 'provenTable'>,
  source: DriveKey,
  state: DriveState,
  o: TableForm & { signal?: AbortSignal },
): Promise<SourceBaseline[]> {
  if (repositoryIdForm(repo.config) !== o.form || repo.chunkSize !== o.chunkSize) return [];
  // The shared lock, so the index is brought up to date as every job does; the table is proven against its id.
  const lock = await jobLock(repo, o.signal, `copy baseline of ${source.uuid}`);
  try {
    await repo.sync();
    const rows = repo.listSnapshots({ driveUuid: source.uuid }).filter((r) => r.endpoint === source.endpoint);
    for (const row of rows.reverse()) {
      const recorded = recordedStateFromExtra((row.meta as { extra?: Record<string, unknown> }).extra ?? {});
      if (!recorded || changeReason(recorded, state) !== undefined) continue;
      const table = await repo.provenTable(row.id);
      if (table.length === Math.ceil(state.size / o.chunkSize) * ID_BYTES) return [{ recorded, table }];
    }
    return [];
  } finally {
    await lock.release();
  }
}
