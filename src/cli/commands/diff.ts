/** `drivesnap diff SNAP1 SNAP2`: which byte ranges changed between two snapshots, from their chunk tables. */
import type { CommandModule } from 'yargs';
import { snapshotDriveSelector } from '../../config/locations.js';
import { diffTables } from '../../ops/diff.js';
import { formatBytes } from '../../util/size.js';
import { Output, table } from '../output.js';
import { type RepoArgs, withRepoOptions, withRepository } from '../repo-context.js';

interface DiffArgs extends RepoArgs {
  snap1: string;
  snap2: string;
  drive?: string;
}

export const command: CommandModule<object, DiffArgs> = {
  command: 'diff <snap1> <snap2>',
  describe: 'Show the byte ranges that changed between two snapshots (no data is read)',
  builder: (y) =>
    withRepoOptions(y)
      .positional('snap1', { type: 'string', demandOption: true, description: 'The older snapshot (id, prefix or latest)' })
      .positional('snap2', { type: 'string', demandOption: true, description: 'The newer snapshot' })
      .option('drive', { type: 'string', description: 'Which drive `latest` means' }) as never,
  handler: async (args) => {
    const out = new Output(args);
    await withRepository(args, async (repo) => {
      // Tables and sizes from the authenticated manifests: the index is only a cache.
      const drive = args.drive === undefined ? undefined : snapshotDriveSelector(args.drive);
      const a = await repo.authenticSnapshot(repo.resolveSnapshot(args.snap1, drive).id);
      const b = await repo.authenticSnapshot(repo.resolveSnapshot(args.snap2, drive).id);
      const d = diffTables(
        { table: a.table, size: a.meta.size, chunkSize: repo.config.chunkSize },
        { table: b.table, size: b.meta.size, chunkSize: repo.config.chunkSize },
      );
      const summary =
        `${d.changedRanges} of ${d.changedRanges + d.unchangedRanges} range(s) differ: ` +
        `${formatBytes(d.changedBytes)} changed` +
        (d.addedBytes ? `, ${formatBytes(d.addedBytes)} added` : '') +
        (d.removedBytes ? `, ${formatBytes(d.removedBytes)} removed` : '');
      const text =
        d.changes.length === 0
          ? `${a.id.slice(0, 12)} and ${b.id.slice(0, 12)} hold the same content`
          : `${table(
              ['Start', 'End', 'Length', 'Kind'],
              d.changes.map((c) => [c.start, c.end, formatBytes(c.end - c.start), c.kind]),
            )}\n${summary}`;
      out.result({ snapshot1: a.id, snapshot2: b.id, ...d }, text);
    });
  },
};
