import type { CommandModule } from 'yargs';
import { DrivesnapError, ExitCode, UsageError } from '../../errors.js';
import { describeKeyFile } from '../../repo/format/index.js';
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
      const keys: { id: string; created: string; host: string; user: string }[] = [];
      for await (const o of repo.store.list('keys/')) {
        const id = o.name.slice('keys/'.length);
        keys.push({ id, ...describeKeyFile(await repo.store.get(o.name), o.name) });
      }
      if (args.action === 'list') {
        out.result(keys, keys.length === 0 ? 'no keys: the repository is not encrypted' : table(['ID', 'Created', 'Host', 'User'], keys.map((k) => [k.id, k.created, k.host, k.user])));
      } else if (args.action === 'add') {
        const password = await readPassword(args, 'DRIVESNAP_NEW_PASSWORD', args['new-password-file']);
        if (!password) throw new UsageError('give the new password in a file (--new-password-file) or $DRIVESNAP_NEW_PASSWORD');
        const id = await repo.addKey(password);
        out.result({ added: id }, `added key ${id}`);
      } else {
        if (!args.id) throw new UsageError('key remove needs the key id (see `drivesnap key list`)');
        const matches = keys.filter((k) => k.id.startsWith(args.id!));
        if (matches.length !== 1) {
          throw new DrivesnapError('KEY_NOT_FOUND', matches.length ? `key id ${args.id} is ambiguous` : `no key ${args.id}`, ExitCode.usage);
        }
        if (keys.length === 1) {
          throw new DrivesnapError('LAST_KEY', 'refusing to remove the only key: the repository would be unreadable; add another first', ExitCode.usage);
        }
        await repo.store.delete(`keys/${matches[0]!.id}`);
        out.result({ removed: matches[0]!.id }, `removed key ${matches[0]!.id}`);
      }
    });
  },
};
