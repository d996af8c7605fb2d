import { hostname } from 'node:os';
import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { DrivesnapError, ExitCode, UsageError, errorMessage } from '../../errors.js';
import { backup } from '../../engine/jobs/backup.js';
import { Clients, type OpenedSource, openSource } from '../open-ends.js';
import { Output } from '../output.js';
import { progressView, summarize } from '../progress-view.js';
import { type RepoArgs, withRepoOptions, withRepository } from '../repo-context.js';

interface BackupArgs extends RepoArgs {
  locations: string[];
  tag?: string[];
  all?: string;
  'tag-filter'?: string[];
  concurrency: number;
}

export const command: CommandModule<object, BackupArgs> = {
  command: 'backup [locations..]',
  describe: 'Back up drives or image files into new snapshots (incremental: only new chunks are stored)',
  builder: (y) =>
    withRepoOptions(y)
      .positional('locations', { type: 'string', array: true, description: 'ACCOUNT:DRIVE or an image file path' })
      .option('tag', { type: 'string', array: true, description: 'Tag the new snapshots (repeatable)' })
      .option('all', { type: 'string', description: 'Back up every drive of ACCOUNT: (with --tag-filter to narrow)' })
      .option('tag-filter', { type: 'string', array: true, description: 'With --all: only drives carrying this tag' })
      .option('concurrency', { type: 'number', default: 8, description: 'Ranges in flight at once' }) as never,
  handler: async (args) => {
    const out = new Output(args);
    const locations = [...(args.locations ?? [])];
    const clients = new Clients(args.concurrency);
    try {
      if (args.all) locations.push(...(await allDrives(args.all, args['tag-filter'] ?? [], clients)));
      if (locations.length === 0) throw new UsageError('name what to back up: ACCOUNT:DRIVE, a file path, or --all ACCOUNT:');
      const failed: string[] = [];
      await withRepository(args, async (repo) => {
        for (const text of locations) {
          const view = progressView(out, text);
          try {
            const opened = await openSource(text, clients);
            const claimed = (opened.drive?.claimed.length ?? 0) > 0;
            if (claimed) {
              out.warn(`${text} is in use by a running server (${opened.drive!.claimed.join(' ')}): the backup is crash-consistent only`);
            }
            const result = await backup({
              repo,
              source: opened.source,
              target: targetOf(opened, claimed),
              tags: args.tag,
              concurrency: args.concurrency,
              onProgress: (p) => view.update(p),
              extra: claimed ? { claimedBy: opened.drive!.claimed } : {},
            }).finally(() => opened.source.close());
            view.stop();
            const s = result.progress.snapshot();
            out.event({ event: 'snapshot', location: text, snapshot: result.snapshotId, ...s });
            out.info(`${summarize(`snapshot ${result.snapshotId.slice(0, 12)} of ${text}`, s)}`);
          } catch (err) {
            view.stop();
            failed.push(text);
            out.event({ event: 'error', location: text, code: (err as DrivesnapError).code ?? 'INTERNAL', message: errorMessage(err) });
            process.stderr.write(`drivesnap: backup of ${text} failed: ${errorMessage(err)}\n`);
            if (locations.length === 1) throw err;
          }
        }
      });
      if (failed.length > 0) {
        process.exitCode = failed.length === locations.length ? ExitCode.failure : ExitCode.partial;
      }
    } finally {
      await clients.close();
    }
  },
};

function targetOf(opened: OpenedSource, claimed: boolean) {
  const loc = opened.location;
  if (loc.kind === 'drive' && opened.drive && opened.client) {
    return { driveUuid: opened.drive.uuid, driveName: opened.drive.name, account: loc.account, endpoint: opened.client.url, claimed };
  }
  const path = loc.kind === 'file' ? resolve(loc.path) : opened.source.description;
  return { driveUuid: `file:${path}`, driveName: path, account: 'file', endpoint: hostname(), claimed: false };
}

async function allDrives(accountText: string, tags: string[], clients: Clients): Promise<string[]> {
  const account = accountText.replace(/:$/, '');
  if (!account || account.includes('/')) throw new UsageError(`--all takes an account name such as eh: (got ${accountText})`);
  const client = await clients.get(account);
  const drives = (await client.listDriveInfo()).filter((d) => tags.every((t) => d.tags.includes(t)));
  if (drives.length === 0) {
    throw new DrivesnapError('NO_DRIVES', `account ${account} has no drives${tags.length ? ` tagged ${tags.join(', ')}` : ''}`, ExitCode.failure);
  }
  return drives.map((d) => `${account}:${d.uuid}`);
}

