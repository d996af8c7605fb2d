import type { CommandModule } from 'yargs';
import { parseLocation } from '../../config/locations.js';
import { UsageError } from '../../errors.js';
import { copy, copyJob } from '../../engine/jobs/copy.js';
import { openJobsDb } from '../jobs-db.js';
import { Clients, createOrAdoptDrive, creationIn, openSink, openSource, runOntoSink } from '../open-ends.js';
import { type ImagingCloneResult, cloneByImaging, cloneMethod, imagingJob } from '../../ops/clone.js';
import { resolveDrive } from '../../ops/resolve-drive.js';
import { stopSignal } from '../stop.js';
import { Output } from '../output.js';
import { formatDuration, progressView, summarize } from '../progress-view.js';
import { concurrency, withNumbers } from '../options.js';

interface CloneArgs {
  drive: string;
  name: string;
  to?: string;
  concurrency: number;
  json?: boolean;
  quiet?: boolean;
}

export const command: CommandModule<object, CloneArgs> = {
  command: 'clone <drive>',
  describe: "Clone a drive: server-side imaging inside one account, else a copy to the other account",
  builder: (y) =>
    withNumbers(y, { concurrency: concurrency('Ranges in flight when copying') })
      .positional('drive', { type: 'string', demandOption: true, description: 'ACCOUNT:DRIVE to clone' })
      .option('name', { type: 'string', demandOption: true, description: 'Name of the new drive' })
      .option('to', { type: 'string', description: 'Create the clone in this account (ACCOUNT:) instead of the source account' }) as never,
  handler: async (args) => {
    const out = new Output(args);
    const loc = parseLocation(args.drive);
    if (loc.kind !== 'drive') throw new UsageError(`clone takes a drive (ACCOUNT:DRIVE), not ${args.drive}`);
    const destAccount = args.to ? args.to.replace(/:$/, '') : loc.account;
    const clients = new Clients(args.concurrency);
    try {
      const srcClient = await clients.get(loc.account);
      const dstClient = await clients.get(destAccount);
      const source = await resolveDrive(srcClient, loc.drive);
      if (cloneMethod(srcClient, dstClient) === 'imaging') {
        // Same account: the API images the drive itself, no bytes pass through us.
        const jobs = openJobsDb();
        const job = imagingJob(source, destAccount, args.name);
        const tty = !out.json && !out.quiet && process.stderr.isTTY;
        let result: ImagingCloneResult;
        try {
          result = await cloneByImaging({
            dest: dstClient,
            source,
            createTarget: async () => (await createOrAdoptDrive(dstClient, { account: destAccount, drive: args.name }, source.size, creationIn(jobs, () => job))).drive,
            finished: () => jobs.endJob(job.key),
            signal: stopSignal(),
            onPercent: (percent, drive) => {
              out.event({ event: 'imaging', drive: drive.uuid, percent });
              if (tty) process.stderr.write(`\rimaging ${percent}%   `);
            },
          });
        } finally {
          if (tty) process.stderr.write('\r');
          jobs.close();
        }
        const { drive: created, elapsedMs } = result;
        out.result(
          { method: 'imaging', source: source.uuid, drive: created.uuid, name: args.name, size: source.size, elapsedMs },
          `cloned ${args.drive} to ${destAccount}:${args.name} (${created.uuid}) by server-side imaging in ${formatDuration(elapsedMs)}`,
        );
        return;
      }
      const jobs = openJobsDb();
      const src = await openSource(`${loc.account}:${source.uuid}`, clients);
      const creation = creationIn(jobs, (description) => copyJob(src.source, description));
      const dst = await openSink(`${destAccount}:${args.name}`, clients, { createSize: source.size, creation });
      const view = progressView(out, `${destAccount}:${args.name}`);
      try {
        const result = await runOntoSink(dst, creation, (sink) =>
          copy({ source: src.source, sink, jobs, concurrency: args.concurrency, signal: stopSignal(), onProgress: (p) => view.update(p) }),
        );
        view.stop();
        const s = result.progress.snapshot();
        out.result(
          { method: 'copy', source: source.uuid, drive: dst.drive?.uuid, name: args.name, ...s },
          summarize(`cloned ${args.drive} to ${destAccount}:${args.name} (${dst.drive?.uuid}) by copying`, s),
        );
      } finally {
        view.stop();
        jobs.close();
      }
    } finally {
      await clients.close();
    }
  },
};
