import type { CommandModule } from 'yargs';
import { prune } from '../../ops/prune.js';
import { formatBytes } from '../../util/size.js';
import { Output } from '../output.js';
import { type RepoArgs, withRepoOptions, withRepository } from '../repo-context.js';
import { waitLock, withNumbers } from '../options.js';

interface PruneArgs extends RepoArgs {
  'dry-run': boolean;
  'wait-lock'?: number;
}

export const command: CommandModule<object, PruneArgs> = {
  command: 'prune',
  describe: 'Delete chunks that no snapshot references, and uploads interrupted backups left (takes the exclusive lock)',
  builder: (y) =>
    withNumbers(withRepoOptions(y), { 'wait-lock': waitLock() })
      .option('dry-run', { type: 'boolean', default: false, description: 'Only say what would be deleted' }) as never,
  handler: async (args) => {
    const out = new Output(args);
    await withRepository(args, async (repo) => {
      const warned = repo.warnings.length;
      const r = await pruneWith(repo, args);
      for (const w of repo.warnings.slice(warned)) out.warn(w);
      const { count, bytes } = r.leftovers;
      const leftovers = count > 0 ? `; ${r.dryRun ? 'would delete' : 'deleted'} ${count} unfinished upload(s) of interrupted backups (${formatBytes(bytes)})` : '';
      out.result(
        r,
        r.dryRun
          ? `would delete ${r.deleted === 0 ? r.stored - r.referenced : r.deleted} unreferenced chunk(s), freeing ${formatBytes(r.freedBytes)}${leftovers}`
          : `deleted ${r.deleted} unreferenced chunk(s), freed ${formatBytes(r.freedBytes)}; ${r.stored - r.deleted} chunks remain${leftovers}`,
      );
    });
  },
};

export function pruneWith(repo: Parameters<typeof prune>[0], args: PruneArgs) {
  return prune(repo, { dryRun: args['dry-run'], waitMs: args['wait-lock'] !== undefined ? args['wait-lock'] * 1000 : undefined });
}
