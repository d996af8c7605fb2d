import type { CommandModule } from 'yargs';
import { DrivesnapError, UsageError } from '../../errors.js';
import { checkRepository } from '../../ops/check.js';
import { Output } from '../output.js';
import { type RepoArgs, withRepoOptions, withRepository } from '../repo-context.js';

interface CheckArgs extends RepoArgs {
  'read-data': boolean;
  'read-data-subset'?: string;
  'repair-index': boolean;
}

export function parseSubset(text: string): number {
  const m = /^(\d+(?:\.\d+)?)%$/.exec(text.trim());
  const pct = m ? Number(m[1]) : Number.NaN;
  if (!(pct > 0 && pct <= 100)) throw new UsageError(`--read-data-subset takes a percentage such as 5% (got ${text})`);
  return pct / 100;
}

export const command: CommandModule<object, CheckArgs> = {
  command: 'check',
  describe: 'Verify the repository: structure, and with --read-data(-subset) the chunks themselves',
  builder: (y) =>
    withRepoOptions(y)
      .option('read-data', { type: 'boolean', default: false, description: 'Read every chunk back and check it' })
      .option('read-data-subset', { type: 'string', description: 'Read back this share of the chunks, e.g. 5%' })
      .option('repair-index', { type: 'boolean', default: false, description: 'Rebuild the index from the repository first' }) as never,
  handler: async (args) => {
    const out = new Output(args);
    const readData = args['read-data'] ? 1 : args['read-data-subset'] ? parseSubset(args['read-data-subset']) : 0;
    await withRepository(args, async (repo) => {
      if (args['repair-index']) {
        await repo.rebuildIndex();
        out.info('rebuilt the index from the repository');
      }
      const r = await checkRepository(repo, { readData });
      for (const p of r.problems) {
        out.event({ event: 'problem', ...p });
        if (!out.json) process.stderr.write(`error: ${p.object}: ${p.message}\n`);
      }
      const summary =
        `checked ${r.snapshots} snapshot(s) and ${r.chunks} chunk(s)` +
        (r.chunksRead ? `, read back ${r.chunksRead}` : '') +
        (r.unreferencedChunks ? `; ${r.unreferencedChunks} unreferenced chunk(s) (\`drivesnap prune\` removes them)` : '') +
        `: ${r.problems.length === 0 ? 'no problems found' : `${r.problems.length} problem(s)`}`;
      out.result({ ...r, ok: r.problems.length === 0 }, summary);
      if (r.problems.length > 0) {
        throw new DrivesnapError('CHECK_FAILED', `the repository has ${r.problems.length} problem(s) (listed above)`);
      }
    });
  },
};
