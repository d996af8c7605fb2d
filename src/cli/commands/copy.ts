import type { CommandModule } from 'yargs';
import type { ApiClient } from '../../api/client.js';
import type { DriveInfo } from '../../api/drive-info.js';
import { parseLocation } from '../../config/locations.js';
import { repoFromEnv } from '../../config/env.js';
import { fileExists } from '../../engine/ends/file.js';
import type { BlockSink } from '../../engine/ends/types.js';
import { gzipCodecName } from '../../engine/codec.js';
import { DEFAULT_CHUNK_SIZE } from '../../engine/defaults.js';
import { type CopyResult, copy, copyJob } from '../../engine/jobs/copy.js';
import { HashPool } from '../../hashing/index.js';
import { nativeRangeIds } from '../../hashing/native.js';
import { type DriveState, type SourceBaseline, driveStateOf } from '../../ops/change-detection.js';
import { snapshotBaselines } from '../../ops/copy-baselines.js';
import { COPY_TABLE_FORM, type DriveKey, type TableForm, repositoryIdForm } from '../../ops/copy-record-store.js';
import {
  type CopyDirections,
  type CopyPlan,
  type RangeIds,
  copyBetweenDrives,
  copyPlanJson,
  describeCopyPlan,
  recordPossible,
} from '../../ops/copy-resync.js';
import { UsageError, errorMessage } from '../../errors.js';
import { type JobsDb, openJobsDb } from '../jobs-db.js';
import { Clients, creationIn, type OpenedSink, type OpenedSource, openSink, openSource, runOntoSink } from '../open-ends.js';
import { Output } from '../output.js';
import { stopSignal } from '../stop.js';
import { progressView, summarize } from '../progress-view.js';
import { compressLevel, concurrency, withNumbers } from '../options.js';
import { type RepoArgs, openRepository, withRepoOptions } from '../repo-context.js';
import type { Repository } from '../../repo/repository.js';

interface CopyArgs extends RepoArgs {
  src: string;
  dst: string;
  'to-new': boolean;
  verify: boolean;
  force: boolean;
  'compare-all': boolean;
  concurrency: number;
  compress: number;
  size?: string;
}

export const command: CommandModule<object, CopyArgs> = {
  command: 'copy <src> <dst>',
  describe:
    'Copy a drive or image onto another (any accounts, zones, providers); only differing ranges are written; resumable; a repeated copy between the same two drives reads only what changed',
  builder: (y) =>
    withRepoOptions(withNumbers(y, { concurrency: concurrency(), compress: compressLevel('gzip level for writes to a drive (0 = raw)') }))
      .positional('src', { type: 'string', demandOption: true, description: 'ACCOUNT:DRIVE, image file, or - (stdin)' })
      .positional('dst', { type: 'string', demandOption: true, description: 'ACCOUNT:DRIVE, ACCOUNT:NAME with --to-new, image file, or - (stdout)' })
      .option('repo', {
        type: 'string',
        description:
          'Repository whose snapshots of the source tell a repeated copy what changed on it (default: $DRIVESNAP_REPO; copy runs without one)',
      })
      .option('to-new', { type: 'boolean', default: false, description: 'Create the destination with the source size' })
      .option('size', {
        type: 'string',
        description: "With - as the source: the stream's size, bytes with optional k/M/G/T suffix (default: the existing target's size)",
      })
      .option('verify', { type: 'boolean', default: false, description: 'Read the destination back and compare' })
      .option('force', { type: 'boolean', default: false, description: 'Skip the check that no running server uses the target drive' })
      .option('compare-all', {
        type: 'boolean',
        default: false,
        description:
          'Read both drives in full and compare, even when the last copy between them (or a snapshot of the source in the repository) shows what changed',
      }) as never,
  handler: async (args) => {
    const out = new Output(args);
    const clients = new Clients(args.concurrency);
    const jobs = openJobsDb();
    const pool = new HashPool();
    try {
      if (args.verify && (args.src === '-' || args.dst === '-')) {
        throw new UsageError('--verify reads both ends again, and a stream (-) is read or written once: copy to or from a file to verify');
      }
      const src = await openSource(args.src, clients, { size: args.size });
      const dstLoc = parseLocation(args.dst);
      const creation = creationIn(jobs, (description) => copyJob(src.source, description));
      const create =
        args['to-new'] ||
        (dstLoc.kind === 'file' && (!(await fileExists(dstLoc.path)) || (!clients.streaming && creation.recall(dstLoc.path) !== undefined)));
      const dst = await openSink(args.dst, clients, {
        createSize: create ? src.source.size : undefined,
        force: args.force,
        compressLevel: args.compress,
        creation,
      });
      const view = progressView(out, args.dst);
      try {
        const runCopy = (d: Partial<CopyDirections>) =>
          runOntoSink(
            dst,
            creation,
            (sink) =>
              copy({ source: src.source, sink, jobs, concurrency: args.concurrency, verify: args.verify, onProgress: (p) => view.update(p), signal: stopSignal(), ...d }),
            src.source,
          );
        const dstClient = dstLoc.kind === 'drive' ? await clients.get(dstLoc.account) : undefined;
        // On the thread pool through the addon when it is there (ranges then sit in its aligned memory, which
        // the pool's workers cannot read: they would hash on this thread), else on the pool's workers.
        const hash = nativeRangeIds(undefined) ?? ((data: Buffer) => pool.hash(data));
        const ran = await runPlanned(args, { src, dst, dstClient, jobs, hash }, runCopy);
        view.stop();
        const { result, plan } = ran;
        const s = result.progress.snapshot();
        out.result(
          {
            source: args.src,
            target: args.dst,
            codec: gzipCodecName(),
            created: dst.created,
            drive: dst.drive?.uuid,
            verified: result.verified?.ranges,
            plan: copyPlanJson(plan),
            rangeIds: ran.rangeIds,
            sampledBytes: ran.sampledBytes,
            hashedBytes: result.hashedBytes,
            ...s,
          },
          summarize(`copied ${args.src} to ${args.dst}${dst.created ? ' (new)' : ''}`, s) +
            `\nplan: ${describeCopyPlan(plan)}` +
            `\nrecord for the next copy: ${RANGE_IDS[ran.rangeIds]}` +
            (result.verified ? `\nverified: all ${result.verified.ranges} ranges match the source` : ''),
        );
      } finally {
        view.stop();
        await src.source.close();
        await dst.sink.close();
      }
    } finally {
      await pool.close();
      jobs.close();
      await clients.close();
    }
  },
};

