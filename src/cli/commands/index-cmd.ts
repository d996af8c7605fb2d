import type { CommandModule } from 'yargs';
import { Output } from '../output.js';
import { type RepoArgs, withRepoOptions, withRepository } from '../repo-context.js';

interface IndexArgs extends RepoArgs {
  action: string;
}

export const command: CommandModule<object, IndexArgs> = {
  command: 'index <action>',
  describe: 'Rebuild the SQLite index from the repository alone (index rebuild)',
  builder: (y) => withRepoOptions(y).positional('action', { choices: ['rebuild'] as const, demandOption: true }) as never,
  handler: async (args) => {
    const out = new Output(args);
    await withRepository(args, async (repo) => {
      const lock = await repo.lock(false);
      try {
        const result = await repo.rebuildIndex();
        const { path, chunks, storedBytes } = repo.indexSummary();
        const summary = { snapshots: result.added, chunks, storedBytes, path };
        out.result(summary, `rebuilt the index at ${summary.path}: ${summary.snapshots} snapshots, ${summary.chunks} chunks`);
      } finally {
        await lock.release();
      }
    });
  },
};
