import type { CommandModule } from 'yargs';
import { Repository } from '../../repo/repository.js';
import { Output } from '../output.js';
import { type RepoArgs, indexPathFor, openRepoStore, readPassword, withRepoOptions } from '../repo-context.js';
import { withNumbers } from '../options.js';

interface InitArgs extends RepoArgs {
  encryption: boolean;
  'compression-level'?: number;
}

export const command: CommandModule<object, InitArgs> = {
  command: 'init',
  describe: 'Create a repository (encrypted unless --no-encryption)',
  builder: (y) =>
    withNumbers(withRepoOptions(y), { 'compression-level': { description: 'gzip level 1-9 for stored chunks (default 3; 2 is faster, ~9% larger)', min: 1, max: 9 } })
      .option('encryption', {
        type: 'boolean',
        default: true,
        description: 'Encrypt chunks and manifests (--no-encryption makes a plain repository on purpose)',
      }) as never,
  handler: async (args) => {
    const out = new Output(args);
    const { store, location } = await openRepoStore(args);
    const repo = await Repository.init(store, {
      encrypted: args.encryption,
      password: await readPassword(args),
      compressionLevel: args['compression-level'],
      indexPath: indexPathFor(location),
    }).catch(async (err) => {
      await store.close();
      throw err;
    });
    try {
      const c = repo.config;
      out.result(
        { repository: location, id: c.id, encryption: c.encryption, chunkSize: c.chunkSize, compression: c.compression },
        `created repository ${c.id} at ${location} (${c.encryption === 'none' ? 'not encrypted' : c.encryption}, gzip level ${c.compression.level})` +
          (c.encryption === 'none' ? '' : '\nKeep the password safe: without it the data cannot be read back.'),
      );
    } finally {
      await repo.close();
    }
  },
};
