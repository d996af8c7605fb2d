import type { CommandModule } from 'yargs';
import { listLocks, removeAllLocks, removeStaleLocks } from '../../repo/locks.js';
import { Output } from '../output.js';
import { type RepoArgs, openRepoStore, withRepoOptions } from '../repo-context.js';

interface UnlockArgs extends RepoArgs {
  'remove-all': boolean;
}

export const command: CommandModule<object, UnlockArgs> = {
  command: 'unlock',
  describe: 'Remove stale locks (--remove-all: every lock; only when no other drivesnap uses the repository)',
  builder: (y) =>
    withRepoOptions(y).option('remove-all', { type: 'boolean', default: false, description: 'Remove every lock, stale or not' }) as never,
  handler: async (args) => {
    const out = new Output(args);
    // Locks are plain objects: no password is needed to see or remove them.
    const { store } = await openRepoStore(args);
    try {
      const before = await listLocks(store);
      const removed = args['remove-all'] ? await removeAllLocks(store) : await removeStaleLocks(store);
      out.result({ removed, remaining: before.length - removed }, `removed ${removed} lock(s); ${before.length - removed} remain`);
    } finally {
      await store.close();
    }
  },
};
