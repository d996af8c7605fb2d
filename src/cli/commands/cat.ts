import type { CommandModule } from 'yargs';
import { UsageError } from '../../errors.js';
import { Output } from '../output.js';
import { type RepoArgs, withRepoOptions, withRepository } from '../repo-context.js';

interface CatArgs extends RepoArgs {
  what: string;
  id?: string;
}

export const command: CommandModule<object, CatArgs> = {
  command: 'cat <what> [id]',
  describe: 'Print a repository object as JSON, for debugging: config, snapshot ID, keys, locks',
  builder: (y) =>
    withRepoOptions(y)
      .positional('what', { choices: ['config', 'snapshot', 'keys', 'locks'] as const, demandOption: true })
      .positional('id', { type: 'string', description: 'Snapshot id or unique prefix' }) as never,
  handler: async (args) => {
    await withRepository(args, async (repo) => {
      let value: unknown;
      if (args.what === 'config') value = repo.config;
      else if (args.what === 'snapshot') {
        if (!args.id) throw new UsageError('cat snapshot needs a snapshot id');
        const row = repo.resolveSnapshot(args.id);
        const m = await repo.loadManifest(row.id);
        const chunks: (string | null)[] = [];
        for (let i = 0; i < m.table.length; i += 32) {
          const id = m.table.subarray(i, i + 32);
          chunks.push(id.every((b) => b === 0) ? null : id.toString('hex'));
        }
        value = { id: row.id, meta: m.meta, chunks };
      } else if (args.what === 'keys') {
        value = await repo.listKeys();
      } else value = await repo.listLocks();
      // --json: one object on one line, as every command's --json; else indented for reading.
      new Output(args).result(value, JSON.stringify(value, null, 2));
    });
  },
};
