import type { CommandModule } from 'yargs';
import { resolveDrive } from '../../config/locations.js';
import { parseLocation } from '../../config/locations.js';
import { UsageError } from '../../errors.js';
import { copy, copyJob } from '../../engine/jobs/copy.js';
import { RepoIndex } from '../../repo/index-db.js';
import { jobsIndexPath } from '../jobs-db.js';
import { Clients, createOrAdoptDrive, creationIn, openSink, openSource, runOntoSink } from '../open-ends.js';
import type { ApiClient } from '../../api/client.js';
import type { DriveInfo } from '../../api/drive-info.js';
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
      if (srcClient.url === dstClient.url && srcClient.user === dstClient.user) {
        // Same account: the API images the drive itself, no bytes pass through us.
        const started = Date.now();
        // Recorded before the drive is created: a rerun after a kill images into that drive again.
        const jobs = RepoIndex.open(jobsIndexPath());
        const job = { key: `clone:${source.uuid}:${destAccount}:${args.name}`, info: { size: source.size } };
        let created: DriveInfo;
        try {
          ({ drive: created } = await createOrAdoptDrive(dstClient, { account: destAccount, drive: args.name }, source.size, creationIn(jobs, () => job)));
          await imageAndWait(dstClient, created.uuid, source.uuid, out);
          jobs.endJob(job.key);
        } finally {
          jobs.close();
        }
        out.result(
          { method: 'imaging', source: source.uuid, drive: created.uuid, name: args.name, size: source.size, elapsedMs: Date.now() - started },
          `cloned ${args.drive} to ${destAccount}:${args.name} (${created.uuid}) by server-side imaging in ${formatDuration(Date.now() - started)}`,
        );
        return;
      }
      const jobs = RepoIndex.open(jobsIndexPath());
      const src = await openSource(`${loc.account}:${source.uuid}`, clients);
      const creation = creationIn(jobs, (description) => copyJob(src.source, description));
      const dst = await openSink(`${destAccount}:${args.name}`, clients, { createSize: source.size, creation });
      const view = progressView(out, `${destAccount}:${args.name}`);
      try {
        const result = await runOntoSink(dst, creation, (sink) =>
          copy({ source: src.source, sink, jobs, concurrency: args.concurrency, onProgress: (p) => view.update(p) }),
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

/** Server-side imaging of `source` into `drive`, with its percentage shown as it goes. */
async function imageAndWait(client: ApiClient, drive: string, source: string, out: Output): Promise<void> {
  await client.imageDrive(drive, source);
  let last = -1;
  await client.waitForImaging(drive, (percent) => {
    if (percent !== undefined && percent !== last) {
      last = percent;
      out.event({ event: 'imaging', drive, percent });
      if (!out.json && !out.quiet && process.stderr.isTTY) process.stderr.write(`\rimaging ${percent}%   `);
    }
  });
  if (!out.json && !out.quiet && process.stderr.isTTY) process.stderr.write('\r');
}