const RANGE_IDS: Record<RangeIds, string> = {
  hashed: 'kept (range ids hashed)',
  snapshot: 'kept (range ids from the source snapshot, a sample hashed)',
  none: 'none',
};

interface Ends {
  src: OpenedSource;
  dst: OpenedSink;
  dstClient: ApiClient | undefined;
  jobs: JobsDb;
  hash: (data: Buffer) => Promise<Buffer>;
}

/**
 * Between two API drives, the copy planned from what the last copy between them left (ops/copy-resync.ts);
 * an image file has no counters, so from or to one it is always today's full compare.
 */
async function runPlanned(
  args: CopyArgs,
  e: Ends,
  runCopy: (d: Partial<CopyDirections>) => Promise<CopyResult>,
): Promise<{ result: CopyResult; plan: CopyPlan; sampledBytes: number; rangeIds: RangeIds }> {
  const srcDrive: DriveInfo | undefined = e.src.drive;
  const dstDrive = e.dst.drive;
  if (!srcDrive || !e.src.client || !dstDrive || !e.dstClient) {
    const plan: CopyPlan = e.dst.created ? { kind: 'new-target' } : { kind: 'full-compare', reason: 'image-file' };
    return { result: await runCopy({}), plan, sampledBytes: 0, rangeIds: 'none' };
  }
  const sink: Pick<BlockSink, 'read'> = e.dst.sink;
  const source = { api: e.src.client, uuid: srcDrive.uuid, reader: e.src.source };
  // No record can come of this copy: nothing is hashed, so there is no form to hash in and no baseline to ask for.
  const repo = recordPossible(driveStateOf(srcDrive), driveStateOf(dstDrive)) ? await baselineRepository(args) : undefined;
  try {
    // With a repository, ranges are hashed as it hashes them, so its snapshots of the source can serve as baselines.
    const form = repo ? { form: repositoryIdForm(repo.config), hash: (data: Buffer) => repo.chunkId(data) } : { form: COPY_TABLE_FORM, hash: e.hash };
    const table = { chunkSize: DEFAULT_CHUNK_SIZE, form: form.form };
    const baselines = repo ? (state: DriveState) => repositoryBaselines(repo, { endpoint: source.api.url, uuid: source.uuid }, state, table) : undefined;
    return await copyBetweenDrives(
      {
        records: e.jobs,
        source,
        target: { api: e.dstClient, uuid: dstDrive.uuid, reader: sink },
        ...table,
        hash: form.hash,
        created: e.dst.created || e.dst.sink.startsZeroed,
        compareAll: args['compare-all'],
        baselines,
        signal: stopSignal(),
      },
      runCopy,
    );
  } finally {
    await repo?.close();
  }
}

/** The repository named (--repo or $DRIVESNAP_REPO), if any; one that cannot be opened only costs the shortcut it offers. */
async function baselineRepository(args: CopyArgs): Promise<Repository | undefined> {
  const location = args.repo ?? repoFromEnv();
  if (!location) return undefined;
  try {
    const repo = await openRepository(args);
    for (const w of repo.warnings) process.stderr.write(`warning: ${w}\n`);
    return repo;
  } catch (err) {
    if (stopSignal().aborted) throw err;
    process.stderr.write(`warning: cannot open the repository ${location} to find what changed on the source (${errorMessage(err)}): copying without it\n`);
    return undefined;
  }
}

async function repositoryBaselines(repo: Repository, source: DriveKey, state: DriveState, table: TableForm): Promise<SourceBaseline[]> {
  try {
    return await snapshotBaselines(repo, source, state, { ...table, signal: stopSignal() });
  } catch (err) {
    if (stopSignal().aborted) throw err;
    process.stderr.write(`warning: the repository ${repo.location} gave no snapshot of the source (${errorMessage(err)}): reading the source in full\n`);
    return [];
  }
}
