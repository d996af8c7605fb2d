import type { CommandModule } from 'yargs';
import { parseLocation } from '../../config/locations.js';
import { fileExists } from '../../engine/ends/file.js';
import { gzipCodecName } from '../../engine/codec.js';
import { copy, copyJob } from '../../engine/jobs/copy.js';
import { openJobsDb } from '../jobs-db.js';
import { Clients, creationIn, openSink, openSource, runOntoSink } from '../open-ends.js';
import { Output } from '../output.js';
import { stopSignal } from '../stop.js';
import { progressView, summarize } from '../progress-view.js';
import { compressLevel, concurrency, withNumbers } from '../options.js';

interface CopyArgs {
  src: string;
  dst: string;
  'to-new': boolean;
  verify: boolean;
  force: boolean;
  concurrency: number;
  compress: number;
  json?: boolean;
  quiet?: boolean;
}

export const command: CommandModule<object, CopyArgs> = {
  command: 'copy <src> <dst>',
  describe: 'Copy a drive or image onto another (any accounts, zones, providers); only differing ranges are written; resumable',
  builder: (y) =>
    withNumbers(y, { concurrency: concurrency(), compress: compressLevel('gzip level for writes to a drive (0 = raw)') })
      .positional('src', { type: 'string', demandOption: true, description: 'ACCOUNT:DRIVE or image file' })
      .positional('dst', { type: 'string', demandOption: true, description: 'ACCOUNT:DRIVE, ACCOUNT:NAME with --to-new, or image file' })
      .option('to-new', { type: 'boolean', default: false, description: 'Create the destination with the source size' })
      .option('verify', { type: 'boolean', default: false, description: 'Read the destination back and compare' })
      .option('force', { type: 'boolean', default: false, description: 'Skip the check that no running server uses the target drive' }) as never,
  handler: async (args) => {
    const out = new Output(args);
    const clients = new Clients(args.concurrency);
    const jobs = openJobsDb();
    try {
      const src = await openSource(args.src, clients);
      const dstLoc = parseLocation(args.dst);
      const creation = creationIn(jobs, (description) => copyJob(src.source, description));
      const create =
        args['to-new'] || (dstLoc.kind === 'file' && (!(await fileExists(dstLoc.path)) || creation.recall(dstLoc.path) !== undefined));
      const dst = await openSink(args.dst, clients, {
        createSize: create ? src.source.size : undefined,
        force: args.force,
        compressLevel: args.compress,
        creation,
      });
      const view = progressView(out, args.dst);
      try {
        const result = await runOntoSink(dst, creation, (sink) =>
          copy({ source: src.source, sink, jobs, concurrency: args.concurrency, verify: args.verify, onProgress: (p) => view.update(p), signal: stopSignal() }),
        );
        view.stop();
        const s = result.progress.snapshot();
        out.result(
          { source: args.src, target: args.dst, codec: gzipCodecName(), created: dst.created, drive: dst.drive?.uuid, verified: result.verified?.ranges, ...s },
          summarize(`copied ${args.src} to ${args.dst}${dst.created ? ' (new)' : ''}`, s) +
            (result.verified ? `\nverified: all ${result.verified.ranges} ranges match the source` : ''),
        );
      } finally {
        view.stop();
        await src.source.close();
        await dst.sink.close();
      }
    } finally {
      jobs.close();
      await clients.close();
    }
  },
};
