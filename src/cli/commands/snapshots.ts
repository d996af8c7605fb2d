import type { CommandModule } from 'yargs';
import { snapshotDriveSelector } from '../../config/locations.js';
import { describeMadeBy } from '../../ops/change-detection.js';
import { madeOf } from '../../ops/stats.js';
import type { SnapshotRow } from '../../repo/index-rows.js';
import { isSnapshotOfDrive } from '../../repo/repository.js';
import { formatBytes } from '../../util/size.js';
import { Output, table } from '../output.js';
import { type RepoArgs, withRepoOptions, withRepository } from '../repo-context.js';

interface SnapshotsArgs extends RepoArgs {
  drive?: string;
  tag?: string;
  host?: string;
}

export const command: CommandModule<object, SnapshotsArgs> = {
  command: 'snapshots',
  describe: 'List snapshots, oldest first',
  builder: (y) =>
    withRepoOptions(y)
      .option('drive', { type: 'string', description: 'Only snapshots of this drive (UUID, name, or image file path)' })
      .option('tag', { type: 'string', description: 'Only snapshots with this tag' })
      .option('host', { type: 'string', description: 'Only snapshots taken on this host' }) as never,
  handler: async (args) => {
    const out = new Output(args);
    await withRepository(args, async (repo) => {
      let rows = repo.listSnapshots({ tag: args.tag, host: args.host });
      if (args.drive) {
        const drive = snapshotDriveSelector(args.drive);
        rows = rows.filter((s) => isSnapshotOfDrive(s, drive));
      }
      const text =
        rows.length === 0
          ? 'no snapshots'
          : table(
              ['ID', 'Time', 'Drive', 'Account', 'Size', 'Ranges (zero/new)', 'Made', 'Tags'],
              rows.map((s) => [
                s.id.slice(0, 12),
                s.time.replace('T', ' ').slice(0, 19),
                s.driveName,
                s.account,
                formatBytes(s.size),
                `${s.chunkCount} (${s.zeroCount}/${s.newCount})${s.claimed ? ' claimed' : ''}`,
                madeBy(s) ?? '',
                s.tags.join(','),
              ]),
            );
      out.result(
        rows.map(({ meta: _meta, metaJson: _metaJson, ...s }) => ({ ...s, made: madeBy({ meta: _meta }) ?? null })),
        text,
      );
    });
  },
};

/** How an API drive's snapshot was made (`full read`, `counters + 4 sampled`); undefined for older ones and files. */
function madeBy(row: Pick<SnapshotRow, 'meta'>): string | undefined {
  return describeMadeBy(madeOf(row.meta).made);
}
