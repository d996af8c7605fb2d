/**
 * `drivesnap stats`: logical size, stored size and dedup ratio per drive and for the repository
 * (figures defined in src/ops/stats.ts), and the gzip codec this host compresses chunks with.
 */
import type { CommandModule } from 'yargs';
import { computeStats, compressionLine } from '../../ops/stats.js';
import { gzipCodecLabel } from '../../repo/format/index.js';
import type { Repository } from '../../repo/repository.js';
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
      const rows = repo.index
        .listSnapshots()
        .filter((s) => !args.drive || s.driveUuid === args.drive || s.driveName === args.drive);
      const snapshots = rows.map((s) => ({
        id: s.id,
        driveUuid: s.driveUuid,
        driveName: s.driveName,
        size: s.size,
        table: repo.index.snapshotTable(s.id) ?? Buffer.alloc(0),
      }));
      const sizes = await chunkSizes(repo);
      const { level } = repo.config.compression;
      const compression = { type: 'gzip' as const, level, codec: gzipCodecLabel(level) };
      const st = computeStats({ snapshots, storedSize: (hex) => sizes.get(hex), chunkSize: repo.config.chunkSize, compression });
      const r = st.repository;
      const ratio = (x: number) => `${x.toFixed(2)}x`;
      const text = [
        table(
          ['Drive', 'Snapshots', 'Logical', 'Chunks', 'Stored', 'Dedup'],
          st.perDrive.map((d) => [d.driveName, d.snapshots, formatBytes(d.logicalBytes), d.uniqueChunks, formatBytes(d.storedBytes), ratio(d.dedupRatio)]),
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

/**
 * Stored size of each chunk. The index records sizes but RepoIndex offers no per-chunk lookup, so the
 * store's listing (the truth the index caches) gives them: one LIST per thousand chunks on S3.
 */
async function chunkSizes(repo: Repository): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  for await (const o of repo.store.list('chunks/')) {
    const hex = o.name.slice(o.name.lastIndexOf('/') + 1);
    if (/^[0-9a-f]{64}$/.test(hex)) sizes.set(hex, o.size);
  }
  return sizes;
}
