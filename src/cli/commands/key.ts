import type { CommandModule } from 'yargs';
import { UsageError } from '../../errors.js';
import { Output, table } from '../output.js';
import { type RepoArgs, readPassword, withRepoOptions, withRepository } from '../repo-context.js';

interface KeyArgs extends RepoArgs {
  action: string;
  id?: string;
  'new-password-file'?: string;
}

export const command: CommandModule<object, KeyArgs> = {
  command: 'key <action> [id]',
  describe: 'Manage the passwords of an encrypted repository: add, list, remove ID',
  builder: (y) =>
    withRepoOptions(y)
      .positional('action', { choices: ['add', 'list', 'remove'] as const, demandOption: true })
      .positional('id', { type: 'string', description: 'Key id (remove)' })
      .option('new-password-file', {
        type: 'string',
        description: 'File holding the password to add (default: $DRIVESNAP_NEW_PASSWORD)',
      }) as never,
  handler: async (args) => {
    const out = new Output(args);
    await withRepository(args, async (repo) => {
      if (args.action === 'list') {
        const keys = await repo.listKeys();
        out.result(keys, keys.length === 0 ? 'no keys: the repository is not encrypted' : table(['ID', 'Created', 'Host', 'User'], keys.map((k) => [k.id, k.created, k.host, k.user])));
      } else if (args.action === 'add') {
        const password = await readPassword(args, 'DRIVESNAP_NEW_PASSWORD', args['new-password-file']);
        if (!password) throw new UsageError('give the new password in a file (--new-password-file) or $DRIVESNAP_NEW_PASSWORD');
        const id = await repo.addKey(password);
        out.result({ added: id }, `added key ${id}`);
      } else {
        if (!args.id) throw new UsageError('key remove needs the key id (see `drivesnap key list`)');
        const removed = await repo.removeKey(args.id);
        out.result({ removed }, `removed key ${removed}`);
      }
    });
  },
};
