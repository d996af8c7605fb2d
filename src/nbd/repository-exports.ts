/**
 * Snapshots of a repository as NBD exports: each resolved the way `restore` resolves it, its chunk table
 * and size taken from the authenticated manifest (never from the index cache), its chunks read through the
 * format's own decoder (envelope, decryption, gzip and id all checked).
 */
import pLimit from 'p-limit';
import { cpuSlots } from '../engine/pipeline.js';
import { DrivesnapError } from '../errors.js';
import type { Repository } from '../repo/repository.js';
import { ObjectNotFoundError } from '../store/errors.js';
import type { ChunkCache } from './chunk-cache.js';
import type { NbdExport } from './server.js';
import { type ChunkLoader, SnapshotSource } from './snapshot-source.js';

export interface ExportOptions {
  cache: ChunkCache;
  /** Ranges read ahead of a sequential reader. */
  readAhead: number;
  log: (line: string) => void;
}

export function repositoryChunkLoader(repo: Repository): ChunkLoader {
  return async (id, length) => {
    let data: Buffer;
    try {
      data = await repo.readChunk(id);
    } catch (err) {
      if (err instanceof ObjectNotFoundError) throw new Error('it is missing from the repository (run `drivesnap check`)');
      throw err;
    }
    if (data.length !== length) throw new Error(`it holds ${data.length} bytes where the snapshot has a ${length}-byte range (run \`drivesnap check\`)`);
    return data;
  };
}

/** One export per reference (id, unique prefix, or `latest` with `drive`), named by the full snapshot id. */
export async function snapshotExports(repo: Repository, refs: string[], drive: string | undefined, o: ExportOptions): Promise<NbdExport[]> {
  const load = repositoryChunkLoader(repo);
  const loadLimit = pLimit(cpuSlots());
  const out: NbdExport[] = [];
  for (const ref of refs) {
    const row = repo.resolveSnapshot(ref, drive);
    if (out.some((e) => e.name === row.id)) continue;
    const { meta, table } = await repo.loadManifest(row.id);
    if (meta.size === 0) throw new DrivesnapError('SNAPSHOT_EMPTY', `snapshot ${row.id.slice(0, 12)} is of an empty drive: there is nothing to serve`);
    const source = new SnapshotSource({
      id: row.id,
      layout: { size: meta.size, chunkSize: meta.chunkSize, table },
      load,
      cache: o.cache,
      loadLimit,
      readAhead: o.readAhead,
      log: o.log,
    });
    out.push({ name: row.id, description: `${meta.accountName}:${meta.driveName} at ${meta.time}`, source });
  }
  return out;
}
