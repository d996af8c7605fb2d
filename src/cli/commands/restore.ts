import type { CommandModule } from 'yargs';
import { parseLocation, snapshotDriveSelector } from '../../config/locations.js';
import { UsageError } from '../../errors.js';
import { fileExists } from '../../engine/ends/file.js';
import { gzipCodecName } from '../../engine/codec.js';
import { restore, restoreJob } from '../../engine/jobs/restore.js';
import { type PlannedRestore, describeRestorePlan, planRestoreOnto } from '../../ops/rollback.js';
import { Clients, creationIn, openSink, runOntoSink } from '../open-ends.js';
import { Output } from '../output.js';
import { stopSignal } from '../stop.js';
import { progressView, summarize } from '../progress-view.js';
import { type RepoArgs, withRepoOptions, withRepository } from '../repo-context.js';
import { concurrency, withNumbers } from '../options.js';

interface RestoreArgs extends RepoArgs {
  snapshot: string;
  to?: string;
  'to-new'?: string;
  drive?: string;
  verify: boolean;
  force: boolean;
  'read-all': boolean;
  concurrency: number;
}

export const command: CommandModule<object, RestoreArgs> = {
  command: 'restore <snapshot>',
  describe: 'Restore a snapshot onto a drive or image file (only differing ranges are written)',
  builder: (y) =>
    withNumbers(withRepoOptions(y), { concurrency: concurrency() })
      .positional('snapshot', { type: 'string', demandOption: true, description: 'Snapshot id, unique prefix, or latest' })
      .option('to', { type: 'string', description: 'Existing drive (ACCOUNT:DRIVE) or image file to restore onto, or - to stream the snapshot to stdout' })
      .option('to-new', { type: 'string', description: 'Create ACCOUNT:NAME (or a new image file) of the snapshot size and restore into it' })
      .option('drive', { type: 'string', description: 'With latest: the drive whose latest snapshot to restore' })
      .option('verify', { type: 'boolean', default: false, description: 'Read the target back and compare with the snapshot' })
      .option('force', { type: 'boolean', default: false, description: 'Skip the check that no running server uses the target drive' })
      .option('read-all', {
        type: 'boolean',
        default: false,
        description: 'Read and compare every range of an existing drive even when a snapshot of it proves its content (no rollback)',
      })
      .conflicts('to', 'to-new')
      .check((a) => {
        if (!a.to && !a['to-new']) throw new UsageError('say where to restore: --to LOC or --to-new ACCOUNT:NAME');
        if (a.verify && a.to === '-') throw new UsageError('--verify reads the target back, and stdout (-) cannot be read: restore to a file or drive to verify');
        return true;
      }) as never,
  handler: async (args) => {
    const out = new Output(args);
    const clients = new Clients(args.concurrency);
    try {
      await withRepository(args, async (repo) => {
        // The table and size come from the authenticated manifest, never from the index alone.
        const warned = repo.warnings.length;
        const snapshot = await repo.authenticSnapshot(repo.resolveSnapshot(args.snapshot, args.drive === undefined ? undefined : snapshotDriveSelector(args.drive)).id);
        for (const w of repo.warnings.slice(warned)) out.warn(w);
        const targetText = args['to-new'] ?? args.to!;
        const loc = parseLocation(targetText);
        const creation = creationIn(repo.jobs, (description) => restoreJob({ id: snapshot.id, size: snapshot.meta.size }, description));
        // An image file that does not exist yet, or that an interrupted run of this restore created, is a
        // new target, as with --to-new.
        const create =
          args['to-new'] !== undefined || (loc.kind === 'file' && (!(await fileExists(loc.path)) || creation.recall(loc.path) !== undefined));
        const opened = await openSink(targetText, clients, {
          createSize: create ? snapshot.meta.size : undefined,
          force: args.force,
          creation,
          // Inflate and the re-hash of each range run while the writes go out: the flushes hide behind them.
          flushWhileWriting: true,
        });
        const view = progressView(out, targetText);
        try {
          let planned: PlannedRestore | undefined;
          const result = await runOntoSink(opened, creation, async (sink) => {
            const signal = stopSignal();
            if (opened.drive && !opened.created && !sink.startsZeroed && loc.kind === 'drive') {
              const client = await clients.get(loc.account);
              // Read just before the sample and the first write: a write after this moves the counters.
              const drive = await client.driveInfo(opened.drive.uuid);
              planned = await planRestoreOnto({
                repo,
                sink,
                drive,
                endpoint: client.url,
                snapshotTable: snapshot.table,
                readAll: args['read-all'],
                concurrency: args.concurrency,
                signal,
              });
            }
            const rollback = planned?.plan.kind === 'rollback' ? planned.plan : undefined;
            return restore({
              repo,
              snapshot,
              sink,
              concurrency: args.concurrency,
              verify: args.verify,
              differingRanges: rollback?.write,
              plannedRead: planned?.sampledBytes,
              onProgress: (p) => view.update(p),
              signal,
            });
          });
          view.stop();
          const s = result.progress.snapshot();
          const plan = planned ? describeRestorePlan(planned.plan) : create ? 'new target' : 'read and compare';
          out.result(
            {
              snapshot: snapshot.id,
              target: targetText,
              codec: gzipCodecName(),
              created: opened.created,
              drive: opened.drive?.uuid,
              plan,
              verified: result.verified?.ranges,
              ...s,
            },
            summarize(`restored ${snapshot.id.slice(0, 12)} onto ${targetText}${opened.created ? ' (new)' : ''}`, s) +
              `\nplan: ${plan}` +
              (result.verified ? `\nverified: all ${result.verified.ranges} ranges match the snapshot` : ''),
          );
        } finally {
          view.stop();
          await opened.sink.close();
        }
      });
    } finally {
      await clients.close();
    }
  },
};
