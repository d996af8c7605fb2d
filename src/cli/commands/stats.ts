/**
 * `drivesnap stats`: logical size, stored size and dedup ratio per drive and for the repository
 * (figures defined in src/ops/stats.ts), and the gzip codec this host compresses chunks with.
 */
import type { CommandModule } from 'yargs';
import { snapshotDriveSelector } from '../../config/locations.js';
import { computeStats, compressionLine, madeColumn, madeOf } from '../../ops/stats.js';
import { gzipCodecLabel } from '../../repo/format/index.js';
import { isSnapshotOfDrive, type Repository } from '../../repo/repository.js';
import { formatBytes } from '../../util/size.js';
import { Output, table } from '../output.js';
import { type RepoArgs, withRepoOptions, withRepository } from '../repo-context.js';

interface StatsArgs extends RepoArgs {
  drive?: string;
}

export const command: CommandModule<object, StatsArgs> = {
  command: 'stats',
  describe: 'Sizes and deduplication: logical and stored bytes, per drive and for the repository',
  builder: (y) => withRepoOptions(y).option('drive', { type: 'string', description: 'Only this drive (UUID or name)' }) as never,
  handler: async (args) => {
    const out = new Output(args);
    await withRepository(args, async (repo) => {
      const drive = args.drive === undefined ? undefined : snapshotDriveSelector(args.drive);
      const rows = repo.listSnapshots().filter((s) => drive === undefined || isSnapshotOfDrive(s, drive));
      const snapshots = [];
      for (const s of rows) {
        snapshots.push({ id: s.id, driveUuid: s.driveUuid, driveName: s.driveName, size: s.size, table: await repo.provenTable(s.id), ...madeOf(s.meta) });
      }
      const sizes = await chunkSizes(repo);
      const { level } = repo.config.compression;
      const compression = { type: 'gzip' as const, level, codec: gzipCodecLabel(level) };
      const st = computeStats({ snapshots, storedSize: (hex) => sizes.get(hex), chunkSize: repo.config.chunkSize, compression });
      const r = st.repository;
      const ratio = (x: number) => `${x.toFixed(2)}x`;
      const text = [
        table(
          ['Drive', 'Snapshots', 'Logical', 'Chunks', 'Stored', 'Dedup', 'Made'],
          st.perDrive.map((d) => [
            d.driveName,
            d.snapshots,
            formatBytes(d.logicalBytes),
            d.uniqueChunks,
            formatBytes(d.storedBytes),
            ratio(d.dedupRatio),
            madeColumn(d),
          ]),
        ),
        '',
        `repository: ${r.snapshots} snapshot(s), ${formatBytes(r.logicalBytes)} logical (${formatBytes(r.zeroBytes)} zeros), ` +
          `${r.uniqueChunks} distinct chunk(s) of ${formatBytes(r.uniqueLogicalBytes)} stored in ${formatBytes(r.storedBytes)}; ` +
          `dedup ${ratio(r.dedupRatio)}, compression ${ratio(r.compressionRatio)}` +
          (r.missingChunks ? `; ${r.missingChunks} chunk(s) MISSING: run check` : ''),
        compressionLine(compression),
      ].join('\n');
      out.result(st, text);
    });
  },
};

/** Stored size of each chunk, from the store's listing (the truth the index caches). */
async function chunkSizes(repo: Repository): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  for await (const c of repo.storedChunks()) sizes.set(c.hex, c.size);
  return sizes;
}
